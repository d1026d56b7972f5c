import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stageBuildContext } from '../../package_scripts/docker/context.js';
import { firstOutwardLink } from '../../package_scripts/docker/pack-npm-folder.js';
import { UsageError } from '../../package_scripts/errors.js';
import { resolveSettings } from '../../package_scripts/settings/load.js';
import { makeProjectDir } from './project-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-pack-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const OUTSIDE_MARKER = 'OUTSIDE-MARKER-7f3a';
const INSIDE_MARKER = 'INSIDE-MARKER-91c2';

/** A host folder the server's repository must never reach: it stands for ~/.ssh. */
const outside = join(root, 'home-ssh');
mkdirSync(outside);
writeFileSync(join(outside, 'id_rsa'), `${OUTSIDE_MARKER}\n`);

const project = makeProjectDir(join(root, 'project'));
for (const dir of ['build-extra/ca', 'build-extra/server', 'docker']) mkdirSync(join(project, dir), { recursive: true });
writeFileSync(join(project, 'Dockerfile'), 'FROM scratch\n');

/** An npm server folder: `bundled` names go into bundleDependencies; `links` are node_modules/<name> -> target. */
function serverFolder(name: string, bundled: string[], links: Record<string, string>): string {
  const folder = join(root, name);
  mkdirSync(join(folder, 'node_modules'), { recursive: true });
  const dependencies = Object.fromEntries(Object.keys(links).map((n) => [n, '*']));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name, version: '1.0.0', dependencies, bundleDependencies: bundled }));
  writeFileSync(join(folder, 'index.js'), `// ${INSIDE_MARKER}\n`);
  for (const [dep, target] of Object.entries(links)) symlinkSync(target, join(folder, 'node_modules', dep));
  return folder;
}

async function stage(folder: string) {
  const envFile = join(project, '.env');
  const settings = resolveSettings({ ACCESS_TOKEN: 'ab'.repeat(32), MCP_SERVER: folder }, envFile, { hostEnv: { HOME: root }, projectDir: project });
  return stageBuildContext(settings, project);
}

/** Every byte of every file under `dir`, tarballs unpacked: is the marker anywhere? */
function holdsMarker(dir: string, marker: string): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const text = path.endsWith('.tgz') ? execFileSync('tar', ['-xzOf', path]).toString() : readFileSync(path, 'utf8');
    if (text.includes(marker)) return true;
  }
  return false;
}

describe('packing a local npm folder never follows a link out of it', () => {
  it('refuses a bundled dependency that links outside the folder, naming the link and the fix; no context is left', async () => {
    // The attack: node_modules/x -> a host folder, x in bundleDependencies. npm packs the target's files.
    const folder = serverFolder('bundles-outside', ['x'], { x: outside });
    let stagedDir: string | undefined;
    const before = new Set(readdirSync(tmpdir()));
    await assert.rejects(
      stage(folder).then((s) => (stagedDir = s.dir)),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, String(error));
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /MCP_SERVER: the folder .* links outside itself: node_modules\/x -> /);
        assert.ok(error.message.includes(outside), error.message);
        assert.match(error.hint ?? '', /replace the link with a copy .* or remove its name from "bundleDependencies"/);
        assert.ok(!error.message.includes(OUTSIDE_MARKER));
        return true;
      },
    );
    assert.equal(stagedDir, undefined);
    const leftover = readdirSync(tmpdir()).filter((n) => n.startsWith('mcp-sandbox-build-') && !before.has(n));
    assert.deepEqual(leftover, [], 'the staged context, tarball included, is removed');
  });

  it('refuses a relative link that climbs out (../../..), as a cloned repository would commit it', async () => {
    const folder = serverFolder('bundles-relative', ['x'], { x: '../../home-ssh' });
    await assert.rejects(stage(folder), /node_modules\/x -> .*home-ssh/);
  });

  it('control: files inside the folder are packed, a bundled dependency linked inside included; an unbundled outward link is not read', async () => {
    const folder = serverFolder('bundles-inside', ['x'], { x: '../vendor/x', y: outside });
    mkdirSync(join(folder, 'vendor', 'x'), { recursive: true });
    writeFileSync(join(folder, 'vendor', 'x', 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0' }));
    writeFileSync(join(folder, 'vendor', 'x', 'lib.js'), `// bundled ${INSIDE_MARKER}\n`);
    const staged = await stage(folder);
    try {
      const tarball = readdirSync(join(staged.dir, 'build-extra/server')).find((f) => f.endsWith('.tgz'));
      assert.equal(staged.serverSpec, `npm:./${tarball}`);
      const listing = execFileSync('tar', ['-tzf', join(staged.dir, 'build-extra/server', tarball!)]).toString();
      assert.match(listing, /package\/index\.js/);
      assert.match(listing, /package\/node_modules\/x\/lib\.js/);
      assert.ok(holdsMarker(staged.dir, INSIDE_MARKER), 'the inside files are in the context');
      assert.ok(!holdsMarker(staged.dir, OUTSIDE_MARKER), 'the outside marker is in no tarball and nowhere in the context');
    } finally {
      staged.dispose();
    }
  });
});

describe('firstOutwardLink', () => {
  it('names the first link on a path that resolves outside, and passes paths inside', () => {
    const folder = serverFolder('paths', [], { out: outside, in: '../vendor' });
    mkdirSync(join(folder, 'vendor'));
    writeFileSync(join(folder, 'vendor', 'a.js'), '');
    assert.equal(firstOutwardLink(folder, ['index.js', 'node_modules/in/a.js']), undefined);
    assert.deepEqual(firstOutwardLink(folder, ['index.js', 'node_modules/out/id_rsa']), { link: 'node_modules/out', target: outside });
    assert.equal(firstOutwardLink(folder, ['node_modules/gone.js'])?.link, 'node_modules/gone.js', 'a path the folder does not hold is refused');
    assert.ok(existsSync(join(folder, 'index.js')));
  });
});
