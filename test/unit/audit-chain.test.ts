/**
 * The audit trail's chain rule (docker/common/runtime/js/audit-chain.cjs), as
 * the gateway loads it and through the CLI's wrapper (instance/audit-chain.ts):
 * an intact chain passes (the control), and each way of breaking it is found
 * and named by file and line: an edited line (in the middle and at the end), a
 * removed line, two lines swapped, a damaged line; rotation keeps the chain.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GENESIS, canonicalJson, sealRecord, verifyAuditFiles, type AuditFile } from '../../package_scripts/instance/audit-chain.js';
import { containerModule } from './container-module.js';

const gatewayChain = await containerModule('runtime/js/audit-chain.cjs');

/** n sealed lines, the first following `prev`/`seq`. */
function lines(n: number, prev = GENESIS, seq = 1): { rows: string[]; hash: string; seq: number } {
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const sealed = sealRecord({ event: 'tools/call', tool: `t${seq}`, args: { b: 1, a: [seq, { z: 'x', y: null }] } }, prev, seq);
    rows.push(sealed.line);
    prev = sealed.hash;
    seq++;
  }
  return { rows, hash: prev, seq };
}
const file = (name: string, rows: string[]): AuditFile => ({ name, text: rows.map((r) => `${r}\n`).join('') });

describe('the audit chain', () => {
  it('canonical JSON sorts keys at every depth, drops undefined fields, and is what the gateway computes', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } }), '{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
    assert.equal(canonicalJson({ b: 1, a: 2 }), gatewayChain.canonicalJson({ a: 2, b: 1 }));
    assert.equal(gatewayChain.sealRecord({ x: 1 }, GENESIS, 1).line, sealRecord({ x: 1 }, GENESIS, 1).line);
  });

  it('an intact chain passes: the control', () => {
    const report = verifyAuditFiles([file('audit.jsonl', lines(5).rows)]);
    assert.deepEqual(report.breaks, []);
    assert.equal(report.ok, true);
    assert.equal(report.lines, 5);
    assert.equal(report.startsAtGenesis, true);
    assert.equal(report.lastSeq, 5);
  });

  it('an edited line in the middle fails its own hash, named by file and line', () => {
    const { rows } = lines(5);
    rows[2] = rows[2]!.replace('"tool":"t3"', '"tool":"tX"');
    const report = verifyAuditFiles([file('audit.jsonl', rows)]);
    assert.equal(report.ok, false);
    assert.deepEqual(report.breaks, [{ file: 'audit.jsonl', line: 3, seq: 3, problem: 'edited: its content does not match its hash' }]);
  });

  it('an edited last line is found too (its own hash), and one with its hash recomputed breaks the next line', () => {
    const { rows } = lines(3);
    rows[2] = rows[2]!.replace('"tool":"t3"', '"tool":"tX"');
    assert.equal(verifyAuditFiles([file('a', rows)]).breaks[0]?.line, 3);
    const again = lines(3).rows;
    const forged = JSON.parse(again[1]!);
    const { hash: _old, ...body } = { ...forged, tool: 'tX' };
    again[1] = sealRecord(Object.fromEntries(Object.entries(body).filter(([k]) => !['seq', 'prev'].includes(k))), forged.prev, 2).line;
    const report = verifyAuditFiles([file('a', again)]);
    assert.deepEqual(
      report.breaks.map((b) => [b.line, b.problem]),
      [[3, 'does not follow the line before it (that line was edited or replaced)']],
    );
  });

  it('a removed line breaks the chain at the line after it, naming what is missing', () => {
    const { rows } = lines(5);
    rows.splice(1, 1);
    const report = verifyAuditFiles([file('audit.jsonl', rows)]);
    assert.deepEqual(report.breaks, [{ file: 'audit.jsonl', line: 2, seq: 3, problem: '1 line removed before it (line 2)' }]);
  });

  it('two lines swapped break the chain', () => {
    const { rows } = lines(5);
    [rows[1], rows[2]] = [rows[2]!, rows[1]!];
    const report = verifyAuditFiles([file('audit.jsonl', rows)]);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.breaks.map((b) => b.line),
      [2, 3, 4],
    );
    assert.match(report.breaks[1]!.problem, /out of order: line 2 after line 3/);
  });

  it('a damaged line (not JSON) is a break', () => {
    const { rows } = lines(3);
    rows[1] = rows[1]!.slice(0, 20);
    const report = verifyAuditFiles([file('audit.jsonl', rows)]);
    assert.equal(report.breaks[0]?.line, 2);
    assert.match(report.breaks[0].problem, /not JSON/);
  });

  it('the chain continues across rotated files; a line removed at a file boundary is found', () => {
    const first = lines(3);
    const second = lines(3, first.hash, first.seq);
    const intact = verifyAuditFiles([file('audit.jsonl.1', first.rows), file('audit.jsonl', second.rows)]);
    assert.equal(intact.ok, true);
    assert.equal(intact.lines, 6);
    const cut = verifyAuditFiles([file('audit.jsonl.1', first.rows.slice(0, 2)), file('audit.jsonl', second.rows)]);
    assert.deepEqual(cut.breaks, [{ file: 'audit.jsonl', line: 1, seq: 4, problem: '1 line removed before it (line 3)' }]);
  });

  it('older files rotated away: the chain checks from the oldest kept line, and says it does not start at the beginning', () => {
    const first = lines(3);
    const second = lines(3, first.hash, first.seq);
    const report = verifyAuditFiles([file('audit.jsonl', second.rows)]);
    assert.equal(report.ok, true);
    assert.equal(report.startsAtGenesis, false);
    assert.equal(report.firstSeq, 4);
  });

  it('a record may not set the chain fields itself', () => {
    assert.throws(() => sealRecord({ hash: 'x' }, GENESIS, 1), /may not carry 'hash'/);
  });

  it('chainTail finds where a writer continues, past a damaged last line', () => {
    const { rows, hash } = lines(3);
    assert.deepEqual(gatewayChain.chainTail(`${rows.join('\n')}\n{"half`), { hash, seq: 3 });
    assert.equal(gatewayChain.chainTail(''), undefined);
  });
});
