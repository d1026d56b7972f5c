/**
 * `start -d`'s readiness with a recording docker engine and an injected
 * endpoint probe: a server that failed ends the wait at once with its own
 * lines and exit 1; a tunnel whose public URL does not answer from here is
 * checked on the container's loopback instead; one that answers is checked there.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { start } from '../../package_scripts/commands/start.js';
import type { DockerResult } from '../../package_scripts/docker/engine.js';
import { NotServingError, UsageError } from '../../package_scripts/errors.js';
import type { EndpointProbeTarget, ProbeOutcome } from '../../package_scripts/mcp-probe.js';
import { commandContext, ok, recordingEngine, SERVED, tlsFixtures, writeEnvFile } from './project-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-start-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TOKEN = 'ab'.repeat(32);

function harness(env: string, answer: (args: string[]) => DockerResult | undefined, probe: (target: EndpointProbeTarget) => ProbeOutcome) {
  const dir = mkdtempSync(join(root, 'instance-'));
  const envFile = writeEnvFile(join(dir, '.env'), env);
  const { engine, calls } = recordingEngine(answer);
  const { ctx, messages, probes } = commandContext(dir, engine, probe);
  return { ctx, envFile, calls, probes, messages };
}

describe('start -d readiness (recording engine)', () => {
  it("a server that failed: the health check's own lines, exit 1, no endpoint probe", async () => {
    const failing =
      'session gateway: MCP server failed: the MCP server exited (code 1) before it answered initialize\nserver: Error: None of the specified directories are accessible\n';
    const h = harness(
      `NAME=broken\nACCESS_TOKEN=${TOKEN}\n`,
      (args) => (args[0] === 'exec' && args.at(-1) === '/opt/sandbox/bin/healthcheck' ? { stdout: '', stderr: failing, exitCode: 1 } : undefined),
      () => assert.fail('no endpoint probe once the server is known to have failed'),
    );
    await assert.rejects(start(h.ctx, { detach: true, envFile: h.envFile }), (error: unknown) => {
      assert.ok(error instanceof NotServingError);
      assert.equal(error.exitCode, 1);
      assert.match(error.message, /broken runs, but its MCP server failed: the MCP server exited \(code 1\)/);
      assert.deepEqual(error.serverLines, ['Error: None of the specified directories are accessible']);
      assert.match(error.hint ?? '', /npm run logs -- --env-file /);
      return true;
    });
    assert.deepEqual(h.probes, []);
    assert.ok(!h.messages.some((m) => m.includes('Ready')));
  });

  it('healthy, but the round trip through the endpoint fails in the server: exit 1 with its lines', async () => {
    const h = harness(
      `NAME=half\nACCESS_TOKEN=${TOKEN}\n`,
      () => undefined,
      () => ({
        ok: false,
        path: 'endpoint',
        error: 'initialize: MCP server process failed',
        serverLines: ['Error: boom'],
        retryable: false,
      }),
    );
    await assert.rejects(start(h.ctx, { detach: true, envFile: h.envFile }), (error: unknown) => {
      assert.ok(error instanceof NotServingError);
      assert.match(error.message, /an MCP client is not served at https:\/\/127\.0\.0\.1:443\/mcp: initialize: MCP server process failed/);
      assert.deepEqual(error.serverLines, ['Error: boom']);
      return true;
    });
    assert.equal(h.probes.length, 1, 'a server failure is not retried');
  });

  const PINGGY = `NAME=tunnel\nTEMPLATE=pinggy\nACCESS_TOKEN=${TOKEN}\nPINGGY_ACCESS_TOKEN=tok3n\n`;
  const publicUrl = (args: string[]) =>
    args[0] === 'exec' && args[2] === 'cat' && args[3] === '/run/sandbox/public-url' ? ok('https://abc.a.pinggy.link') : undefined;

  it('a tunnel whose public URL does not answer from here is checked on the container loopback', async () => {
    const inside = JSON.stringify({ ok: true, protocolVersion: '2025-06-18', tools: ['a', 'b'], toolsListed: true, ms: 4 });
    const h = harness(
      PINGGY,
      (args) => publicUrl(args) ?? (args.includes('/opt/sandbox/bin/mcp-probe') ? ok(inside) : undefined),
      () => ({ ok: false, path: 'endpoint', error: 'cannot reach https://abc.a.pinggy.link: ENOTFOUND', serverLines: [], retryable: true }),
    );
    const info = await start(h.ctx, { detach: true, envFile: h.envFile });
    assert.equal(info?.ready, '2 tools (a, b)');
    assert.deepEqual(
      h.probes.map((p) => [p.url, p.authorization]),
      [['https://abc.a.pinggy.link/mcp', `Bearer ${TOKEN}`]],
    );
    const probeCall = h.calls.find((c) => c.includes('/opt/sandbox/bin/mcp-probe'));
    assert.deepEqual(probeCall?.slice(0, 5), ['exec', '--user', 'gateway', 'tunnel', '/opt/sandbox/bin/mcp-probe']);
    assert.ok(h.messages.includes("info: Ready: 2 tools (a, b) (checked on the container's loopback)"), h.messages.join('\n'));
    assert.ok(h.messages.some((m) => m.startsWith('note: https://abc.a.pinggy.link/mcp did not answer from this machine')));
  });

  it('a tunnel whose public URL answers is checked there, with its credential, and not inside', async () => {
    const h = harness(PINGGY, publicUrl, () => SERVED);
    const info = await start(h.ctx, { detach: true, envFile: h.envFile });
    assert.equal(info?.ready, '1 tool (read_file)');
    assert.equal(h.probes.length, 1);
    assert.ok(!h.calls.some((c) => c.includes('/opt/sandbox/bin/mcp-probe')));
    assert.ok(h.messages.includes('info: Ready: 1 tool (read_file)'), h.messages.join('\n'));
  });
});

describe('start with the local CA (recording engine, real openssl)', () => {
  const mountOf = (calls: string[][]) => calls.find((c) => c[0] === 'run')!.filter((a) => a.startsWith('type=bind'));

  it("signs the instance's certificate on the host and mounts it like CERT_FILE; the CA key is in no argument; the next start reuses it", async () => {
    const h = harness(
      `NAME=local\nACCESS_TOKEN=${TOKEN}\n`,
      () => undefined,
      () => SERVED,
    );
    await start(h.ctx, { detach: true, envFile: h.envFile });
    const tls = join(dirname(h.envFile), '.mcp-sandbox', 'local', 'tls');
    assert.deepEqual(mountOf(h.calls), [
      `type=bind,source=${tls}/cert.pem,target=/etc/mcp-sandbox/user-tls/cert.pem,readonly`,
      `type=bind,source=${tls}/key.pem,target=/etc/mcp-sandbox/user-tls/key.pem,readonly`,
    ]);
    assert.ok(h.calls.find((c) => c[0] === 'run')!.includes('SANDBOX_TLS_SOURCE'));
    assert.ok(!h.calls.flat().some((a) => a.includes('ca-key.pem') || a.includes('mcp-sandbox/ca')), 'the CA never reaches docker');
    assert.ok(existsSync(join(dirname(h.envFile), 'home', '.config', 'mcp-sandbox', 'ca', 'ca-key.pem')), "the CA is in the user's config folder");
    assert.ok(h.messages.some((m) => m.startsWith('info: Made the local CA')));
    assert.ok(
      h.messages.some((m) => /Signed by the local CA .*npm run trust/.test(m)),
      h.messages.join('\n'),
    );

    h.messages.length = 0;
    await start(h.ctx, { detach: true, envFile: h.envFile });
    assert.ok(!h.messages.some((m) => m.includes('Made the local CA') || m.includes('Signed a new certificate')), h.messages.join('\n'));
  });

  it('CERT_FILE/KEY_FILE take precedence: no CA is made', async () => {
    const fixtures = tlsFixtures();
    const h = harness(
      `NAME=own\nACCESS_TOKEN=${TOKEN}\nCERT_FILE=${fixtures}/leaf.pem\nKEY_FILE=${fixtures}/leaf-key.pem\n`,
      () => undefined,
      () => SERVED,
    );
    await start(h.ctx, { detach: true, envFile: h.envFile });
    assert.deepEqual(mountOf(h.calls), [
      `type=bind,source=${fixtures}/leaf.pem,target=/etc/mcp-sandbox/user-tls/cert.pem,readonly`,
      `type=bind,source=${fixtures}/leaf-key.pem,target=/etc/mcp-sandbox/user-tls/key.pem,readonly`,
    ]);
    assert.ok(!existsSync(join(dirname(h.envFile), 'home', '.config', 'mcp-sandbox')));
  });

  it('a TLS_HOSTNAMES name the CA may not sign: exit 2 naming the setting, before any docker command', async () => {
    const h = harness(
      `NAME=first\nACCESS_TOKEN=${TOKEN}\n`,
      () => undefined,
      () => SERVED,
    );
    await start(h.ctx, { detach: true, envFile: h.envFile });
    writeFileSync(h.envFile, `NAME=first\nACCESS_TOKEN=${TOKEN}\nTLS_HOSTNAMES=DNS:box.example\n`);
    h.calls.length = 0;
    await assert.rejects(start(h.ctx, { detach: true, envFile: h.envFile }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^TLS_HOSTNAMES names DNS:box\.example, which the local CA/);
      return true;
    });
    assert.deepEqual(h.calls, []);
  });

  it('--dry-run shows the mounts and makes nothing', async () => {
    const h = harness(
      `NAME=dry\nACCESS_TOKEN=${TOKEN}\n`,
      () => undefined,
      () => SERVED,
    );
    await start(h.ctx, { detach: true, dryRun: true, envFile: h.envFile });
    assert.match(
      h.messages.join('\n'),
      /--mount type=bind,source=\S+\/\.mcp-sandbox\/dry\/tls\/cert\.pem,target=\/etc\/mcp-sandbox\/user-tls\/cert\.pem,readonly/,
    );
    assert.ok(!existsSync(join(dirname(h.envFile), '.mcp-sandbox')));
    assert.ok(!existsSync(join(dirname(h.envFile), 'home', '.config')));
  });
});
