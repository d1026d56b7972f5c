/**
 * Operator experience, end to end: two instances from two env files in one
 * folder, side by side; status, logs, stop by name; connect's configurations
 * used as the clients would use them (mcp-remote over stdio as Claude Desktop
 * launches it, the VS Code and Cursor JSON, the Claude Code command line run by
 * a shell); the certificate kept across restarts; CERT_FILE/KEY_FILE; the
 * failure paths (engine down, unknown instance, timeout).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execa } from 'execa';
import { buildCaBundle, cli, docker, freePort, newToken, projectDir, trustingFetch } from './harness.js';
import { IMAGE_HEALTHCHECK } from '../../package_scripts/docker/healthcheck.js';

interface Side {
  name: string;
  envFile: string;
  port: number;
  token: string;
}

const FINGERPRINT = /SHA-256: +((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/;

/** One MCP client over Streamable HTTP with exactly this URL, header and trusted certificate. */
async function listToolsOver(url: string, authorization: string, trusted: string): Promise<string[]> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: trustingFetch(trusted),
    requestInit: { headers: { Authorization: authorization } },
  });
  const client = new Client({ name: 'ops-e2e', version: '1.0.0' });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

describe('operator commands with two instances side by side (steps in order, on shared instances)', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ops-e2e-'));
  const sides: Record<'a' | 'b', Side> = {} as never;
  const firstFingerprint: Record<string, string> = {};

  before(async () => {
    const ca = buildCaBundle();
    for (const key of ['a', 'b'] as const) {
      const side: Side = { name: `ops-e2e-${key}`, envFile: join(dir, `.env.${key}`), port: await freePort(), token: newToken() };
      const lines = [`NAME=${side.name}`, `HOST_PORT=${side.port}`, `ACCESS_TOKEN=${side.token}`, ...(ca ? [`EXTRA_CA_CERT=${ca}`] : [])];
      writeFileSync(side.envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
      sides[key] = side;
      const built = await cli(['build', '--env-file', side.envFile]);
      assert.equal(built.exitCode, 0, built.all);
    }
  });

  after(async () => {
    for (const side of Object.values(sides)) {
      await cli(['stop', side.name]);
      await docker(['volume', 'rm', '-f', `${side.name}-tls`]);
    }
  });

  test('start -d waits, then prints URL, token location, fingerprint and the next step, for each env file', async () => {
    for (const side of Object.values(sides)) {
      const started = await cli(['start', '-d', '--env-file', side.envFile]);
      assert.equal(started.exitCode, 0, started.all);
      assert.match(started.stdout, new RegExp(`URL: +https://127\\.0\\.0\\.1:${side.port}/mcp`));
      assert.match(started.stdout, new RegExp(`Credential: +ACCESS_TOKEN in ${side.envFile.replace(/\./g, '\\.')}`));
      assert.match(started.stdout, new RegExp(`Next: +npm run connect -- --env-file ${side.envFile.replace(/\./g, '\\.')}`));
      // Not a terminal: plain progress lines, no spinner control characters.
      assert.match(started.stderr, new RegExp(`Waiting for ${side.name} to become healthy \\(\\d+ s\\)`));
      assert.ok(!started.all.includes('\x1b[2K'), 'no terminal control sequence in piped output');
      assert.ok(!started.all.includes(side.token), 'the token is never printed by start');
      firstFingerprint[side.name] = FINGERPRINT.exec(started.stdout)![1]!;
    }
    assert.notEqual(firstFingerprint['ops-e2e-a'], firstFingerprint['ops-e2e-b'], 'each instance has its own certificate');
  });

  test('status reports both: template, health, uptime, restarts, URL, image', async () => {
    const json = await cli(['status', '--json']);
    assert.equal(json.exitCode, 0, json.all);
    const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    for (const side of Object.values(sides)) {
      const row = rows.find((r) => r.name === side.name);
      assert.ok(row, `${side.name} listed`);
      assert.equal(row.template, 'nginx');
      assert.equal(row.state, 'running');
      assert.match(String(row.health), /^(healthy|starting)$/);
      assert.equal(typeof row.uptimeSeconds, 'number');
      assert.equal(row.restarts, 0);
      assert.equal(row.url, `https://127.0.0.1:${side.port}/mcp`);
      assert.equal(row.image, `${side.name}:latest`);
    }
    const table = await cli(['status']);
    assert.equal(table.exitCode, 0);
    assert.match(table.stdout, /^NAME +TEMPLATE +HEALTH +UPTIME +RESTARTS +URL +IMAGE/);
    for (const side of Object.values(sides))
      assert.match(table.stdout, new RegExp(`^${side.name} +nginx .*https://127\\.0\\.0\\.1:${side.port}/mcp +${side.name}:latest$`, 'm'));
  });

  test('logs are per instance, by name or by env file', async () => {
    const a = await cli(['logs', 'ops-e2e-a', '--tail', 'all']);
    const b = await cli(['logs', '--env-file', sides.b.envFile, '--tail', '200']);
    assert.equal(a.exitCode, 0, a.all);
    assert.equal(b.exitCode, 0, b.all);
    assert.ok(a.all.includes(`fingerprint: ${firstFingerprint['ops-e2e-a']}`), 'A logs its own certificate');
    assert.ok(!a.all.includes(firstFingerprint['ops-e2e-b']!), "A's log holds nothing of B");
    assert.ok(b.all.includes(`fingerprint: ${firstFingerprint['ops-e2e-b']}`));
    const two = await cli(['logs', 'ops-e2e-a', '--tail', '2']);
    assert.equal(two.all.trim().split('\n').length, 2);
  });

  test("connect's Claude Desktop configuration works unchanged: mcp-remote over stdio lists the tools", async () => {
    const printed = await cli(['connect', '--client', 'claude-desktop', '--env-file', sides.a.envFile]);
    assert.equal(printed.exitCode, 0, printed.all);
    const config = JSON.parse(printed.stdout) as { mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }> };
    const server = config.mcpServers['ops-e2e-a']!;
    assert.equal(server.env.AUTH_HEADER, `Bearer ${sides.a.token}`);
    assert.ok(!server.args.some((a) => a.includes(sides.a.token)), 'the token is not a process argument');
    assert.match(printed.stderr, /holds your ACCESS_TOKEN/);
    // Launched as Claude Desktop launches it: command, args and env as printed. Two
    // additions keep the run offline and private: npm_config_offline, so that npx
    // must take the pinned mcp-remote from this project's node_modules (the
    // devDependency of the same version) instead of the registry, and a fresh
    // MCP_REMOTE_CONFIG_DIR instead of ~/.mcp-auth.
    const transport = new StdioClientTransport({
      command: server.command,
      args: server.args,
      env: { ...server.env, npm_config_offline: 'true', MCP_REMOTE_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'ops-e2e-mcp-remote-')) },
      cwd: projectDir,
      stderr: 'pipe',
    });
    let bridgeLog = '';
    transport.stderr?.on('data', (chunk) => (bridgeLog += String(chunk)));
    const client = new Client({ name: 'ops-e2e-claude-desktop', version: '1.0.0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      assert.ok(
        tools.some((t) => t.name === 'list_directory'),
        `tools: ${tools.map((t) => t.name).join(', ')}; mcp-remote said: ${bridgeLog}`,
      );
    } finally {
      await client.close();
    }
    assert.match(bridgeLog, /Connected to remote server using StreamableHTTPClientTransport/);
  });

  test("connect's VS Code and Cursor JSON name the running instance's URL and header, and they work", async () => {
    const certificate = readFileSync(join(dir, '.mcp-sandbox', 'ops-e2e-a', 'cert.pem'), 'utf8');
    const vscode = await cli(['connect', '--client', 'vscode', '--env-file', sides.a.envFile]);
    assert.equal(vscode.exitCode, 0, vscode.all);
    const server = (JSON.parse(vscode.stdout) as { servers: Record<string, { type: string; url: string; headers: Record<string, string> }> }).servers[
      'ops-e2e-a'
    ]!;
    assert.deepEqual(server, { type: 'http', url: `https://127.0.0.1:${sides.a.port}/mcp`, headers: { Authorization: `Bearer ${sides.a.token}` } });
    assert.ok((await listToolsOver(server.url, server.headers.Authorization, certificate)).includes('list_directory'));

    const cursor = await cli(['connect', '--client', 'cursor', '--json', '--env-file', sides.a.envFile]);
    const entry = (JSON.parse(cursor.stdout) as { mcpServers: Record<string, { url: string; headers: Record<string, string> }> }).mcpServers['ops-e2e-a']!;
    assert.deepEqual(entry, { url: server.url, headers: server.headers });
  });

  test("connect's Claude Code line, run by a shell, passes the URL and header as separate arguments", async () => {
    const printed = await cli(['connect', '--client', 'claude-code', '--env-file', sides.b.envFile]);
    assert.equal(printed.exitCode, 0, printed.all);
    const bin = mkdtempSync(join(tmpdir(), 'ops-e2e-bin-'));
    const seen = join(bin, 'argv');
    writeFileSync(join(bin, 'claude'), `#!/bin/sh\nprintf '%s\\0' "$@" > '${seen}'\n`, { mode: 0o755 });
    const ran = await execa('bash', ['-c', printed.stdout.trim()], { env: { PATH: `${bin}:${process.env.PATH}` }, reject: false });
    assert.equal(ran.exitCode, 0, ran.stderr);
    const argv = readFileSync(seen, 'utf8').split('\0').slice(0, -1);
    const url = `https://127.0.0.1:${sides.b.port}/mcp`;
    assert.deepEqual(argv, ['mcp', 'add', '--transport', 'http', 'ops-e2e-b', url, '--header', `Authorization: Bearer ${sides.b.token}`]);
    const header = argv[7]!.replace(/^Authorization: /, '');
    const certificate = readFileSync(join(dir, '.mcp-sandbox', 'ops-e2e-b', 'cert.pem'), 'utf8');
    assert.ok((await listToolsOver(url, header, certificate)).length > 0);
  });

  test('a timeout while waiting prints the last log lines and exits 1; the certificate survives the restarts', async () => {
    // 1 s: long enough for the entrypoint's first log lines, too short for health, which the
    // session gateway reports at the earliest 1 s after it listens (SELF_CHECK_DELAY_MS).
    const slow = await cli(['start', '-d', '--timeout', '1', '--env-file', sides.a.envFile]);
    assert.equal(slow.exitCode, 1, slow.all);
    assert.match(slow.stderr, /did not become healthy within 1 s/);
    assert.ok(slow.stderr.includes(`command: docker exec ops-e2e-a ${IMAGE_HEALTHCHECK.command.join(' ')}\n`), slow.stderr);
    assert.match(slow.stderr, /\[sandbox\]/, 'the container log lines are shown');
    const again = await cli(['start', '-d', '--env-file', sides.a.envFile]);
    assert.equal(again.exitCode, 0, again.all);
    assert.equal(FINGERPRINT.exec(again.stdout)![1], firstFingerprint['ops-e2e-a'], 'same certificate after two restarts');
  });

  test('CERT_FILE/KEY_FILE: served instead of the self-signed one (a key of another owner, mode 0600), which comes back without them', async () => {
    // Test-only CA and leaf from test/fixtures/tls, copied so the key can get another owner.
    const tls = mkdtempSync(join(tmpdir(), 'ops-e2e-tls-'));
    for (const file of ['ca.pem', 'leaf.pem', 'leaf-key.pem']) copyFileSync(join(projectDir, 'test', 'fixtures', 'tls', file), join(tls, file));
    const keyFile = join(tls, 'leaf-key.pem');
    chmodSync(keyFile, 0o600);
    if (process.getuid?.() === 0) chownSync(keyFile, 4321, 4321);
    const leaf = new X509Certificate(readFileSync(join(tls, 'leaf.pem')));

    const original = readFileSync(sides.b.envFile, 'utf8');
    appendFileSync(sides.b.envFile, `CERT_FILE=${join(tls, 'leaf.pem')}\nKEY_FILE=${keyFile}\n`);
    const started = await cli(['start', '-d', '--env-file', sides.b.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    assert.equal(FINGERPRINT.exec(started.stdout)![1], leaf.fingerprint256);
    assert.match(started.stdout, /issued by CN=mcp-sandbox test CA/);
    const url = `https://127.0.0.1:${sides.b.port}/mcp`;
    assert.ok((await listToolsOver(url, `Bearer ${sides.b.token}`, readFileSync(join(tls, 'ca.pem'), 'utf8'))).length > 0, 'trusted through the CA alone');
    const connectJson = JSON.parse((await cli(['connect', '--json', '--env-file', sides.b.envFile])).stdout);
    assert.equal(connectJson.fingerprint, leaf.fingerprint256);
    assert.equal(
      connectJson.clients['claude-desktop'].mcpServers['ops-e2e-b'].env.NODE_EXTRA_CA_CERTS,
      undefined,
      'a CA-issued leaf is not offered as a trust anchor',
    );

    writeFileSync(sides.b.envFile, original);
    const back = await cli(['start', '-d', '--env-file', sides.b.envFile]);
    assert.equal(back.exitCode, 0, back.all);
    assert.equal(FINGERPRINT.exec(back.stdout)![1], firstFingerprint['ops-e2e-b'], 'the kept self-signed certificate is served again');
  });

  test('--dry-run on build, start and stop prints the docker argv without the token and runs nothing', async () => {
    const envFile = join(dir, '.env.dry');
    const token = newToken();
    writeFileSync(envFile, `NAME=ops-e2e-dry\nHOST_PORT=${await freePort()}\nACCESS_TOKEN=${token}\n`, { mode: 0o600 });
    const build = await cli(['build', '--dry-run', '--env-file', envFile]);
    const start = await cli(['start', '-d', '--dry-run', '--env-file', envFile]);
    const stop = await cli(['stop', '--dry-run', '--env-file', envFile]);
    for (const result of [build, start, stop]) {
      assert.equal(result.exitCode, 0, result.all);
      assert.ok(!result.all.includes(token));
    }
    assert.match(build.stdout, /^docker build --force-rm --file \S+\/Dockerfile --tag ops-e2e-dry:latest /);
    assert.match(start.stdout, /^docker run --name ops-e2e-dry --detach --restart unless-stopped .* --env ACCESS_TOKEN .* ops-e2e-dry:latest$/);
    // stop also removes the volume that holds MCP_ENV's values (start writes it before run).
    assert.equal(stop.stdout, 'docker rm --force ops-e2e-dry\ndocker network rm ops-e2e-dry-net\ndocker volume rm ops-e2e-dry-server-env');
    assert.equal((await docker(['image', 'ls', '--quiet', 'ops-e2e-dry'])).stdout, '', 'no image built');
    assert.equal((await docker(['ps', '--all', '--quiet', '--filter', 'name=^/ops-e2e-dry$'])).stdout, '', 'no container made');
    const all = await cli(['stop', '--all', '--dry-run']);
    assert.match(all.stdout, /^docker rm --force ops-e2e-a$/m);
    assert.match(all.stdout, /^docker rm --force ops-e2e-b$/m);
    assert.equal((await docker(['inspect', '--format', '{{.State.Status}}', 'ops-e2e-a'])).stdout, 'running', 'stop --all --dry-run stopped nothing');
  });

  test('doctor passes on a running instance and names the port as its own', async () => {
    const checked = await cli(['doctor', '--json', '--env-file', sides.a.envFile]);
    assert.equal(checked.exitCode, 0, checked.all);
    const report = JSON.parse(checked.stdout) as { ok: boolean; checks: Array<{ name: string; verdict: string; detail: string }> };
    assert.equal(report.ok, true);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    assert.match(byName.engine!.detail, /^(Docker|Docker Desktop|Podman) \d/);
    assert.equal(byName.port!.detail, `127.0.0.1:${sides.a.port} is published by ops-e2e-a (this instance)`);
    assert.equal(byName['env file']!.verdict, 'pass');
    assert.equal(byName.token!.verdict, 'pass');
  });

  test('engine down: status, logs and doctor say so clearly and exit non-zero', async () => {
    const env = { DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` };
    const status = await cli(['status'], { env });
    assert.equal(status.exitCode, 1);
    // DOCKER_HOST names a socket on this machine: the message names the setting and the local fix.
    const named = /The Docker engine at DOCKER_HOST=unix:\S+ \(in your shell\) is not reachable/;
    assert.match(status.stderr, new RegExp(`${named.source}\\. Start Docker`));
    const logs = await cli(['logs', 'ops-e2e-a'], { env });
    assert.equal(logs.exitCode, 1);
    assert.match(logs.stderr, named);
    const doctor = await cli(['doctor', '--env-file', sides.a.envFile], { env });
    assert.equal(doctor.exitCode, 1);
    assert.match(doctor.stdout, new RegExp(`^FAIL +engine +${named.source}$`, 'm'));
    assert.match(doctor.stdout, /fix: Start Docker Desktop/);
  });

  test('stop by name removes one instance; the other keeps running; the stopped one is then unknown', async () => {
    const stopped = await cli(['stop', 'ops-e2e-a']);
    assert.equal(stopped.exitCode, 0, stopped.all);
    const rows = JSON.parse((await cli(['status', '--json'])).stdout) as Array<{ name: string; state: string }>;
    assert.equal(
      rows.find((r) => r.name === 'ops-e2e-a'),
      undefined,
    );
    assert.equal(rows.find((r) => r.name === 'ops-e2e-b')?.state, 'running');
    const logs = await cli(['logs', 'ops-e2e-a']);
    assert.equal(logs.exitCode, 1); // StateError: the engine was asked; no usage error
    assert.match(logs.stderr, /No mcp-sandbox instance named ops-e2e-a\. `npm run status` lists them/);
    const connect = await cli(['connect', '--env-file', sides.a.envFile]);
    assert.equal(connect.exitCode, 1);
    assert.match(connect.stderr, /No mcp-sandbox instance named ops-e2e-a/);
  });
});
