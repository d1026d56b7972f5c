/**
 * The audit trail's writer (session-gateway/src/audit.mjs), through the gateway
 * in this process with the MCP SDK's client and a stdio server: one sealed line
 * per initialize, call, refusal and session end, with the fields the issue
 * names, argument values absent unless asked for; the chain verified by the
 * CLI's check (control) and continued across rotation and a restart of the
 * writer; a folder it cannot write is logged once and the calls still served.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { verifyAuditFiles } from '../../../package_scripts/instance/audit-chain.js';
import { UsageError } from '../../../package_scripts/errors.js';
import { loadSettings } from '../../../package_scripts/settings/load.js';
import { startWarnings } from '../../../package_scripts/start/start-report.js';
import { eventually, gatewayModule, recordingLog, repoRoot } from '../container-module.js';

const { createAudit } = await gatewayModule('audit.mjs');
const { readConfig, ConfigError } = await gatewayModule('config.mjs');
const { createHttpServer } = await gatewayModule('http-server.mjs');
const { createSessions } = await gatewayModule('sessions.mjs');
const PAGED_SERVER = join(repoRoot, 'test', 'fixtures', 'paged-server', 'index.js');

const dirs: string[] = [];
const stops: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of stops) await stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function folder() {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-'));
  dirs.push(dir);
  return join(dir, 'audit');
}
const settings = (dir: string, more: Record<string, unknown> = {}) => ({
  enabled: true,
  dir,
  instance: 'unit',
  maxSize: 10 << 20,
  keep: 3,
  values: false,
  stdout: false,
  ...more,
});
/** The files of the folder, oldest first, as the CLI reads them. */
function files(dir: string) {
  const names = readdirSync(dir).sort((a, b) => rank(b) - rank(a));
  return names.map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}
const rank = (name: string) => Number(/\.(\d+)$/.exec(name)?.[1] ?? 0);
const records = (dir: string) =>
  files(dir).flatMap((f) =>
    f.text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>),
  );

async function gateway(audit: unknown, log = recordingLog()) {
  const sessions = createSessions({
    maxSessions: 2,
    idleMs: 300_000,
    launch: { command: process.execPath, args: [PAGED_SERVER], env: { PATH: process.env.PATH } },
    tools: { allow: [], deny: ['write_file'] },
    log,
    audit,
    serverUid: 0,
  });
  const server = createHttpServer({ sessions, log });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new Client({ name: 'audit-unit', version: '7.1' });
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`));
  await client.connect(transport);
  const stop = async () => {
    await client.close().catch(() => undefined);
    sessions.closeAll();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  stops.push(stop);
  return { client, transport, stop, log };
}

describe('the audit trail', () => {
  it('records initialize, each call with names and hash, a refusal with its reason, and the session end, on an intact chain', async () => {
    const dir = folder();
    const audit = createAudit(settings(dir), { log: recordingLog() });
    const { client, transport, stop } = await gateway(audit);
    await client.callTool({ name: 'read_file', arguments: { path: '/secret/plan.txt', lines: 3 } });
    await assert.rejects(() => client.callTool({ name: 'write_file', arguments: { path: '/x', content: 'hidden-value' } }), /withheld/);
    const session = transport.sessionId!;
    await transport.terminateSession();
    await stop();
    await eventually(() => records(dir).some((r) => r.event === 'session-end'), 5000, 'the session end');
    const lines = records(dir);
    assert.deepEqual(
      lines.map((r) => r.event),
      ['initialize', 'tools/call', 'refusal', 'session-end'],
    );
    const [init, call, refusal, end] = lines as [Record<string, any>, Record<string, any>, Record<string, any>, Record<string, any>];
    assert.deepEqual(init.client, { name: 'audit-unit', version: '7.1' });
    assert.equal(init.session, session);
    assert.equal(init.instance, 'unit');
    assert.equal(call.tool, 'read_file');
    assert.deepEqual(call.arguments, ['lines', 'path']);
    assert.match(call.argumentsSha256, /^[0-9a-f]{64}$/);
    assert.equal(call.outcome, 'ok');
    assert.ok(call.durationMs >= 0 && call.responseBytes > 20, JSON.stringify(call));
    assert.ok(!Number.isNaN(Date.parse(call.time)));
    assert.equal(refusal.tool, 'write_file');
    assert.equal(refusal.outcome, 'refused');
    assert.equal(refusal.reason, "tool policy: MCP_TOOLS_DENY matches it ('write_file')");
    assert.match(end.reason, /DELETE/);
    const text = files(dir)
      .map((f) => f.text)
      .join('');
    assert.ok(!text.includes('/secret/plan.txt') && !text.includes('hidden-value'), 'no argument value by default');
    const report = verifyAuditFiles(files(dir));
    assert.deepEqual(report.breaks, []);
    assert.equal(report.startsAtGenesis, true);
  });

  it('records argument values with MCP_AUDIT_ARGUMENTS=values, and also writes the lines to stdout with MCP_AUDIT_STDOUT', async () => {
    const dir = folder();
    const out: string[] = [];
    const audit = createAudit(settings(dir, { values: true, stdout: true }), { log: recordingLog(), stdout: { write: (t: string) => out.push(t) } });
    const { client, stop } = await gateway(audit);
    await client.callTool({ name: 'read_file', arguments: { path: '/secret/plan.txt' } });
    await stop();
    const call = records(dir).find((r) => r.event === 'tools/call')!;
    assert.deepEqual(call.values, { path: '/secret/plan.txt' });
    assert.ok(out.length >= 2 && out.every((l) => l.startsWith('[audit] {')));
    assert.equal(
      out.join('').replaceAll('[audit] ', ''),
      files(dir)
        .map((f) => f.text)
        .join(''),
    );
  });

  it('rotates past the size cap, keeps N files, and the chain continues across files and across a restart of the writer', () => {
    const dir = folder();
    const first = createAudit(settings(dir, { maxSize: 1024, keep: 3 }), { log: recordingLog() });
    for (let i = 0; i < 12; i++) first.refused(`s${i}`, { method: 'tools/call', params: { name: 'tool', arguments: { i } } }, 'test');
    const again = createAudit(settings(dir, { maxSize: 1024, keep: 3 }), { log: recordingLog() });
    for (let i = 0; i < 12; i++) again.sessionEnded(`t${i}`, 'test');
    const names = readdirSync(dir).sort();
    assert.deepEqual(names, ['audit.jsonl', 'audit.jsonl.1', 'audit.jsonl.2', 'audit.jsonl.3']);
    for (const f of files(dir)) assert.ok(f.text.length <= 1024, `${f.name} is ${f.text.length} bytes`);
    const report = verifyAuditFiles(files(dir));
    assert.deepEqual(report.breaks, []);
    assert.equal(report.lastSeq, 24);
    assert.equal(report.startsAtGenesis, false, 'the oldest files were rotated away');
  });

  it('a folder it cannot write (under a file: not even root can make it): one clear line, and the gateway serves the calls anyway', async () => {
    const dir = folder();
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(join(dir, '..', 'plain-file'), '');
    const log = recordingLog();
    const audit = createAudit(settings(join(dir, '..', 'plain-file', 'audit')), { log });
    assert.equal(audit.writing, false);
    const off = () => log.lines.filter((l) => l.includes('audit trail off'));
    assert.equal(off().length, 1);
    assert.match(off()[0]!, /^error: audit trail off: cannot write .*audit\.jsonl.*NAME-warden/);
    const { client, stop } = await gateway(audit, log);
    assert.deepEqual((await client.callTool({ name: 'read_file', arguments: {} })).content, [{ type: 'text', text: 'ran read_file' }]);
    await stop();
    assert.equal(off().length, 1, 'logged once, not per line');
    assert.equal(createAudit(settings(dir), { log: recordingLog() }).writing, true, 'control: a folder it can make');
  });

  it('reads its settings, defaults included, and names a bad one', () => {
    const base = { PATH: '/bin' };
    assert.deepEqual(readConfig(base).audit, {
      enabled: true,
      dir: '/var/lib/mcp-sandbox/warden/audit',
      instance: '',
      maxSize: 10 << 20,
      keep: 5,
      values: false,
      stdout: false,
    });
    const set = readConfig({
      ...base,
      MCP_AUDIT_MAX_SIZE: '2k',
      MCP_AUDIT_KEEP: '2',
      MCP_AUDIT_ARGUMENTS: 'values',
      MCP_AUDIT_STDOUT: 'true',
      SANDBOX_NAME: 'x',
      MCP_AUDIT: 'false',
    });
    assert.deepEqual(set.audit, {
      enabled: false,
      dir: '/var/lib/mcp-sandbox/warden/audit',
      instance: 'x',
      maxSize: 2048,
      keep: 2,
      values: true,
      stdout: true,
    });
    assert.equal(set.serverEnv.MCP_AUDIT_ARGUMENTS, undefined, 'the server does not see the gateway settings');
    assert.throws(
      () => readConfig({ ...base, MCP_AUDIT_ARGUMENTS: 'all' }),
      (e: Error) => e instanceof ConfigError && /MCP_AUDIT_ARGUMENTS must be names or values/.test(e.message),
    );
    assert.throws(() => readConfig({ ...base, MCP_AUDIT_MAX_SIZE: 'big' }), /MCP_AUDIT_MAX_SIZE must be a size/);
  });

  it('the CLI refuses a bad audit setting naming it (a UsageError: exit 2), accepts good ones, and start warns about values', () => {
    const dir = folder();
    mkdirSync(dir, { recursive: true });
    const load = (text: string) => {
      writeFileSync(join(dir, '.env'), `ACCESS_TOKEN=${'c0ffee00'.repeat(8)}\n${text}`);
      return loadSettings(join(dir, '.env'), { hostEnv: { HOME: dir }, projectDir: repoRoot });
    };
    for (const [text, message] of [
      ['MCP_AUDIT_ARGUMENTS=all', /MCP_AUDIT_ARGUMENTS must be names .* or values/],
      ['MCP_AUDIT_MAX_SIZE=10MB', /MCP_AUDIT_MAX_SIZE must be a size of at least 64k/],
      ['MCP_AUDIT_MAX_SIZE=1k', /MCP_AUDIT_MAX_SIZE must be a size of at least 64k/],
      ['MCP_AUDIT_KEEP=0', /MCP_AUDIT_KEEP must be a whole number/],
      ['MCP_AUDIT=yes', /MCP_AUDIT must be true/],
      ['MCP_AUDIT_STDOUT=1', /MCP_AUDIT_STDOUT must be true/],
    ] as const) {
      assert.throws(
        () => load(`${text}\n`),
        (e: any) => e instanceof UsageError && message.test(e.message),
        text,
      );
    }
    const plain = load('');
    assert.ok(!startWarnings(plain).some((w) => w.includes('MCP_AUDIT')), 'control: no warning by default');
    const set = load('MCP_AUDIT_ARGUMENTS=values\nMCP_AUDIT_MAX_SIZE=500k\nMCP_AUDIT_KEEP=9\nMCP_AUDIT_STDOUT=true\n');
    assert.deepEqual([set.MCP_AUDIT_ARGUMENTS, set.MCP_AUDIT_MAX_SIZE, set.MCP_AUDIT_KEEP], ['values', 500 * 1024, 9]);
    assert.ok(startWarnings(set).some((w) => /^MCP_AUDIT_ARGUMENTS=values: .*kept in the audit trail and the container log/.test(w)));
  });
});
