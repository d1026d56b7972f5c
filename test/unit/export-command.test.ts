import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { exportCommand, type ExportCommandOptions } from '../../package_scripts/commands/export.js';
import type { CommandContext } from '../../package_scripts/context.js';
import { UsageError } from '../../package_scripts/errors.js';
import { writeExport } from '../../package_scripts/export/export-files.js';
import { exportRoot, NGROK_TOKEN, TOKEN } from './export-fixture.js';
import { repoRoot, tlsFixtures, writeEnvFile } from './project-fixture.js';
import { recordingOutput } from './recording-output.js';

let counter = 0;
/** A fresh folder with one env file per entry (NAME → its other settings). */
function folderWith(instances: Record<string, Record<string, string>>): { dir: string; envFiles: string[] } {
  counter += 1;
  const dir = join(exportRoot, `cmd-${counter}`);
  mkdirSync(dir, { recursive: true });
  const envFiles = Object.entries(instances).map(([name, settings]) => {
    const file = join(dir, `.env.${name}`);
    const values = { NAME: name, ACCESS_TOKEN: TOKEN, ...settings };
    return writeEnvFile(file, values);
  });
  return { dir, envFiles };
}

function recordingContext() {
  const calls: string[][] = [];
  const messages: string[] = [];
  const ctx: CommandContext = {
    projectDir: repoRoot,
    hostEnv: { HOME: join(exportRoot, 'home') },
    out: recordingOutput(messages),
    docker: () => ({
      async run(args) {
        calls.push(args);
        return { stdout: '', stderr: '', exitCode: 0 };
      },
    }),
  };
  return { ctx, calls, messages };
}

async function run(options: ExportCommandOptions) {
  const recorded = recordingContext();
  await exportCommand(recorded.ctx, options);
  return recorded;
}

async function refused(options: ExportCommandOptions, message: RegExp) {
  const recorded = recordingContext();
  await assert.rejects(exportCommand(recorded.ctx, options), (error: Error) => error instanceof UsageError && message.test(error.message));
  assert.deepEqual(recorded.calls, [], 'no docker command ran');
  return recorded;
}

describe('npm run export', () => {
  it('compose --out: compose.yaml, the 0600 env file and the seccomp copy, written whole; nothing else left beside', async () => {
    const { dir, envFiles } = folderWith({ one: { MCP_ENV: 'API_KEY', API_KEY: 'k3y-value' } });
    const out = join(dir, 'deploy');
    const { messages } = await run({ format: 'compose', out, envFile: envFiles });
    assert.deepEqual(readdirSync(out).sort(), ['compose.yaml', 'one.env', 'one.server-env', 'seccomp.json']);
    assert.deepEqual(readdirSync(dir).sort(), ['.env.one', 'deploy'], 'no staging folder left');
    assert.equal(statSync(join(out, 'one.env')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'one.server-env')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'compose.yaml')).mode & 0o777, 0o644);
    // The gateway's secret in the env file (Config.Env); the server's value in its own secret file only.
    assert.equal(readFileSync(join(out, 'one.env'), 'utf8'), `ACCESS_TOKEN='${TOKEN}'\n`);
    assert.equal(readFileSync(join(out, 'one.server-env'), 'utf8'), `API_KEY=${Buffer.from('k3y-value').toString('base64')}\n`);
    const compose = parse(readFileSync(join(out, 'compose.yaml'), 'utf8'));
    assert.deepEqual(compose.services.one.security_opt, ['no-new-privileges', `seccomp=${join(out, 'seccomp.json')}`]);
    assert.deepEqual(compose.services.one.env_file, ['one.env']);
    assert.deepEqual(compose.secrets, { 'one-server-env': { file: './one.server-env' } });
    assert.ok(!messages.join('\n').includes(TOKEN));
    assert.ok(messages.some((m) => m.includes(`docker-compose -f ${out}/compose.yaml up -d`)));
  });

  it("a Compose preview shows the server's secret file by its names only, never its base64 values", async () => {
    const { envFiles } = folderWith({ one: { MCP_ENV: 'API_KEY', API_KEY: 'k3y-value' } });
    const text = (await run({ format: 'compose', envFile: envFiles })).messages.join('\n');
    assert.match(
      text,
      /# ---- one\.server-env \(secret values masked; written with mode 0600\) ----\ndata: \(the values of API_KEY as base64, for the server alone\)/,
    );
    assert.ok(!text.includes('k3y-value') && !text.includes(Buffer.from('k3y-value').toString('base64')));
  });

  it('a preview without --out: every file on stdout with the secrets masked, nothing written', async () => {
    const { dir, envFiles } = folderWith({ one: { MCP_ENV: 'API_KEY', API_KEY: 'k3y-value' } });
    const { messages } = await run({ format: 'kubernetes', envFile: envFiles });
    const text = messages.join('\n');
    assert.ok(!text.includes(TOKEN) && !text.includes('k3y-value'), 'secrets masked');
    assert.match(text, /ACCESS_TOKEN: \*\*\*\*/);
    assert.match(text, /# ---- one\.secret\.yaml \(secret values masked; written with mode 0600\) ----/);
    assert.match(text, /# ---- seccomp\/mcp-sandbox\/seccomp\.json ----\ndata: \(a copy of /);
    assert.ok(!text.includes(Buffer.from(TOKEN).toString('base64')), 'the base64 form is not printed either');
    assert.match(text, /# ---- one\.podman-secret\.json .*----\ndata: \(the values of one-env as base64, for podman secret create\)/);
    assert.deepEqual(readdirSync(dir), ['.env.one']);
  });

  it('kubernetes --out: the manifests, one 0600 Secret file per instance, the seccomp profile in the kubelet layout', async () => {
    const { dir, envFiles } = folderWith({ one: {}, two: { TEMPLATE: 'ngrok', NGROK_AUTHTOKEN: NGROK_TOKEN } });
    const out = join(dir, 'k8s');
    const { messages } = await run({ format: 'kubernetes', out, envFile: envFiles });
    assert.deepEqual(readdirSync(out, { recursive: true }).map(String).sort(), [
      'kubernetes.yaml',
      'one.podman-secret.json',
      'one.secret.yaml',
      'seccomp',
      'seccomp/mcp-sandbox',
      'seccomp/mcp-sandbox/seccomp.json',
      'two.podman-secret.json',
      'two.secret.yaml',
    ]);
    for (const file of ['two.secret.yaml', 'one.podman-secret.json']) assert.equal(statSync(join(out, file)).mode & 0o777, 0o600, file);
    const kinds = parseAllDocuments(readFileSync(join(out, 'kubernetes.yaml'), 'utf8')).map((d) => {
      const object = d.toJS() as { kind: string; metadata: { name: string } };
      return `${object.kind}/${object.metadata.name}`;
    });
    assert.deepEqual(kinds, [
      'PersistentVolumeClaim/one-warden',
      'Deployment/one',
      'Service/one',
      'NetworkPolicy/one',
      'PersistentVolumeClaim/two-warden',
      'Deployment/two',
      'NetworkPolicy/two',
    ]);
    assert.ok(!readFileSync(join(out, 'kubernetes.yaml'), 'utf8').includes(TOKEN));
    assert.ok(messages.some((m) => m.includes(`podman secret create one-env ${out}/one.podman-secret.json`)));
  });

  it('AUTH=oauth: Compose carries the auth volume, the resource start would announce and the passphrase in the 0600 env file; Kubernetes refuses it', async () => {
    const passphrase = 'owner passphrase for export';
    const { dir, envFiles } = folderWith({
      one: { AUTH: 'oauth', OAUTH_OWNER_PASSPHRASE: passphrase, HOST_PORT: '9443', TLS_HOSTNAMES: 'DNS:mcp.example.com' },
    });
    const out = join(dir, 'deploy');
    await run({ format: 'compose', out, envFile: envFiles });
    const text = readFileSync(join(out, 'compose.yaml'), 'utf8');
    const compose = parse(text);
    assert.deepEqual(Object.keys(compose.volumes), ['one-tls', 'one-auth', 'one-warden']);
    assert.ok(
      compose.services.one.volumes.some((v: { source: string; target: string }) => v.source === 'one-auth' && v.target === '/var/lib/mcp-sandbox/auth'),
      JSON.stringify(compose.services.one.volumes),
    );
    assert.equal(compose.services.one.environment.AUTH, 'oauth');
    assert.equal(compose.services.one.environment.AUTH_RESOURCE, 'https://mcp.example.com:9443/mcp');
    assert.ok(!text.includes(passphrase), 'the passphrase is not in the YAML');
    assert.match(readFileSync(join(out, 'one.env'), 'utf8'), new RegExp(`^OAUTH_OWNER_PASSPHRASE='${passphrase}'$`, 'm'));
    assert.equal(statSync(join(out, 'one.env')).mode & 0o777, 0o600);

    await refused(
      { format: 'kubernetes', out: join(dir, 'k8s'), envFile: envFiles },
      /AUTH=oauth is not exported to Kubernetes yet; export it with --format compose/,
    );
    assert.equal(existsSync(join(dir, 'k8s')), false);
  });

  it('several env files: one Compose project with each instance apart', async () => {
    const { dir, envFiles } = folderWith({ one: { HOST_PORT: '9001' }, two: { HOST_PORT: '9002' } });
    const out = join(dir, 'deploy');
    await run({ format: 'compose', out, envFile: envFiles });
    const compose = parse(readFileSync(join(out, 'compose.yaml'), 'utf8'));
    assert.deepEqual(Object.keys(compose.services), ['one', 'two']);
    assert.deepEqual(Object.keys(compose.networks), ['one-net', 'two-net']);
    assert.deepEqual(readdirSync(out).sort(), ['compose.yaml', 'one.env', 'seccomp.json', 'two.env']);
  });

  it('MCP_NETWORKS: the service joins them as external networks (they must exist), beside its own', async () => {
    const { dir, envFiles } = folderWith({ one: { MCP_NETWORKS: 'db-net' }, two: {} });
    const out = join(dir, 'deploy');
    await run({ format: 'compose', out, envFile: envFiles });
    const compose = parse(readFileSync(join(out, 'compose.yaml'), 'utf8'));
    assert.deepEqual(compose.services.one.networks, ['one-net', 'db-net']);
    assert.deepEqual(compose.services.two.networks, ['two-net'], 'control: only the instance that asked');
    assert.deepEqual(compose.networks['db-net'], { name: 'db-net', external: true });
    assert.equal(compose.networks['one-net'].external, undefined);
  });

  it('--registry names where each image is pulled from and prints the tag and push lines; --push runs them', async () => {
    const { envFiles } = folderWith({ one: {} });
    const printed = await run({ format: 'kubernetes', envFile: envFiles, registry: 'registry.example.com/team' });
    assert.match(printed.messages.join('\n'), /image: registry\.example\.com\/team\/one:latest/);
    assert.ok(printed.messages.some((m) => m.includes('docker tag one:latest registry.example.com/team/one:latest')));
    assert.deepEqual(printed.calls, []);
    const pushed = await run({ format: 'kubernetes', envFile: envFiles, registry: 'registry.example.com/team', push: true });
    assert.deepEqual(pushed.calls, [
      ['tag', 'one:latest', 'registry.example.com/team/one:latest'],
      ['push', 'registry.example.com/team/one:latest'],
    ]);
  });

  describe('bad input: a clear message, exit 2, nothing written', () => {
    it('an unknown format', async () => {
      const { envFiles } = folderWith({ one: {} });
      await refused({ format: 'helm', envFile: envFiles } as never, /--format must be one of compose, kubernetes/);
    });

    it('--out that exists and is not empty, unless --force (which replaces it whole)', async () => {
      const { dir, envFiles } = folderWith({ one: {} });
      const out = join(dir, 'deploy');
      mkdirSync(out);
      writeFileSync(join(out, 'mine.txt'), 'keep');
      await refused({ format: 'compose', out, envFile: envFiles }, /deploy exists and is not empty; choose a new folder, or pass --force/);
      assert.deepEqual(readdirSync(out), ['mine.txt']);
      await run({ format: 'compose', out, envFile: envFiles, force: true });
      assert.deepEqual(readdirSync(out).sort(), ['compose.yaml', 'one.env', 'seccomp.json']);
      assert.deepEqual(readdirSync(dir).sort(), ['.env.one', 'deploy']);
    });

    it('settings a cluster cannot use: CERT_FILE, MCP_MOUNTS, a NAME that is no Kubernetes name', async () => {
      const fixtures = tlsFixtures();
      const cases: Array<[Record<string, string>, RegExp]> = [
        [
          { CERT_FILE: join(fixtures, 'leaf.pem'), KEY_FILE: join(fixtures, 'leaf-key.pem') },
          /CERT_FILE and KEY_FILE name files on this machine, which a cluster cannot see; leave them empty/,
        ],
        [{ MCP_MOUNTS: `${join(exportRoot, 'instance', 'data')}:/workspace` }, /MCP_MOUNTS binds folders of this machine/],
        [{ MCP_NETWORKS: 'db-net' }, /MCP_NETWORKS joins engine networks, which a cluster does not have.*allow the Service in MCP_EGRESS/],
      ];
      for (const [settings, message] of cases) {
        const { dir, envFiles } = folderWith({ one: settings });
        await refused({ format: 'kubernetes', out: join(dir, 'k8s'), envFile: envFiles }, message);
        assert.equal(existsSync(join(dir, 'k8s')), false);
      }
      const { envFiles } = folderWith({ with_underscore: {} });
      await refused({ format: 'kubernetes', envFile: envFiles }, /NAME=with_underscore cannot name Kubernetes objects/);
      // Its volumes are named NAME-tmp, NAME-run, NAME-tls, NAME-warden: 63 characters at most. Control: one character less passes.
      const long = folderWith({ [`k${'8'.repeat(56)}`]: {} });
      await refused(
        { format: 'kubernetes', envFile: long.envFiles },
        /NAME=k8{56} is too long for Kubernetes: the pod's volume k8{56}-warden must have at most 63 characters/,
      );
      await run({ format: 'kubernetes', envFile: folderWith({ [`k${'8'.repeat(55)}`]: {} }).envFiles });
    });

    it('an error while writing leaves nothing half-written: no new folder, or the old one as it was', () => {
      const { dir } = folderWith({});
      const out = join(dir, 'deploy');
      // A file named twice fails on its second write, after the first file is in the staging folder.
      const failing = [
        { name: 'a.yaml', text: 'a: 1\n', secret: false },
        { name: 'x.env', text: 'X=1\n', secret: true },
        { name: 'x.env', text: 'X=2\n', secret: true },
      ];
      assert.throws(() => writeExport(out, failing, false), UsageError);
      assert.deepEqual(readdirSync(dir), [], 'no folder and no staging folder left');
      mkdirSync(out);
      writeFileSync(join(out, 'mine.txt'), 'keep');
      assert.throws(() => writeExport(out, failing, true), UsageError);
      assert.deepEqual([readdirSync(dir), readdirSync(out)], [['deploy'], ['mine.txt']], 'the old folder as it was');
      // Control: the same files without the repeat are written whole, in its place.
      writeExport(out, failing.slice(0, 2), true);
      assert.deepEqual([readdirSync(dir), readdirSync(out).sort()], [['deploy'], ['a.yaml', 'x.env']]);
    });

    it('a secret value Compose would read differently: the variable is named, its value is not', async () => {
      const passphrase = { AUTH: 'oauth', OAUTH_OWNER_PASSPHRASE: `"it's-secret-passphrase"` };
      const { envFiles } = folderWith({ one: passphrase });
      const recorded = recordingContext();
      await assert.rejects(exportCommand(recorded.ctx, { format: 'compose', envFile: envFiles }), (error: Error) => {
        assert.match(error.message, /the value of OAUTH_OWNER_PASSPHRASE holds a quote or a backslash/);
        assert.ok(!error.message.includes("it's-secret"));
        return true;
      });
      // Control: the same value for the server (MCP_ENV) travels in its own file (base64), which carries any value.
      const server = folderWith({ one: { MCP_ENV: 'API_KEY', API_KEY: `"it's-secret"` } });
      await exportCommand(recordingContext().ctx, { format: 'compose', envFile: server.envFiles });
    });

    it('two env files with one NAME; --image for several; --push with nowhere to push; --image and --registry', async () => {
      const { dir } = folderWith({});
      const a = join(dir, '.env.a');
      const b = join(dir, '.env.b');
      for (const file of [a, b]) writeFileSync(file, `NAME=same\nACCESS_TOKEN=${TOKEN}\n`);
      await refused({ format: 'compose', envFile: [a, b] }, /both have NAME=same; each instance needs its own NAME/);
      const { envFiles } = folderWith({ x: {}, y: {} });
      await refused({ format: 'compose', envFile: envFiles, image: 'registry.example.com/x:1' }, /--image names one image, but several --env-file were given/);
      await refused({ format: 'compose', envFile: envFiles.slice(0, 1), push: true }, /--push needs --image or --registry/);
      await refused({ format: 'compose', envFile: envFiles.slice(0, 1), image: 'r.example.com/x:1', registry: 'r.example.com' }, /give one of them/);
      await refused({ format: 'compose', envFile: envFiles.slice(0, 1), image: 'Not A Ref' }, /--image Not A Ref is not an image reference/);
    });
  });
});
