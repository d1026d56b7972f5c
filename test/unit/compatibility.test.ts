/**
 * docs/COMPATIBILITY.md: its "Offline: yes" rows are exactly the npm servers the
 * end-to-end suite runs. Each such row names an e2e file that runs that very
 * version (the default server through its own check, assertServesDefaultServer),
 * and every npm:NAME@VERSION an e2e file installs has such a row.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_NPM_MCP } from '../../package_scripts/settings/schema.js';
import { repoRoot } from './project-fixture.js';

interface Row {
  server: string;
  version: string;
  offline: string;
  testedBy: string;
}

const unquote = (cell: string) => cell.trim().replace(/^`|`$/g, '');
const rows: Row[] = readFileSync(join(repoRoot, 'docs', 'COMPATIBILITY.md'), 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => {
    const [server = '', version = '', , offline = '', testedBy = ''] = line.split('|').slice(1, -1);
    return { server: unquote(server), version: unquote(version), offline: offline.trim(), testedBy: unquote(testedBy) };
  });
const e2eDir = join(repoRoot, 'test', 'e2e');
const e2eSources = readdirSync(e2eDir)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file: `test/e2e/${file}`, text: readFileSync(join(e2eDir, file), 'utf8') }));
const offline = rows.filter((row) => row.offline === 'yes');

describe('docs/COMPATIBILITY.md: the offline rows are the servers the e2e suite runs', () => {
  it('the table was read (control)', () => {
    assert.ok(rows.length >= 5, `${rows.length} rows`);
    assert.ok(offline.length >= 2);
  });

  for (const row of offline) {
    it(`${row.server}@${row.version} is run by ${row.testedBy}`, () => {
      const source = e2eSources.find((s) => s.file === row.testedBy);
      assert.ok(source, `${row.testedBy} is an e2e file`);
      const spec = `${row.server}@${row.version}`;
      if (spec === DEFAULT_NPM_MCP) {
        assert.match(source.text, /assertServesDefaultServer\(/, 'the default server, checked by its own tool');
      } else {
        assert.ok(source.text.includes(`npm:${spec}`), `${row.testedBy} installs npm:${spec}`);
      }
    });
  }

  it('every npm server an e2e file installs has an offline row', () => {
    const installed = new Set(e2eSources.flatMap((s) => [...s.text.matchAll(/npm:(@?[a-z0-9][\w./-]*@\d[\w.-]*)/g)].map((m) => m[1]!)));
    assert.ok(installed.size > 0, 'control: the e2e files were read');
    for (const spec of installed) {
      assert.ok(
        offline.some((row) => `${row.server}@${row.version}` === spec),
        `${spec} runs in the e2e suite: add it to docs/COMPATIBILITY.md as offline`,
      );
    }
  });
});
