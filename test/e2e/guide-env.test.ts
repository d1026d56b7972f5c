/**
 * The guide's .env, end to end: its Step 2 block as written (real tokens in
 * place of the placeholders; NAME, HOST_PORT and the build's CA bundle added so
 * the test runs beside others), built and started with the real CLI, and an MCP
 * client served. SUPERGATEWAY_EXTRA_ARGS="--stateful" is accepted and said to be
 * what the sandbox does anyway.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { guideEnvWithTokens } from '../guide-env.js';
import { buildCaBundle, cli, connectClient, createInstance, onEngine, removeInstance, type Instance } from './harness.js';

describe(onEngine("the guide's .env builds and starts"), { timeout: 600_000 }, () => {
  let instance: Instance;

  before(async () => {
    instance = await createInstance('mcps-e2e-guide-env');
    // The harness's .env holds NAME, HOST_PORT, ACCESS_TOKEN and EXTRA_CA_CERT: the guide's file replaces
    // it, with only the lines this test run needs besides it (ACCESS_TOKEN comes from NGINX_ACCESS_TOKEN).
    writeFileSync(instance.envFile, guideEnvWithTokens(instance.token), { mode: 0o600 });
    const ca = buildCaBundle();
    appendFileSync(instance.envFile, `\nNAME=${instance.name}\nHOST_PORT=${instance.port}\n${ca ? `EXTRA_CA_CERT=${ca}\n` : ''}`);
  });

  after(async () => {
    if (instance) await removeInstance(instance);
  });

  test('build accepts --stateful and says the sandbox does it anyway', async () => {
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    assert.match(built.stderr, /SUPERGATEWAY_EXTRA_ARGS=--stateful: nothing to pass, the sandbox's session gateway is stateful anyway/);
    assert.ok(!built.all.includes(instance.token));
  });

  test('start -d serves an MCP client with the guide token', async () => {
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.match(started.stderr, /SUPERGATEWAY_EXTRA_ARGS=--stateful: nothing to pass/);
    assert.ok(!started.all.includes(instance.token));
    const client = await connectClient(instance);
    try {
      const { tools } = await client.listTools();
      assert.ok(
        tools.some((t) => t.name === 'list_directory'),
        tools.map((t) => t.name).join(', '),
      );
    } finally {
      await client.close();
    }
  });
});
