/**
 * MCP_SYSTEM_PACKAGES: Debian packages the owner names, installed into the
 * image at build time. With procps (the `ps` chrome-devtools-mcp calls) and
 * sudo (a package that ships a setuid-root program, the attack this guards
 * against) in the image, the whole escape battery still passes; the server can
 * use what was installed; sudo lost its setuid bit and cannot make it root;
 * the CLI prints the versions installed, from the image's record, even when
 * the build came from the cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sandboxBattery, startNginxBattery, stopBattery, type BatteryContext } from './battery.js';
import { callJson, cli, docker, onEngine } from './harness.js';

const PACKAGES = 'procps,sudo';

describe(onEngine("MCP_SYSTEM_PACKAGES=procps,sudo: the escape battery with the owner's packages in the image"), { timeout: 1_200_000 }, () => {
  let context: BatteryContext;
  const target = 'mcps-e2e-syspkg-target';

  before(async () => {
    context = await startNginxBattery('mcps-e2e-syspkg', target, { MCP_SYSTEM_PACKAGES: PACKAGES });
  });

  after(() => stopBattery(context, target));

  sandboxBattery(() => context);

  test('the server uses a program the owner installed (ps from procps)', async () => {
    const ps = await callJson(context.client, 'run_binary', { path: '/usr/bin/ps', args: ['-o', 'user=,comm=', '-u', 'mcp'] });
    assert.equal(ps.status, 0, JSON.stringify(ps));
    assert.match(ps.stdout, /^mcp\s+\S+/m);
  });

  test("sudo from the owner's package: installed, its setuid bit removed, and it does not make the server root", async () => {
    const mode = await docker(['exec', context.instance.name, 'stat', '-c', '%a %U', '/usr/bin/sudo']);
    assert.equal(mode.exitCode, 0, 'control: the package is in the image');
    assert.equal(mode.stdout.trim(), '755 root', 'Debian ships it 4755: the bit is gone');
    const sudo = await callJson(context.client, 'run_binary', { path: '/usr/bin/sudo', args: ['-n', 'id', '-u'] });
    assert.notEqual(sudo.status, 0, JSON.stringify(sudo));
    assert.notEqual(sudo.stdout.trim(), '0');
  });

  test('the build record: the image keeps NAME=VERSION per package, and `build` prints it even from the cache', async () => {
    const record = await docker(['exec', context.instance.name, 'cat', '/opt/sandbox/build/system-packages']);
    assert.equal(record.exitCode, 0, record.stderr);
    const lines = record.stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((line) => line.split('=')[0]),
      ['procps', 'sudo'],
    );
    for (const line of lines) assert.match(line, /^[a-z]+=\d[\w.+~:-]*$/);
    const rebuilt = await cli(['build', '--env-file', context.instance.envFile]);
    assert.equal(rebuilt.exitCode, 0, rebuilt.all);
    assert.ok(rebuilt.all?.includes(`MCP_SYSTEM_PACKAGES in mcps-e2e-syspkg:latest: ${lines.join(', ')}`), rebuilt.all);
  });
});
