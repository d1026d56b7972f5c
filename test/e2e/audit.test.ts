/**
 * The audit trail end to end (issue 25): the probe server built by the real CLI
 * behind nginx, the MCP SDK's client, and `npm run audit` reading the trail the
 * session gateway (as warden) keeps in the volume NAME-warden. A call is recorded
 * with its argument names and their hash, never their values; a refusal by the
 * tool policy is recorded with its reason; `--verify` passes on the intact trail
 * (the control) and fails, naming the line, after a line is edited and after one
 * is removed; the trail outlives stop and start. The chain's rule in every
 * variant: test/unit/audit-chain.test.ts; the writer in process:
 * test/unit/session-gateway/audit.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, connectClient, createInstance, docker, probeServerDir, removeInstance, type Instance } from './harness.js';

const TRAIL = '/var/lib/mcp-sandbox/warden/audit/audit.jsonl';
const SECRET_TEXT = 'a value the trail must not hold';

interface Line {
  event: string;
  session?: string;
  tool?: string;
  arguments?: string[];
  argumentsSha256?: string;
  outcome?: string;
  reason?: string;
  client?: { name: string };
  seq: number;
}

describe('the audit trail: calls, refusals and sessions, hash-chained, out of the server reach', { timeout: 900_000 }, () => {
  let instance: Instance;
  let client: Client;

  const trail = async (): Promise<Line[]> => {
    const read = await cli(['audit', instance.name, '--json']);
    assert.equal(read.exitCode, 0, read.all);
    return read.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  };
  /** Rewrites the trail as its owner would have to (the server cannot: the battery shows it). */
  const asWarden = async (script: string) => {
    const result = await docker(['exec', '--user', 'warden', instance.name, 'sh', '-c', script]);
    assert.equal(result.exitCode, 0, result.stderr);
  };

  before(async () => {
    instance = await createInstance('mcps-e2e-audit', { MCP_SERVER: probeServerDir, MCP_TOOLS_DENY: 'write_file' });
    await docker(['volume', 'rm', '-f', `${instance.name}-warden`]);
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    client = await connectClient(instance);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    if (instance) await removeInstance(instance);
  });

  test('a call: its tool, argument names and hash, outcome; no value; a refusal with its reason; the client named', async () => {
    const echoed = await client.callTool({ name: 'echo', arguments: { text: SECRET_TEXT } });
    assert.match(JSON.stringify(echoed.content), /must not hold/, 'control: the call was served');
    await assert.rejects(client.callTool({ name: 'write_file', arguments: { path: '/tmp/x', content: 'y' } }), /MCP_TOOLS_DENY/);
    const lines = await trail();
    const call = lines.find((l) => l.event === 'tools/call' && l.tool === 'echo');
    assert.ok(call, JSON.stringify(lines));
    assert.deepEqual(call.arguments, ['text']);
    assert.match(call.argumentsSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(call.outcome, 'ok');
    const refusal = lines.find((l) => l.event === 'refusal' && l.tool === 'write_file');
    assert.ok(refusal, JSON.stringify(lines));
    assert.equal(refusal.outcome, 'refused');
    assert.match(refusal.reason ?? '', /^tool policy: MCP_TOOLS_DENY matches it/);
    assert.ok(
      lines.some((l) => l.event === 'initialize' && (l.client?.name ?? '') !== ''),
      'the client is named',
    );
    const raw = await docker(['exec', '--user', 'warden', instance.name, 'cat', TRAIL]);
    assert.equal(raw.exitCode, 0, raw.stderr);
    assert.ok(raw.stdout.includes('"tool":"echo"'), 'control: the file holds the call');
    assert.ok(!raw.stdout.includes(SECRET_TEXT), 'the argument value is not in the trail');
  });

  test('--verify: the intact trail passes (control); an edited line and a removed line each fail, named', async () => {
    const intact = await cli(['audit', instance.name, '--verify']);
    assert.equal(intact.exitCode, 0, intact.all);
    await asWarden(`cp ${TRAIL} /tmp/audit-kept`);
    await asWarden(`sed -i '2s/"event":"[^"]*"/"event":"forged"/' ${TRAIL}`);
    const edited = await cli(['audit', instance.name, '--verify']);
    assert.equal(edited.exitCode, 1, edited.all);
    assert.match(edited.all, /audit\.jsonl line 2 .*edited/);
    await asWarden(`cp /tmp/audit-kept ${TRAIL} && sed -i '2d' ${TRAIL}`);
    const removed = await cli(['audit', instance.name, '--verify']);
    assert.equal(removed.exitCode, 1, removed.all);
    assert.match(removed.all, /removed/);
    await asWarden(`cp /tmp/audit-kept ${TRAIL} && rm /tmp/audit-kept`);
    assert.equal((await cli(['audit', instance.name, '--verify'])).exitCode, 0, 'restored: intact again');
  });

  test('the trail outlives stop and start, and its chain continues', async () => {
    const before = await trail();
    await client.close();
    assert.equal((await cli(['stop', '--env-file', instance.envFile])).exitCode, 0);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    client = await connectClient(instance);
    await client.callTool({ name: 'echo', arguments: { text: 'after the restart' } });
    const afterRestart = await trail();
    assert.ok(afterRestart.length > before.length, `${before.length} lines before, ${afterRestart.length} after`);
    assert.deepEqual(
      afterRestart.slice(0, before.length).map((l) => l.seq),
      before.map((l) => l.seq),
      'the earlier lines are kept',
    );
    assert.equal((await cli(['audit', instance.name, '--verify'])).exitCode, 0);
  });
});
