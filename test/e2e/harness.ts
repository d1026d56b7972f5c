/**
 * End-to-end helpers: a real Docker engine, the real CLI (compiled, spawned as a
 * user would run it), and the real MCP SDK client over TLS. Nothing is mocked.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execa, type ResultPromise } from 'execa';
import { Agent, fetch as undiciFetch } from 'undici';
import type { EngineKind } from '../../package_scripts/engines/engine.js';

/**
 * The engine under test: Docker, or Podman through its Docker-compatible API
 * when MCPS_E2E_ENGINE=podman (podman.test.ts sets it with DOCKER_HOST, which
 * every docker and CLI process started here inherits).
 */
export const engine: EngineKind = process.env.MCPS_E2E_ENGINE === 'podman' ? 'podman' : 'docker';
/** A suite's title, marked with the engine when it is not Docker (the same suites run on both). */
export const onEngine = (title: string) => (engine === 'docker' ? title : `${title} [${engine}]`);

export const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const cliPath = join(projectDir, 'dist', 'package_scripts', 'main.js');
export const probeServerDir = join(projectDir, 'test', 'fixtures', 'probe-server');

/** The tests' own local CA (package_scripts/tls/ca.ts reads MCP_SANDBOX_CA_DIR), never the user's; every CLI run below inherits it. */
process.env.MCP_SANDBOX_CA_DIR ??= join(mkdtempSync(join(tmpdir(), 'mcp-sandbox-e2e-ca-')), 'ca');

/** The CA bundle that lets npm inside builds through this network's TLS inspection. */
export function buildCaBundle(): string | undefined {
  const candidates = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export const newToken = () => randomBytes(32).toString('hex');

export interface Instance {
  dir: string;
  envFile: string;
  name: string;
  port: number;
  token: string;
}

/** A fresh folder with a .env for one instance. */
export async function createInstance(name: string, settings: Record<string, string> = {}): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), `mcp-sandbox-e2e-${name}-`));
  const port = await freePort();
  const token = newToken();
  const ca = buildCaBundle();
  const values: Record<string, string> = {
    NAME: name,
    HOST_PORT: String(port),
    ACCESS_TOKEN: token,
    ...(ca ? { EXTRA_CA_CERT: ca } : {}),
    ...settings,
  };
  const envFile = join(dir, '.env');
  writeFileSync(
    envFile,
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );
  return { dir, envFile, name, port, token };
}

/** `npm run build`, then `npm run start -- -d`, for INSTANCE; each must succeed. Returns what start printed. */
export async function buildAndStart(instance: Instance): Promise<string> {
  const built = await cli(['build', '--env-file', instance.envFile]);
  assert.equal(built.exitCode, 0, built.all);
  const started = await cli(['start', '-d', '--env-file', instance.envFile]);
  assert.equal(started.exitCode, 0, started.all);
  return started.all ?? '';
}

/** The URL a tunnel container published (its public-url file), '' while it has none. */
export async function publishedUrl(container: string): Promise<string> {
  return (await docker(['exec', container, 'cat', '/run/sandbox/public-url'])).stdout.trim();
}

/** The first object of `docker inspect NAME` (or of another engine's inspect, such as podman's), which must succeed. */
export async function inspect<T = any>(
  name: string,
  run: (args: string[]) => Promise<{ exitCode?: number; stdout: string; stderr: string }> = docker,
): Promise<T> {
  const result = await run(['inspect', name]);
  assert.equal(result.exitCode, 0, result.stderr);
  return (JSON.parse(result.stdout) as T[])[0]!;
}

/** The CLI exactly as `npm run <command>` runs it. */
export function cli(args: string[], options: { env?: Record<string, string> } = {}) {
  return execa(process.execPath, ['--', cliPath, ...args], {
    cwd: projectDir,
    reject: false,
    env: { NO_COLOR: '1', ...options.env },
    all: true,
  });
}

export function cliBackground(args: string[]): ResultPromise<{ all: true; reject: false }> {
  return execa(process.execPath, ['--', cliPath, ...args], { cwd: projectDir, reject: false, all: true, env: { NO_COLOR: '1' } });
}

export async function docker(args: string[]) {
  return execa('docker', args, { reject: false });
}

export function certificateOf(instance: Instance): string {
  return readFileSync(join(instance.dir, '.mcp-sandbox', instance.name, 'cert.pem'), 'utf8');
}

/** fetch that trusts exactly this instance's certificate (TLS checks stay on). */
export function trustingFetch(certificate: string) {
  const dispatcher = new Agent({ connect: { ca: certificate } });
  return ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

export async function connectClient(instance: Instance, options: { token?: string; certificate?: string } = {}) {
  const certificate = options.certificate ?? certificateOf(instance);
  const transport = new StreamableHTTPClientTransport(new URL(`https://127.0.0.1:${instance.port}/mcp`), {
    fetch: trustingFetch(certificate),
    requestInit: { headers: { Authorization: `Bearer ${options.token ?? instance.token}` } },
  });
  const client = new Client({ name: 'mcp-sandbox-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/**
 * An MCP SDK client lists and calls the default server's tools (the filesystem server's
 * list_allowed_directories) through TLS and the token at AT; the control beside it: another
 * token gets nothing. For instances started some other way than `start` (an export played by
 * docker-compose or Podman): AT names where it listens, CERTIFICATE what it serves.
 */
export async function assertServesDefaultServer(at: Instance, certificate: string): Promise<void> {
  const client = await connectClient(at, { certificate });
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('list_allowed_directories'), tools.join(','));
    const called = await client.callTool({ name: 'list_allowed_directories', arguments: {} });
    assert.match(JSON.stringify(called.content), /\/workspace/);
  } finally {
    await client.close();
  }
  await assert.rejects(connectClient(at, { certificate, token: 'ab'.repeat(32) }));
}

/** An MCP client over plain HTTP (a tunnel's far end), with the bearer token. */
export async function connectHttp(url: string, token: string) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'mcp-sandbox-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/**
 * A test-only way in for a tunnel container whose tunnel cannot connect here
 * (ngrok): each TCP connection to the returned loopback URL becomes a
 * `docker exec` that relays bytes to Supergateway on the container's loopback.
 */
export async function execBridge(container: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((socket) => {
    // When the host side ends (stdin closes), the reader is killed too, so the
    // connection to the gateway closes as a real client's would: otherwise it
    // stays open inside the container and its session never counts as idle.
    const relay = spawn('docker', ['exec', '-i', container, 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/8000; cat <&3 & cat >&3; kill $! 2>/dev/null'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    socket.pipe(relay.stdin);
    relay.stdout.pipe(socket);
    relay.stdin.on('error', () => socket.destroy());
    socket.on('error', () => relay.kill());
    socket.on('close', () => relay.kill());
    relay.on('exit', () => socket.destroy());
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Call a probe tool and parse its JSON text. */
export async function callJson<T = any>(client: Client, name: string, args: Record<string, unknown> = {}, timeout = 60_000): Promise<T> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout });
  const content = result.content as Array<{ type: string; text: string }>;
  return JSON.parse(content[0]!.text) as T;
}

export async function removeInstance(instance: Instance): Promise<void> {
  await cli(['stop', '--env-file', instance.envFile]);
  await docker(['volume', 'rm', '-f', `${instance.name}-tls`, `${instance.name}-tunnel`, `${instance.name}-warden`]);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}
