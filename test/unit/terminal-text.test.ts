import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { visible, visibleStream } from '../../package_scripts/terminal-text.js';

/** What a terminal acts on: ESC, BEL, a CR not followed by LF, C0 but LF/TAB, DEL, C1, bidi overrides. */
// eslint-disable-next-line no-control-regex -- the characters under test
const ACTIVE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/;

describe('visible: untrusted text cannot steer the terminal', () => {
  it('control: plain text, LF, TAB, CRLF, backslashes and non-Latin text pass unchanged', () => {
    for (const text of ['[mcp] ready on stdio', 'a\tb\nc\r\n', 'C:\\path\\u001b', 'こんにちは – ünïcødé ✓', '\u200e marks \u200f', '']) {
      assert.equal(visible(text), text);
    }
  });

  it('an OSC 52 clipboard write is shown, not run', () => {
    const osc52 = '\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07';
    assert.equal(visible(osc52), '\\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\u0007');
  });

  it('a bare CR cannot overwrite a line with a forged one', () => {
    const forged = 'noise\r[gateway] public URL: https://evil.example';
    assert.equal(visible(forged), 'noise\\u000d[gateway] public URL: https://evil.example');
    assert.equal(visible('end\r'), 'end\\u000d');
  });

  it('CSI, the one-character C1 forms, DEL, NUL and the bidi overrides are shown as escapes', () => {
    assert.equal(visible('\x1b[2J\x1b[H'), '\\u001b[2J\\u001b[H');
    assert.equal(visible('\x9b2J\x9d0;title\x9c'), '\\u009b2J\\u009d0;title\\u009c');
    assert.equal(visible('a\x7fb\x00c\x08d'), 'a\\u007fb\\u0000c\\u0008d');
    assert.equal(visible('tool\u202egpj.exe'), 'tool\\u202egpj.exe');
    assert.equal(visible('\u2066x\u2069'), '\\u2066x\\u2069');
  });

  it('no code point of the active ranges survives', () => {
    let all = '';
    for (let c = 0; c <= 0x9f; c++) all += String.fromCharCode(c);
    for (let c = 0x2000; c <= 0x206f; c++) all += String.fromCharCode(c);
    assert.doesNotMatch(visible(all), ACTIVE);
  });

  it('inside JSON the escape decodes to the original character (status --json stays valid JSON)', () => {
    const name = 'evil\u202e\x85\x1b]0;t\x07';
    const printed = visible(JSON.stringify({ tools: [name] }));
    assert.doesNotMatch(printed, ACTIVE);
    assert.deepEqual(JSON.parse(printed), { tools: [name] });
  });
});

describe('visibleStream', () => {
  it('renders across chunk boundaries: a split UTF-8 character, a CR then LF in the next chunk, a CR at the very end', () => {
    const out: string[] = [];
    const stream = visibleStream((t) => out.push(t));
    const bytes = Buffer.from('ok ✓ line\r');
    stream.push(bytes.subarray(0, 5)); // "ok " and half of ✓
    stream.push(bytes.subarray(5));
    stream.push(Buffer.from('\nnext\r'));
    stream.push(Buffer.from('[gateway] forged\x1b]52;c;eA==\x07'));
    stream.push(Buffer.from('tail\r'));
    stream.end();
    assert.equal(out.join(''), 'ok ✓ line\r\nnext\\u000d[gateway] forged\\u001b]52;c;eA==\\u0007tail\\u000d');
  });

  it('with dropColours, removes colour changes (also split across chunks) and still shows every other control', () => {
    const out: string[] = [];
    const stream = visibleStream((t) => out.push(t), { dropColours: true });
    stream.push('\x1b[91mnpm error code 1\n\x1b[0m\x1b');
    stream.push('[91mnpm error noisy\x1b]52;c;eA==\x07\r[gateway] forged\n\x1b[');
    stream.push('0m\x1b[2Jdone\n');
    stream.end();
    assert.equal(out.join(''), 'npm error code 1\nnpm error noisy\\u001b]52;c;eA==\\u0007\\u000d[gateway] forged\n\\u001b[2Jdone\n');
  });

  it('without dropColours, a colour change is shown like any other escape (logs keep every byte in view)', () => {
    const out: string[] = [];
    const stream = visibleStream((t) => out.push(t));
    stream.push('\x1b[91mred\x1b[0m\n');
    stream.end();
    assert.equal(out.join(''), '\\u001b[91mred\\u001b[0m\n');
  });
});
