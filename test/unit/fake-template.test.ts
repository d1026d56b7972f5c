/**
 * A fourth template, added the way a newcomer adds one: a descriptor and a
 * folder docker/relay/ with its files, nothing else. It flows through
 * settings, build, start, connect, status and the Compose export with a
 * recording engine: no code outside the descriptor knows its name.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { build } from '../../package_scripts/commands/build.js';
import { connect } from '../../package_scripts/commands/connect.js';
import { exportCommand } from '../../package_scripts/commands/export.js';
import { start } from '../../package_scripts/commands/start.js';
import { status } from '../../package_scripts/commands/status.js';
import type { CommandContext } from '../../package_scripts/context.js';
import type { DockerEngine } from '../../package_scripts/docker/engine.js';
import { TUNNEL_VOLUME_TARGET } from '../../package_scripts/docker/names.js';
import { UsageError } from '../../package_scripts/errors.js';
import type { EndpointProbeTarget } from '../../package_scripts/mcp-probe.js';
import { loadSettings } from '../../package_scripts/settings/load.js';
import { TEMPLATE_FILES } from '../../package_scripts/templates/files.js';
import { registerTemplate } from '../../package_scripts/templates/registry.js';
import { AUTH_SETTINGS, type TemplateDescriptor } from '../../package_scripts/templates/template.js';
import { makeProjectDir, ok, repoRoot, SERVED, writeEnvFile } from './project-fixture.js';
import { recordingOutput } from './recording-output.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-fake-template-'));
after(() => rmSync(root, { recursive: true, force: true }));
const TOKEN = 'cd'.repeat(32);
const RELAY_KEY = 'relay-key-0123456789';
const PUBLIC_URL = 'https://abc.relay.test';

/** The descriptor: everything the CLI asks about the template. */
const relay: TemplateDescriptor = {
  name: 'relay',
  summary: 'a test relay',
  reach: 'public-url',
  settings: ['ACCESS_TOKEN', ...AUTH_SETTINGS, 'RELAY_KEY', 'RELAY_REGION'],
  secrets: ['RELAY_KEY'],
  settingPrefix: 'RELAY_',
  authModes: ['bearer'],
  containerChecksToken: false,
  validator: { module: 'docker/relay/gateway/settings.cjs', exportName: 'relaySettings' },
  keepsTunnelState: true,
  credential: (values) => (values.RELAY_KEY ? { setting: 'RELAY_KEY', scheme: 'Bearer', authorization: `Bearer ${values.RELAY_KEY}` } : undefined),
  startWarnings: (values) => (values.RELAY_REGION ? [] : ['RELAY_REGION is not set: the relay picks the nearest region']),
};

/** The folder: a project holding docker/relay/ with every file of the list, and its settings module. */
function projectWithRelay(): string {
  const dir = makeProjectDir(join(root, 'project'));
  copyFileSync(join(repoRoot, 'Dockerfile'), join(dir, 'Dockerfile'));
  mkdirSync(join(dir, 'build-extra', 'ca'), { recursive: true });
  mkdirSync(join(dir, 'build-extra', 'server'), { recursive: true });
  const folder = join(dir, 'docker', 'relay');
  mkdirSync(join(folder, 'gateway'), { recursive: true });
  for (const file of TEMPLATE_FILES) {
    writeFileSync(join(folder, file.path), file.executable ? '#!/bin/sh\nexit 0\n' : '');
    if (file.executable) chmodSync(join(folder, file.path), 0o755);
  }
  writeFileSync(
    join(folder, 'gateway', 'settings.cjs'),
    [
      "'use strict';",
      'function relaySettings(env) {',
      "  if (!env.RELAY_KEY) throw new Error('RELAY_KEY is missing: ask the relay for one');",
      "  if (env.RELAY_REGION && !['eu', 'us'].includes(env.RELAY_REGION)) throw new Error('RELAY_REGION must be eu or us');",
      '  return { key: env.RELAY_KEY, region: env.RELAY_REGION };',
      '}',
      'module.exports = { relaySettings };',
      '',
    ].join('\n'),
  );
  return dir;
}

registerTemplate(relay);
const projectDir = projectWithRelay();
let counter = 0;

function envFileWith(lines: Record<string, string>): string {
  counter += 1;
  const dir = join(root, `instance-${counter}`);
  mkdirSync(join(dir, 'home'), { recursive: true });
  const file = join(dir, '.env');
  const values = { NAME: `relay-${counter}`, TEMPLATE: 'relay', ACCESS_TOKEN: TOKEN, RELAY_KEY, ...lines };
  return writeEnvFile(file, values);
}

/** A recording engine with one running relay instance, as Docker would describe it. */
function recording(envFile: string, onCall: (args: string[]) => void = () => {}) {
  const name = /^NAME=(.*)$/m.exec(readFileSync(envFile, 'utf8'))![1]!;
  const calls: string[][] = [];
  const probes: EndpointProbeTarget[] = [];
  const messages: string[] = [];
  const inspect = {
    Name: `/${name}`,
    RestartCount: 0,
    Config: { Image: `${name}:latest`, Labels: { 'io.mcp-sandbox.instance': name, 'io.mcp-sandbox.template': 'relay' } },
    State: { Status: 'running', Running: true, StartedAt: new Date().toISOString(), Health: { Status: 'healthy' } },
    NetworkSettings: { Ports: {} },
  };
  const engine: DockerEngine = {
    async run(args) {
      calls.push(args);
      onCall(args);
      if (args[0] === 'exec' && args.at(-1) === '/run/sandbox/public-url') return ok(`${PUBLIC_URL}\n`);
      if (args[0] === 'inspect') return ok('running');
      if (args[0] === 'ps') return ok(`id-${name}`);
      if (args[0] === 'container' && args[1] === 'inspect') return ok(JSON.stringify([inspect]));
      return ok();
    },
  };
  const ctx: CommandContext = {
    projectDir,
    hostEnv: { HOME: join(envFile, '..', 'home') },
    out: recordingOutput(messages),
    docker: () => engine,
    probeEndpoint: async (target) => {
      probes.push(target);
      return SERVED;
    },
  };
  return { ctx, calls, probes, messages, name };
}

describe('a fourth template, registered through a descriptor and a folder only', () => {
  it('settings: its own settings reach the gateway, its secret is masked and kept from MCP_ENV, its module checks its values', () => {
    const settings = loadSettings(envFileWith({ RELAY_REGION: 'eu', HOST_PORT: '8443' }), { hostEnv: { HOME: root }, projectDir });
    assert.equal(settings.template, 'relay');
    assert.deepEqual(settings.gatewayEnv, { ACCESS_TOKEN: TOKEN, RELAY_KEY, RELAY_REGION: 'eu' });
    assert.ok(settings.secrets.includes(RELAY_KEY));
    assert.deepEqual(settings.unusedSettings, ['HOST_PORT'], "a published port's setting is not the relay's");
    // Bad input, each refused with the setting named: by the folder's own module, by the descriptor's prefix and secrets, by its AUTH modes.
    const refused: Array<[Record<string, string>, RegExp]> = [
      [{ RELAY_REGION: 'mars' }, /^TEMPLATE=relay: RELAY_REGION must be eu or us$/],
      [{ RELAY_KEY: '' }, /^TEMPLATE=relay: RELAY_KEY is missing/],
      [{ MCP_ENV: 'RELAY_KEY' }, /MCP_ENV lists RELAY_KEY, a gateway secret/],
      [{ MCP_ENV: 'RELAY_FUTURE', RELAY_FUTURE: 'x' }, /MCP_ENV lists RELAY_FUTURE, a gateway secret/],
      [{ AUTH: 'oauth' }, /AUTH=oauth is not served by TEMPLATE=relay: use AUTH=bearer/],
      [{ TEMPLATE: 'relai' }, /TEMPLATE must be one of nginx, ngrok, pinggy, relay/],
    ];
    for (const [lines, message] of refused) {
      assert.throws(
        () => loadSettings(envFileWith(lines), { hostEnv: { HOME: root }, projectDir }),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        String(message),
      );
    }
    // Positive control for the token rule: a tunnel that does not check the token in the container does not require it.
    assert.equal(loadSettings(envFileWith({ ACCESS_TOKEN: '' }), { hostEnv: { HOME: root }, projectDir }).accessToken, '');
  });

  it('build: TEMPLATE=relay is passed, and the staged context holds its folder', async () => {
    let staged: string[] = [];
    const envFile = envFileWith({});
    const h = recording(envFile, (args) => {
      if (args[0] !== 'build') return;
      const context = args.at(-1)!;
      staged = TEMPLATE_FILES.map((f) => join('docker', 'relay', f.path)).filter((path) => existsSync(join(context, path)));
    });
    await build(h.ctx, { envFile });
    const argv = h.calls.find((c) => c[0] === 'build')!;
    assert.ok(argv.join(' ').includes('--build-arg TEMPLATE=relay'), argv.join(' '));
    assert.equal(staged.length, TEMPLATE_FILES.length, 'every file of docker/relay/ was in the build context');
  });

  it('start -d: no port published, its state volume, its secret only beside the argv, its credential on the public URL', async () => {
    const envFile = envFileWith({});
    const h = recording(envFile);
    const info = await start(h.ctx, { detach: true, envFile });
    const run = h.calls.find((c) => c[0] === 'run')!;
    assert.ok(!run.includes('--publish') && !run.includes('-p'), run.join(' '));
    assert.ok(run.includes(`${h.name}-tunnel:${TUNNEL_VOLUME_TARGET}`), run.join(' '));
    assert.ok(!run.some((a) => a.startsWith(`${h.name}-tls:`)), 'no certificate volume');
    assert.ok(run.includes('RELAY_KEY') && !run.join(' ').includes(RELAY_KEY), 'the name on the argv, never the value');
    assert.equal(info?.url, `${PUBLIC_URL}/mcp`);
    assert.deepEqual(
      h.probes.map((p) => [p.url, p.authorization]),
      [[`${PUBLIC_URL}/mcp`, `Bearer ${RELAY_KEY}`]],
    );
    assert.ok(h.messages.includes('warn: RELAY_REGION is not set: the relay picks the nearest region'), h.messages.join('\n'));
    assert.ok(
      h.messages.some((m) => m.includes(`Credential:   RELAY_KEY in ${envFile}`)),
      h.messages.join('\n'),
    );
  });

  it('connect: the public URL and its credential, no certificate to pin', async () => {
    const envFile = envFileWith({});
    const h = recording(envFile);
    const result = await connect(h.ctx, { envFile, json: true });
    assert.deepEqual(result.endpoint, { serverName: h.name, url: `${PUBLIC_URL}/mcp`, authorization: `Bearer ${RELAY_KEY}` });
    assert.equal(result.fingerprint, undefined);
  });

  it('status: its row, with the URL read from inside the container', async () => {
    const envFile = envFileWith({});
    const h = recording(envFile);
    const rows = await status(h.ctx, { json: true, envFile });
    assert.deepEqual(
      rows.map((r) => [r.name, r.template, r.url]),
      [[h.name, 'relay', `${PUBLIC_URL}/mcp`]],
    );
  });

  it('Compose export: no ports, its state volume, its secret in the 0600 env file only', async () => {
    const envFile = envFileWith({ RELAY_REGION: 'us' });
    const h = recording(envFile);
    const out = join(root, 'compose-out');
    await exportCommand(h.ctx, { format: 'compose', out, envFile: [envFile] });
    const compose = parse(readFileSync(join(out, 'compose.yaml'), 'utf8'));
    const service = compose.services[h.name];
    assert.equal(service.ports, undefined);
    assert.ok(
      service.volumes.some((v: { source?: string }) => v.source === `${h.name}-tunnel`),
      JSON.stringify(service.volumes),
    );
    assert.ok(!readFileSync(join(out, 'compose.yaml'), 'utf8').includes(RELAY_KEY));
    assert.match(readFileSync(join(out, `${h.name}.env`), 'utf8'), new RegExp(`^RELAY_KEY='${RELAY_KEY}'$`, 'm'));
    assert.deepEqual(h.calls, [], 'an export runs no docker command');
  });
});
