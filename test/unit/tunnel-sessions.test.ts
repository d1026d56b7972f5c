/**
 * The tunnels' programs, the parts that were checked only end to end: one
 * ngrok session (docker/ngrok/gateway/session.mjs) with a fake SDK, one
 * Pinggy session (docker/pinggy/gateway/session.mjs) with a fake ssh, and both
 * configure.mjs set-up steps run for real on a temporary folder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { repoRoot } from './container-module.js';

const gatewayFile = (template: string, file: string) => join(repoRoot, 'docker', template, 'gateway', file);
const { ngrokSession } = (await import(pathToFileURL(gatewayFile('ngrok', 'session.mjs')).href)) as Record<string, any>;
const { pinggySession, trustedKeyMessage } = (await import(pathToFileURL(gatewayFile('pinggy', 'session.mjs')).href)) as Record<string, any>;
const { maskSecrets } = (await import(pathToFileURL(join(repoRoot, 'docker', 'common', 'runtime', 'js', 'tunnel.mjs')).href)) as Record<string, any>;

const TOKEN = 'ab12'.repeat(16);
const AUTHTOKEN = '2abcDEF_ghi-123';
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('one ngrok session (ngrok/gateway/session.mjs)', () => {
  /** A fake SDK: forward() resolves a listener (or rejects) and hands the test the status callback. */
  function fakeSdk(outcome: { url?: string; error?: Error }) {
    const seen = { options: undefined as any, closed: 0, logs: [] as string[], published: [] as Array<string | null> };
    let onStatusChange: (status: string) => void = () => undefined;
    const forward = async (options: any) => {
      seen.options = options;
      onStatusChange = options.onStatusChange;
      if (outcome.error) throw outcome.error;
      return { url: () => outcome.url ?? null, close: async () => void seen.closed++ };
    };
    const start = (graceMs = 40) =>
      ngrokSession({
        forward,
        options: { addr: 'http://127.0.0.1:8000', authtoken: AUTHTOKEN },
        secrets: [AUTHTOKEN, TOKEN],
        graceMs,
        log: (m: string) => seen.logs.push(m),
        publishUrl: (u: string | null) => seen.published.push(u),
        maskSecrets,
      });
    return { seen, start, status: (s: string) => onStatusChange(s) };
  }

  it('publishes the URL once forwarded; a session lost for longer than the grace ends it (established), and its listener is closed', async () => {
    const sdk = fakeSdk({ url: 'https://a.ngrok.app' });
    const outcome = sdk.start(40);
    await tick();
    assert.deepEqual(sdk.seen.published, ['https://a.ngrok.app']);
    assert.equal(sdk.seen.options.addr, 'http://127.0.0.1:8000');
    assert.equal(sdk.seen.options.authtoken, AUTHTOKEN);
    sdk.status('closed');
    assert.deepEqual(await outcome, { established: true, reason: 'the ngrok session did not come back' });
    assert.equal(sdk.seen.closed, 1);
    assert.match(sdk.seen.logs.join('\n'), /ngrok session lost; the SDK reconnects \(giving up after 0.04 s\)/);
  });

  it('a session back within the grace keeps going and its URL is published again (control of the above)', async () => {
    const sdk = fakeSdk({ url: 'https://a.ngrok.app' });
    let ended = false;
    void sdk.start(60).then(() => (ended = true));
    await tick();
    sdk.status('closed');
    sdk.status('connected');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(ended, false, 'the session did not end');
    assert.deepEqual(sdk.seen.published, ['https://a.ngrok.app', 'https://a.ngrok.app']);
    assert.equal(sdk.seen.closed, 0);
  });

  it("ngrok's refusal (an ERR_NGROK code) is permanent, with the hint; the secret in its message is masked", async () => {
    const sdk = fakeSdk({ error: Object.assign(new Error(`authentication failed: ${AUTHTOKEN} ERR_NGROK_105`), { errorCode: 'ERR_NGROK_105' }) });
    const outcome = await sdk.start();
    assert.equal(outcome.established, false);
    assert.match(outcome.permanent, /^NGROK_AUTHTOKEN was rejected: copy a valid one from https:\/\/dashboard\.ngrok\.com/);
    assert.equal(outcome.reason, 'authentication failed: **** ERR_NGROK_105');
    assert.ok(!JSON.stringify(outcome).includes(AUTHTOKEN));
  });

  it('a network failure before the first session is transient (no permanent), to be retried', async () => {
    const outcome = await fakeSdk({ error: new Error('dial tcp: connection refused') }).start();
    assert.deepEqual(outcome, { established: false, permanent: undefined, reason: 'dial tcp: connection refused' });
  });
});

describe('one Pinggy session (pinggy/gateway/session.mjs)', () => {
  const config = { server: 'a.pinggy.io', port: 443, pinned: false, keptInVolume: false, retries: 8, secrets: ['tok3n', TOKEN] };

  /** A fake ssh: the test writes its output and closes it. */
  function fakeSsh(cfg: Record<string, unknown> = config) {
    const seen = {
      calls: [] as Array<{ command: string; args: string[]; options: any }>,
      logs: [] as string[],
      published: [] as string[],
      keyNoted: 0,
      children: [] as unknown[],
    };
    const child = Object.assign(new EventEmitter(), { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() });
    const outcome = pinggySession({
      spawn: (command: string, args: string[], options: unknown) => {
        seen.calls.push({ command, args, options });
        return child;
      },
      dir: '/run/sandbox/gateway',
      config: cfg,
      log: (m: string) => seen.logs.push(m),
      publishUrl: (u: string) => seen.published.push(u),
      maskSecrets,
      trustedKeyNoted: () => void seen.keyNoted++,
      onChild: (c: unknown) => seen.children.push(c),
    });
    const say = async (stream: 'stdout' | 'stderr', text: string) => {
      child[stream].write(text);
      await tick();
    };
    const close = (code: number | null, signal: string | null = null) => child.emit('close', code, signal);
    return { seen, outcome, say, close, child };
  }

  it('runs ssh with its config file only, HOME in the private folder and no other variable; publishes the first https URL, notes the key trusted on first use', async () => {
    const ssh = fakeSsh();
    assert.equal(ssh.seen.calls[0]!.command, 'ssh');
    assert.deepEqual(ssh.seen.calls[0]!.args.slice(0, 2), ['-F', '/run/sandbox/gateway/ssh_config']);
    assert.deepEqual(ssh.seen.calls[0]!.options, { env: { PATH: process.env.PATH, HOME: '/run/sandbox/gateway' }, stdio: ['pipe', 'pipe', 'pipe'] });
    await ssh.say('stdout', 'You are using tok3n\nhttp://x.a.pinggy.link\nhttps://x.a.pinggy.link\n');
    await ssh.say('stderr', 'https://other.example\n');
    assert.deepEqual(ssh.seen.published, ['https://x.a.pinggy.link']);
    assert.equal(ssh.seen.keyNoted, 1);
    assert.ok(ssh.seen.logs.includes('ssh: You are using ****'), ssh.seen.logs.join('\n'));
    ssh.close(255);
    assert.deepEqual(await ssh.outcome, { established: true, permanent: undefined, reason: 'ssh exited (code 255): https://other.example' });
    assert.deepEqual(ssh.seen.children, [ssh.child, undefined]);
  });

  it('a plain SSH server that only allocates a port: http://SERVER:PORT is published; with a pinned key nothing is noted', async () => {
    const ssh = fakeSsh({ ...config, pinned: true, server: 'ssh.test' });
    await ssh.say('stderr', 'Allocated port 40123 for remote forward to localhost:8000\n');
    assert.deepEqual(ssh.seen.published, ['http://ssh.test:40123']);
    assert.equal(ssh.seen.keyNoted, 0);
    ssh.close(null, 'SIGTERM');
    assert.equal((await ssh.outcome).reason, 'ssh exited (SIGTERM): Allocated port 40123 for remote forward to localhost:8000');
  });

  it('a changed host key is permanent; with the key kept in the volume, the log says how to reset it', async () => {
    const ssh = fakeSsh({ ...config, keptInVolume: true });
    await ssh.say('stderr', '@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.\n');
    ssh.close(255);
    const outcome = await ssh.outcome;
    assert.deepEqual([outcome.established, outcome.permanent], [false, 'Host key verification failed.']);
    assert.ok(ssh.seen.logs.some((l) => l.includes('docker volume rm NAME-tunnel')));
    assert.deepEqual(ssh.seen.published, []);
  });

  it('the key trusted on first use: the pin line from known_hosts, with the volume said when kept', () => {
    const knownHosts = '[a.pinggy.io]:443 ssh-ed25519 AAAAC3Nz\n';
    assert.equal(trustedKeyMessage(knownHosts, false), "trusted the server's key on first use; to pin it, set PINGGY_HOST_KEY=ssh-ed25519 AAAAC3Nz");
    assert.match(trustedKeyMessage(knownHosts, true), /on first use and kept in the instance's volume \(a different key is refused from now on\); to pin it/);
    assert.equal(trustedKeyMessage('', false), undefined);
  });
});

describe('the set-up steps (configure.mjs), run for real on a temporary folder', () => {
  const run = promisify(execFile);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const configure = async (template: string, env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), `mcp-configure-${template}-`));
    dirs.push(dir);
    try {
      const { stdout } = await run(process.execPath, [gatewayFile(template, 'configure.mjs'), dir], { env: { PATH: process.env.PATH, ...env } });
      return { dir, code: 0, stdout, stderr: '' };
    } catch (e: any) {
      return { dir, code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string };
    }
  };

  it('ngrok: tunnel.json (mode 0600) holds the forward settings; the line says how requests are checked', async () => {
    const done = await configure('ngrok', { NGROK_AUTHTOKEN: AUTHTOKEN, ACCESS_TOKEN: TOKEN });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, "[sandbox] ngrok: bearer token (ACCESS_TOKEN), checked at ngrok's edge\n");
    const file = join(done.dir, 'tunnel.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(written.authtoken, AUTHTOKEN);
    assert.equal(written.bearer, TOKEN);
  });

  it('ngrok: a bad setting exits 78 with its message and writes nothing', async () => {
    const done = await configure('ngrok', { ACCESS_TOKEN: TOKEN });
    assert.equal(done.code, 78);
    assert.match(done.stderr, /^\[sandbox\] error: NGROK_AUTHTOKEN/);
    assert.equal(existsSync(join(done.dir, 'tunnel.json')), false);
  });

  it('pinggy: ssh_config and tunnel.json (0600), the secrets listed for masking; without the volume the key is trusted for this start only', async () => {
    const done = await configure('pinggy', { PINGGY_ACCESS_TOKEN: 'tok3n', ACCESS_TOKEN: TOKEN });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^\[sandbox\] pinggy: tunnel to .*:\d+, host key trusted on first use for this start only: no volume/);
    for (const f of ['ssh_config', 'tunnel.json']) assert.equal(statSync(join(done.dir, f)).mode & 0o777, 0o600, f);
    const written = JSON.parse(readFileSync(join(done.dir, 'tunnel.json'), 'utf8'));
    assert.deepEqual([written.pinned, written.keptInVolume, written.knownHostsFile], [false, false, join(done.dir, 'known_hosts')]);
    assert.ok(written.secrets.includes('tok3n') && written.secrets.includes(TOKEN));
    assert.match(readFileSync(join(done.dir, 'ssh_config'), 'utf8'), new RegExp(`UserKnownHostsFile ${join(done.dir, 'known_hosts')}`));
  });

  it('pinggy: a bad setting exits 78 with its message and writes nothing', async () => {
    const done = await configure('pinggy', { PINGGY_ACCESS_TOKEN: 'tok3n+tcp', ACCESS_TOKEN: TOKEN });
    assert.equal(done.code, 78);
    assert.match(done.stderr, /^\[sandbox\] error: PINGGY_ACCESS_TOKEN holds a '\+' part/);
    assert.equal(existsSync(join(done.dir, 'ssh_config')), false);
  });
});
