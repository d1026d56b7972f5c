/**
 * The session gateway's settings (session-gateway/src/config.mjs): defaults,
 * the refusals main.mjs turns into exit 78, and the environment its servers
 * get. Its log (log.mjs) too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayModule } from '../container-module.js';

const { ConfigError, GATEWAY_SETTINGS, readConfig } = await gatewayModule('config.mjs');
const { createLog } = await gatewayModule('log.mjs');

describe('session gateway settings (config.mjs)', () => {
  it('defaults: port 8000, 16 sessions, 300 s idle, info, /usr/local/bin/mcp-server without arguments', () => {
    const config = readConfig({ PATH: '/usr/bin', HOME: '/tmp/mcp-home' });
    assert.deepEqual(config, {
      port: 8000,
      maxSessions: 16,
      idleMs: 300_000,
      level: 'info',
      command: '/usr/local/bin/mcp-server',
      args: [],
      serverEnv: { PATH: '/usr/bin', HOME: '/tmp/mcp-home' },
      tools: { allow: [], deny: [] },
      audit: { enabled: true, dir: '/var/lib/mcp-sandbox/warden/audit', instance: '', maxSize: 10 << 20, keep: 5, values: false, stdout: false },
    });
  });

  it('reads every setting; NPM_MCP_ARGS is split like shell words without expanding anything', () => {
    const config = readConfig({
      GATEWAY_PORT: '9000',
      MCP_MAX_SESSIONS: '2',
      MCP_SESSION_IDLE: '5',
      LOG_LEVEL: 'debug',
      MCP_SERVER_COMMAND: '/bin/server',
      NPM_MCP_ARGS: `--root '/data dir' "$HOME" a\\ b`,
    });
    assert.equal(config.port, 9000);
    assert.equal(config.maxSessions, 2);
    assert.equal(config.idleMs, 5000);
    assert.equal(config.level, 'debug');
    assert.equal(config.command, '/bin/server');
    assert.deepEqual(config.args, ['--root', '/data dir', '$HOME', 'a b']);
  });

  it("the server's environment keeps PATH, HOME and MCP_ENV's names, never the gateway's own settings", () => {
    const env: Record<string, string> = {
      PATH: '/bin',
      HOME: '/h',
      API_KEY: 'k',
      ...Object.fromEntries(
        GATEWAY_SETTINGS.map((n: string) => [n, { LOG_LEVEL: 'none', MCP_AUDIT: 'true', MCP_AUDIT_STDOUT: 'true', MCP_AUDIT_ARGUMENTS: 'names' }[n] ?? '7']),
      ),
    };
    env.MCP_SERVER_COMMAND = '/bin/x';
    env.NPM_MCP_ARGS = 'a';
    const config = readConfig(env);
    assert.deepEqual(config.serverEnv, { PATH: '/bin', HOME: '/h', API_KEY: 'k' });
    assert.deepEqual([...GATEWAY_SETTINGS].sort(), [
      'GATEWAY_PORT',
      'LOG_LEVEL',
      'MCP_AUDIT',
      'MCP_AUDIT_ARGUMENTS',
      'MCP_AUDIT_KEEP',
      'MCP_AUDIT_MAX_SIZE',
      'MCP_AUDIT_STDOUT',
      'MCP_MAX_SESSIONS',
      'MCP_SERVER_COMMAND',
      'MCP_SESSION_IDLE',
      'MCP_TOOLS',
      'MCP_TOOLS_DENY',
      'NPM_MCP_ARGS',
      'SANDBOX_NAME',
    ]);
    assert.equal(env.GATEWAY_PORT, '7', 'the environment it was given is left as it was');
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['a port that is not a number', { GATEWAY_PORT: '80a' }, /^GATEWAY_PORT must be a whole number of at least 1 \(got '80a'\)$/],
    ['a session limit of 0', { MCP_MAX_SESSIONS: '0' }, /^MCP_MAX_SESSIONS must be a whole number of at least 1 \(got '0'\)$/],
    ['an idle time with a unit', { MCP_SESSION_IDLE: '5m' }, /^MCP_SESSION_IDLE must be a whole number of at least 1 \(got '5m'\)$/],
    ['a negative idle time', { MCP_SESSION_IDLE: '-1' }, /^MCP_SESSION_IDLE must be a whole number/],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /^LOG_LEVEL 'verbose' is not info, debug or none$/],
    [
      'a bad MCP_TOOLS_DENY entry',
      { MCP_TOOLS_DENY: 'delete_*, rm -rf' },
      /^MCP_TOOLS_DENY has 'rm -rf', which is not a tool name or pattern: .*read_\*,list_directory/,
    ],
    ['an empty MCP_TOOLS entry', { MCP_TOOLS: 'read_file,,list_directory' }, /^MCP_TOOLS has an empty entry: /],
    ['an unmatched quote in NPM_MCP_ARGS', { NPM_MCP_ARGS: `--root 'open` }, /^NPM_MCP_ARGS has an unmatched ' quote$/],
  ];
  for (const [name, env, message] of refused) {
    it(`refuses ${name} with a ConfigError naming the setting`, () => {
      assert.throws(
        () => readConfig(env),
        (e: any) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }

  it('reads the tool policy: entries trimmed, in order', () => {
    assert.deepEqual(readConfig({ MCP_TOOLS: ' read_*, list_directory ', MCP_TOOLS_DENY: 'read_secret' }).tools, {
      allow: ['read_*', 'list_directory'],
      deny: ['read_secret'],
    });
  });

  it('an empty setting means its default, as before (the entrypoint passes unset ones as empty)', () => {
    const config = readConfig({ GATEWAY_PORT: '', MCP_MAX_SESSIONS: '', LOG_LEVEL: '', MCP_SERVER_COMMAND: '' });
    assert.deepEqual([config.port, config.maxSessions, config.level, config.command], [8000, 16, 'info', '/usr/local/bin/mcp-server']);
  });
});

describe('session gateway log (log.mjs)', () => {
  const streams = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, streams: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } } };
  };

  it('info: events to stdout, errors and server stderr to stderr, no debug lines', () => {
    const s = streams();
    const log = createLog('info', s.streams);
    log.info('opened');
    log.debug('a message');
    log.error('failed');
    log.serverLine('0e78a025', 'boom');
    assert.deepEqual(s.out, ['[gateway] opened\n']);
    assert.deepEqual(s.err, ['[gateway] failed\n', '[mcp-server 0e78a025] boom\n']);
  });

  it('debug adds the per-message lines; none writes nothing at all, the server lines included', () => {
    const debug = streams();
    createLog('debug', debug.streams).debug('client -> server');
    assert.deepEqual(debug.out, ['[gateway] client -> server\n']);
    const none = streams();
    const log = createLog('none', none.streams);
    log.info('x');
    log.error('y');
    log.serverLine('id', 'z');
    assert.deepEqual([none.out, none.err], [[], []]);
  });
});
