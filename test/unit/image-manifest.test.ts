import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { execa } from 'execa';
import { describeEntry, manifestDifferences, manifestOfTar } from '../e2e/image-manifest.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-manifest-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('the image manifest (tar reader of the install-time e2e test)', () => {
  it('reads files, folders, links, owners, special bits and long names from GNU tar in pax and gnu formats', async () => {
    const tree = join(root, 'tree');
    const longDir = join(tree, 'a'.repeat(90), 'b'.repeat(90));
    mkdirSync(longDir, { recursive: true });
    writeFileSync(join(tree, 'plain.txt'), 'hello');
    writeFileSync(join(longDir, 'deep.txt'), 'deep');
    writeFileSync(join(tree, 'suid'), 'x');
    chmodSync(join(tree, 'suid'), 0o4755);
    symlinkSync('/etc/passwd', join(tree, 'link'));
    linkSync(join(tree, 'plain.txt'), join(tree, 'hard.txt'));
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    // ustar cannot hold the 190-character path; pax (what docker export writes) and gnu can.
    for (const format of ['pax', 'gnu']) {
      const file = join(root, `${format}.tar`);
      await execa('tar', ['--format', format, '--owner=0', '--group=0', '-cf', file, '-C', tree, '.']);
      const manifest = manifestOfTar(file);
      const [stored, linked] = manifest.get('/plain.txt')?.type === 'file' ? ['/plain.txt', '/hard.txt'] : ['/hard.txt', '/plain.txt'];
      assert.equal(describeEntry(stored, manifest.get(stored)), `${stored} file 0:0 0644 ${sha('hello')}`, format);
      assert.deepEqual([manifest.get(linked)?.type, manifest.get(linked)?.content], ['hardlink', `.${stored}`], format);
      assert.equal(manifest.get(`/${'a'.repeat(90)}/${'b'.repeat(90)}/deep.txt`)?.content, sha('deep'), format);
      assert.equal(manifest.get('/suid')?.mode, 0o4755, format);
      assert.deepEqual([manifest.get('/link')?.type, manifest.get('/link')?.content], ['symlink', '/etc/passwd'], format);
      assert.equal(manifest.get('/')?.type ?? manifest.get('')?.type, 'dir', format);
    }
  });

  it('lists differences only where the filter says, both ways', () => {
    const entry = { type: 'file' as const, uid: 0, gid: 0, mode: 0o644, content: 'x' };
    const a = new Map([
      ['/etc/passwd', entry],
      ['/opt/mcp-server/x', entry],
    ]);
    const b = new Map([
      ['/etc/passwd', { ...entry, content: 'y' }],
      ['/opt/mcp-server/y', entry],
    ]);
    assert.deepEqual(
      manifestDifferences(a, b, (p) => !p.startsWith('/opt/mcp-server')),
      ['- /etc/passwd file 0:0 0644 x\n+ /etc/passwd file 0:0 0644 y'],
    );
    assert.equal(manifestDifferences(a, b, () => true).length, 3);
  });
});
