/**
 * MCP_SYSTEM_PACKAGES and MCP_BUILD_PACKAGES: Debian package names the owner
 * gives. One table of names holds the CLI's rule (settings/debian-packages.ts)
 * and the build's own check (docker/common/build/package-names, run for real)
 * equal; then the build arguments: sent only when set, as a clean list.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildArgs } from '../../package_scripts/docker/argv.js';
import { instanceNames } from '../../package_scripts/docker/names.js';
import { UsageError } from '../../package_scripts/errors.js';
import { DEBIAN_PACKAGE_NAME, packageListIssue, packageNames } from '../../package_scripts/settings/debian-packages.js';
import { containerModule } from './container-module.js';
import { settingsOf } from './export-fixture.js';
import { repoRoot } from './project-fixture.js';

/** [a list as the owner writes it, the names it means, or undefined when it must be refused]. */
const CASES: Array<[string, string[] | undefined]> = [
  ['chromium', ['chromium']],
  ['chromium,procps', ['chromium', 'procps']],
  [' python3 , make,g++ ', ['python3', 'make', 'g++']],
  ['libstdc++6,fonts-liberation,lib32z1', ['libstdc++6', 'fonts-liberation', 'lib32z1']],
  ['procps,procps,,', ['procps']],
  ['x11-utils,libc6.1', ['x11-utils', 'libc6.1']],
  ['', []],
  // Not names: a leading "-" would be an apt option, "=" and "/" pin a version or a release, the rest is not Debian's grammar.
  ['-o', undefined],
  ['chromium,--allow-unauthenticated', undefined],
  ['g++=4:12.2.0-3', undefined],
  ['chromium/bookworm-backports', undefined],
  ['./local.deb', undefined],
  ['Chromium', undefined],
  ['a', undefined],
  ['+plus', undefined],
  ['chromium procps', undefined],
  ['chromium;rm', undefined],
  ['chrom*', undefined],
  ['$(id)', undefined],
  ['pkg:amd64', undefined],
  ['ok,bad\nline', undefined],
];

const packageNamesScript = join(repoRoot, 'docker', 'common', 'build', 'package-names');
/** The build's check, as setup-os and setup-install-stage run it. */
function buildCheck(list: string, cwd?: string): { status: number | null; names: string[]; stderr: string } {
  const run = spawnSync(packageNamesScript, ['MCP_SYSTEM_PACKAGES', list], { encoding: 'utf8', cwd });
  return { status: run.status, names: run.stdout.split('\n').filter(Boolean), stderr: run.stderr };
}

describe('Debian package names: one rule for the CLI and the build (package-names)', () => {
  for (const [list, names] of CASES) {
    it(`${JSON.stringify(list)} ${names ? 'means ' + JSON.stringify(names) : 'is refused'}`, () => {
      assert.equal(packageListIssue('MCP_SYSTEM_PACKAGES', list) === undefined, names !== undefined);
      const build = buildCheck(list);
      if (names) {
        assert.deepEqual(packageNames(list), names);
        assert.deepEqual(build, { status: 0, names, stderr: '' });
      } else {
        assert.equal(build.status, 2, build.stderr);
        assert.deepEqual(build.names, [], 'nothing is printed for apt-get once a name is bad');
        assert.match(build.stderr, /^MCP_SYSTEM_PACKAGES: '.*' is not a Debian package name/s);
      }
    });
  }

  it('a "*" is never a file name for the build check (a folder holding a file that would match)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-package-glob-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'chromium'), '');
    assert.equal(buildCheck('chrom*', dir).status, 2);
    assert.equal(DEBIAN_PACKAGE_NAME.test('chrom*'), false);
  });
});

describe('the settings: exit 2 with the setting, the bad name and the fix', () => {
  for (const setting of ['MCP_SYSTEM_PACKAGES', 'MCP_BUILD_PACKAGES'] as const) {
    it(`${setting}=chromium,--force-yes is a UsageError naming both`, () => {
      assert.throws(
        () => settingsOf({ [setting]: 'chromium,--force-yes' }),
        (error: unknown) =>
          error instanceof UsageError &&
          error.exitCode === 2 &&
          error.message.includes(`${setting} must be a comma-separated list of Debian package names`) &&
          error.message.includes("'--force-yes' is not one") &&
          error.message.includes('apt-cache search'),
      );
    });
  }
});

describe('the build arguments: only the image that asks gets packages', () => {
  const contextDir = '/ctx';
  const argsOf = (raw: Record<string, string>) => {
    const settings = settingsOf(raw);
    return buildArgs(settings, instanceNames(settings.NAME), { contextDir, noCache: false, serverSpec: 'npm:x' });
  };
  const buildArgValues = (args: string[]) => args.flatMap((arg, i) => (args[i - 1] === '--build-arg' ? [arg] : []));

  it('none set: neither build argument is sent, so the image keeps its cache and gets no package', () => {
    const values = buildArgValues(argsOf({}));
    assert.ok(values.length > 3, 'the other build arguments are there (control)');
    assert.deepEqual(
      values.filter((v) => /^MCP_(SYSTEM|BUILD)_PACKAGES=/.test(v)),
      [],
    );
  });

  it('set: each goes to its own build argument as a clean comma-separated list', () => {
    const values = buildArgValues(argsOf({ MCP_SYSTEM_PACKAGES: ' chromium , procps,chromium', MCP_BUILD_PACKAGES: 'python3,make,g++' }));
    assert.ok(values.includes('MCP_SYSTEM_PACKAGES=chromium,procps'), values.join(' '));
    assert.ok(values.includes('MCP_BUILD_PACKAGES=python3,make,g++'), values.join(' '));
  });
});

describe("node-gyp finds the base image's Node headers (installer.mjs nodeHeadersEnv)", async () => {
  const { nodeHeadersEnv } = await containerModule('build/server/installer.mjs');
  const root = mkdtempSync(join(tmpdir(), 'mcp-node-headers-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('no headers in the image: nothing is set (node-gyp downloads them, as before)', () => {
    assert.deepEqual(nodeHeadersEnv(root), {});
  });

  it('headers in /usr/local/include/node: npm hands npm_config_nodedir=/usr/local to node-gyp', () => {
    mkdirSync(join(root, 'usr/local/include/node'), { recursive: true });
    writeFileSync(join(root, 'usr/local/include/node/common.gypi'), '{}');
    assert.deepEqual(nodeHeadersEnv(root), { npm_config_nodedir: '/usr/local' });
  });
});
