/**
 * The tool policy (MCP_TOOLS, MCP_TOOLS_DENY): one case table through the CLI's
 * grammar (package_scripts/settings/tools.ts) and the session gateway's
 * (tool-policy.mjs, loaded as the image runs it); the policy's globs; the
 * JSON-RPC filter; and through the gateway in this process with the MCP SDK's
 * client and a stdio server whose tools come in two pages
 * (test/fixtures/paged-server): every page filtered, the list_changed
 * follow-up filtered, a withheld call answered with an error naming the setting
 * and never reaching the server, beside the allowed call that does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseToolList as cliParse } from '../../../package_scripts/settings/tools.js';
import { UsageError } from '../../../package_scripts/errors.js';
import { loadSettings } from '../../../package_scripts/settings/load.js';
import { toolPolicyWarnings } from '../../../package_scripts/start/start-report.js';
import { eventually, gatewayModule, recordingLog, repoRoot } from '../container-module.js';

const policyModule = await gatewayModule('tool-policy.mjs');
const { createHttpServer } = await gatewayModule('http-server.mjs');
const { createSessions } = await gatewayModule('sessions.mjs');
const PAGED_SERVER = join(repoRoot, 'test', 'fixtures', 'paged-server', 'index.js');

const settingsDir = mkdtempSync(join(tmpdir(), 'tool-policy-settings-'));
after(() => rmSync(settingsDir, { recursive: true, force: true }));
/** The CLI's settings of an env file holding these lines and a token. */
function loadSettingsFromText(text: string) {
  const envFile = join(settingsDir, '.env');
  writeFileSync(envFile, `ACCESS_TOKEN=${'c0ffee00'.repeat(8)}\n${text}`);
  return loadSettings(envFile, { hostEnv: { HOME: settingsDir }, projectDir: repoRoot });
}

const cases: Array<[string, string[] | RegExp]> = [
  ['', []],
  ['  ', []],
  ['read_file', ['read_file']],
  [' read_*, list_directory ', ['read_*', 'list_directory']],
  ['github/create_issue,ns:tool,a.b-c', ['github/create_issue', 'ns:tool', 'a.b-c']],
  ['*', ['*']],
  ['a,,b', /^MCP_TOOLS has an empty entry: give comma-separated tool names/],
  ['a,', /^MCP_TOOLS has an empty entry/],
  ['rm -rf', /^MCP_TOOLS has 'rm -rf', which is not a tool name or pattern: .*\(such as read_\*,list_directory\)$/],
  ['read_file;ls', /'read_file;ls', which is not/],
  ['x'.repeat(129), /which is not a tool name/],
  ['x'.repeat(128), ['x'.repeat(128)]],
];

describe('MCP_TOOLS grammar: the CLI and the session gateway agree on every case (one table)', () => {
  for (const [value, expected] of cases) {
    it(`'${value.length > 40 ? `${value.slice(0, 10)}… (${value.length})` : value}'`, () => {
      const outcomes = [cliParse('MCP_TOOLS', value), policyModule.parseToolList('MCP_TOOLS', value)];
      assert.deepEqual(outcomes[0], outcomes[1], 'the CLI and the gateway give the same answer');
      if (Array.isArray(expected)) assert.deepEqual(outcomes[0], { entries: expected });
      else assert.match((outcomes[0] as { issue: string }).issue, expected);
    });
  }

  it('the CLI refuses a bad MCP_TOOLS_DENY naming the setting (a UsageError: exit 2), and accepts a good one (control)', () => {
    assert.throws(
      () => loadSettingsFromText('MCP_TOOLS_DENY=delete_*,rm -rf\n'),
      (e: any) => e instanceof UsageError && /MCP_TOOLS_DENY has 'rm -rf', which is not a tool name or pattern/.test(e.message),
    );
    const settings = loadSettingsFromText('MCP_TOOLS=read_*, list_directory\nMCP_TOOLS_DENY=read_secret\n');
    assert.deepEqual([settings.MCP_TOOLS, settings.MCP_TOOLS_DENY], [['read_*', 'list_directory'], ['read_secret']]);
  });
});

describe("start repeats the gateway's warnings about entries that match no tool (toolPolicyWarnings)", () => {
  it("takes the gateway's own lines, never a line of the server's stderr that imitates one", () => {
    const log = [
      '[gateway] Listening on port 8000 (127.0.0.1): /usr/local/bin/mcp-server with 0 argument(s)',
      "[gateway] warning: MCP_TOOLS_DENY 'delete_repo' matches no tool of this server (its tools: a, b)",
      "[mcp-server 1a2b3c4d] [gateway] warning: MCP_TOOLS 'forged' matches no tool of this server",
      "[gateway] warning: MCP_TOOLS 'x', MCP_TOOLS_DENY 'y' match no tool of this server (its tools: none)",
    ].join('\n');
    assert.deepEqual(toolPolicyWarnings(log), [
      "MCP_TOOLS_DENY 'delete_repo' matches no tool of this server (its tools: a, b)",
      "MCP_TOOLS 'x', MCP_TOOLS_DENY 'y' match no tool of this server (its tools: none)",
    ]);
    assert.deepEqual(toolPolicyWarnings('[gateway] self-check: the MCP server answered\n'), [], 'control: no warning, nothing');
  });
});

describe('toolPolicy: globs, the deny list wins, unmatched entries', () => {
  const policy = policyModule.toolPolicy({ allow: ['read_*', 'list_directory'], deny: ['read_secret*'] });
  it('allows what MCP_TOOLS lists unless MCP_TOOLS_DENY matches it', () => {
    assert.equal(policy.withheldBy('read_file'), undefined);
    assert.equal(policy.withheldBy('list_directory'), undefined);
    assert.equal(policy.withheldBy('read_secret_key'), "MCP_TOOLS_DENY matches it ('read_secret*')");
    assert.equal(policy.withheldBy('write_file'), 'MCP_TOOLS does not list it');
    assert.equal(policy.withheldBy('list_directory_x'), 'MCP_TOOLS does not list it', 'a name without * matches whole names only');
    assert.equal(policy.withheldBy(42), 'its name is not a string');
  });
  it('treats the rest of a pattern literally: . is a dot, not any character', () => {
    const dotted = policyModule.toolPolicy({ allow: ['a.b'], deny: [] });
    assert.equal(dotted.withheldBy('a.b'), undefined);
    assert.equal(dotted.withheldBy('axb'), 'MCP_TOOLS does not list it');
  });
  it('a deny list alone withholds only what it matches; no policy withholds nothing (control)', () => {
    const deny = policyModule.toolPolicy({ allow: [], deny: ['delete_*'] });
    assert.deepEqual([deny.withheldBy('delete_repository'), deny.withheldBy('create_issue')], ["MCP_TOOLS_DENY matches it ('delete_*')", undefined]);
    const none = policyModule.toolPolicy({ allow: [], deny: [] });
    assert.equal(none.active, false);
    assert.equal(none.withheldBy('anything'), undefined);
  });
  it('names each entry that matches no tool', () => {
    assert.deepEqual(policy.unmatched(['read_file', 'write_file']), ["MCP_TOOLS 'list_directory'", "MCP_TOOLS_DENY 'read_secret*'"]);
    assert.deepEqual(policy.unmatched(['read_file', 'list_directory', 'read_secret']), []);
  });
});

describe('toolFilter: the JSON-RPC messages', () => {
  const filter = () => policyModule.toolFilter(policyModule.toolPolicy({ allow: [], deny: ['write_*'] }));
  const list = (id: number, names: string[], nextCursor?: string) => ({
    jsonrpc: '2.0',
    id,
    result: { tools: names.map((name) => ({ name, inputSchema: { type: 'object' } })), ...(nextCursor ? { nextCursor } : {}) },
  });
  it('filters each page of a listing and reports the whole listing after its last page', () => {
    const f = filter();
    assert.equal(f.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), undefined);
    const first = f.fromServer(list(1, ['read_file', 'write_file'], 'c2'));
    assert.deepEqual(
      first.message.result.tools.map((t: any) => t.name),
      ['read_file'],
    );
    assert.equal(first.message.result.nextCursor, 'c2');
    assert.equal(first.listed, undefined);
    f.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { cursor: 'c2' } });
    const second = f.fromServer(list(2, ['write_secret', 'list_directory']));
    assert.deepEqual(
      second.message.result.tools.map((t: any) => t.name),
      ['list_directory'],
    );
    assert.deepEqual(second.listed, ['read_file', 'write_file', 'write_secret', 'list_directory']);
  });
  it("filters an answer whose id is the request's as a string (the SDK client matches by Number(id)), and answers inside a batch", () => {
    const f = filter();
    f.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const asString = f.fromServer({ ...list(1, ['write_file', 'read_file']), id: '1' });
    assert.deepEqual(
      asString.message.result.tools.map((t: any) => t.name),
      ['read_file'],
    );
    f.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    const batch = f.fromServer([{ jsonrpc: '2.0', id: 5, result: {} }, list(2, ['write_file', 'list_directory'])]);
    assert.deepEqual(
      batch.message[1].result.tools.map((t: any) => t.name),
      ['list_directory'],
    );
    assert.deepEqual(batch.message[0], { jsonrpc: '2.0', id: 5, result: {} }, 'control: the other answer in the batch is untouched');
    assert.deepEqual(batch.listed, ['write_file', 'list_directory']);
  });

  it('leaves answers to other requests alone, even when they carry tools (control)', () => {
    const f = filter();
    f.fromClient({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const other = list(1, ['write_file']);
    assert.equal(f.fromServer(other).message, other);
    assert.equal(f.fromServer(list(9, ['write_file'])).message.result.tools.length, 1, 'an id the client never asked tools/list with');
  });
  it('answers a withheld tools/call with an error naming the setting; an allowed one passes (control)', () => {
    const f = filter();
    assert.deepEqual(f.fromClient({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'write_file', arguments: {} } }), {
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32602,
        message: "Tool 'write_file' is withheld by this sandbox's tool policy: MCP_TOOLS_DENY matches it ('write_*')",
        data: { tool: 'write_file', withheld: "MCP_TOOLS_DENY matches it ('write_*')", by: 'tool policy' },
      },
    });
    assert.equal(f.fromClient({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'read_file' } }), undefined);
  });
  it('without a policy every message passes untouched', () => {
    const f = policyModule.toolFilter(policyModule.toolPolicy({ allow: [], deny: [] }));
    f.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const message = list(1, ['write_file']);
    assert.equal(f.fromServer(message).message, message);
    assert.equal(f.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'write_file' } }), undefined);
  });
});

describe('through the session gateway, with the MCP SDK client and a paged server', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const stop of stops) await stop();
  });

  async function gateway(tools: { allow: string[]; deny: string[] }) {
    const log = recordingLog();
    const sessions = createSessions({
      maxSessions: 2,
      idleMs: 300_000,
      launch: { command: process.execPath, args: [PAGED_SERVER], env: { PATH: process.env.PATH } },
      tools,
      log,
      serverUid: 0,
    });
    const server = createHttpServer({ sessions, log });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new Client({ name: 'unit', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`)));
    stops.push(async () => {
      await client.close();
      sessions.closeAll();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return { client, log };
  }

  const allPages = async (client: Client) => {
    const first = await client.listTools();
    const second = await client.listTools({ cursor: first.nextCursor! });
    return [first.tools.map((t) => t.name), second.tools.map((t) => t.name)];
  };

  it('lists only allowed tools on every page, refuses a withheld call before the server, warns about an entry matching no tool', async () => {
    const { client, log } = await gateway({ allow: ['read_*', 'list_directory', 'add_tool'], deny: ['*_secret', 'delete_repo'] });
    assert.deepEqual(await allPages(client), [['read_file', 'add_tool'], ['list_directory']]);
    await assert.rejects(
      () => client.callTool({ name: 'write_file', arguments: {} }),
      /-32602.*Tool 'write_file' is withheld by this sandbox's tool policy: MCP_TOOLS does not list it/,
    );
    assert.deepEqual((await client.callTool({ name: 'read_file', arguments: {} })).content, [{ type: 'text', text: 'ran read_file' }], 'control: allowed');
    await eventually(() => log.lines.some((l) => l.endsWith('called read_file')), 5000, 'the allowed call at the server');
    assert.ok(!log.lines.some((l) => l.includes('called write_file')), `the refused call reached the server: ${log.lines.join('\n')}`);
    assert.ok(log.lines.some((l) => l.startsWith('info: ') && l.includes("refused a call of 'write_file' (tool policy: ")));
    assert.ok(
      log.lines.some(
        (l) =>
          l ===
          "error: warning: MCP_TOOLS_DENY '*_secret', MCP_TOOLS_DENY 'delete_repo' match no tool of this server (its tools: read_file, write_file, add_tool, list_directory, delete_file)",
      ),
      log.lines.join('\n'),
    );
  });

  it('after notifications/tools/list_changed the new listing is filtered too, and the warned entry that now matches is left alone', async () => {
    const { client, log } = await gateway({ allow: [], deny: ['write_*'] });
    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    assert.deepEqual(await allPages(client), [
      ['read_file', 'add_tool'],
      ['list_directory', 'delete_file'],
    ]);
    await client.callTool({ name: 'add_tool', arguments: {} });
    await changed;
    assert.deepEqual(await allPages(client), [
      ['read_file', 'add_tool'],
      ['list_directory', 'delete_file', 'read_more'],
    ]);
    await assert.rejects(
      () => client.callTool({ name: 'write_secret', arguments: {} }),
      /withheld by this sandbox's tool policy: MCP_TOOLS_DENY matches it \('write_\*'\)/,
    );
    assert.ok(!log.lines.some((l) => l.includes('match no tool') || l.includes('matches no tool')), log.lines.join('\n'));
  });
});
