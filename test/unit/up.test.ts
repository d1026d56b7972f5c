import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from '@dotenvx/dotenvx';
import { envFromExample } from '../../package_scripts/init/env-init.js';
import { up } from '../../package_scripts/commands/up.js';
import { healthcheckArgs } from '../../package_scripts/docker/argv.js';
import type { CommandContext } from '../../package_scripts/context.js';
import type { DockerCallOptions, DockerEngine } from '../../package_scripts/docker/engine.js';
import type { EndpointProbeTarget } from '../../package_scripts/mcp-probe.js';
import { UsageError } from '../../package_scripts/errors.js';
import { resolveSettings } from '../../package_scripts/settings/load.js';
import { PLACEHOLDER_SECRET } from '../../package_scripts/settings/schema.js';
import { CERT_PEM, makeProjectDir } from './project-fixture.js';
import { recordingOutput } from './recording-output.js';

/** dist/test/unit/up.test.js -> the repository root. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const realExample = readFileSync(join(repoRoot, '.env.example'), 'utf8');

const root = mkdtempSync(join(tmpdir(), 'mcp-up-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Deterministic keys: key 1, key 2, ... as 64 hex characters. */
function fakeKeys() {
  let n = 0;
  const calls: string[] = [];
  const next = () => {
    n += 1;
    const key = n.toString(16).padStart(2, '0').repeat(32);
    calls.push(key);
    return key;
  };
  return { next, calls };
}

describe('envFromExample', () => {
  it('replaces the placeholder with the injected key and keeps every other line as is', () => {
    const keys = fakeKeys();
    const example = ['# comment', 'NAME=mcp-sandbox', `ACCESS_TOKEN=${PLACEHOLDER_SECRET}`, '', 'HOST_PORT=443', ''].join('\n');
    assert.equal(envFromExample(example, keys.next), ['# comment', 'NAME=mcp-sandbox', `ACCESS_TOKEN=${'01'.repeat(32)}`, '', 'HOST_PORT=443', ''].join('\n'));
    assert.deepEqual(keys.calls, ['01'.repeat(32)]);
  });

  it('gives each placeholder line its own key, and calls the key function only for them', () => {
    const keys = fakeKeys();
    const example = `A=${PLACEHOLDER_SECRET}\nB=plain\nNGINX_ACCESS_TOKEN=${PLACEHOLDER_SECRET} # old name\n`;
    assert.equal(envFromExample(example, keys.next), `A=${'01'.repeat(32)}\nB=plain\nNGINX_ACCESS_TOKEN=${'02'.repeat(32)} # old name\n`);
    assert.equal(keys.calls.length, 2);
  });

  it('leaves a file without the placeholder untouched and never calls the key function', () => {
    const text = 'ACCESS_TOKEN=abc\r\nNAME=x\n\n# end';
    assert.equal(
      envFromExample(text, () => assert.fail('no key needed')),
      text,
    );
  });

  it('turns the real .env.example into a valid .env (line for line, only the token changed)', () => {
    assert.ok(realExample.includes(PLACEHOLDER_SECRET), '.env.example holds the placeholder');
    const keys = fakeKeys();
    const env = envFromExample(realExample, keys.next);
    assert.ok(!env.includes(PLACEHOLDER_SECRET));
    const before = realExample.split('\n');
    const afterLines = env.split('\n');
    assert.equal(afterLines.length, before.length);
    afterLines.forEach((line, i) => {
      if (before[i]!.includes(PLACEHOLDER_SECRET)) assert.equal(line, before[i]!.replace(PLACEHOLDER_SECRET, keys.calls[0]!));
      else assert.equal(line, before[i]);
    });
    const raw = parse<Record<string, string>>(env, { processEnv: {} });
    const settings = resolveSettings(raw, join(root, 'example', '.env'), { hostEnv: { HOME: root }, projectDir: makeProjectDir(join(root, 'nowhere')) });
    assert.equal(settings.accessToken, keys.calls[0]);
    assert.equal(settings.template, 'nginx');
  });

  it('uses generateKey by default: 64 lowercase hex characters, new each time', () => {
    const line = (text: string) => text.split('\n').find((l) => l.startsWith('ACCESS_TOKEN='));
    const a = line(envFromExample(`ACCESS_TOKEN=${PLACEHOLDER_SECRET}\n`));
    const b = line(envFromExample(`ACCESS_TOKEN=${PLACEHOLDER_SECRET}\n`));
    assert.match(a!, /^ACCESS_TOKEN=[0-9a-f]{64}$/);
    assert.match(b!, /^ACCESS_TOKEN=[0-9a-f]{64}$/);
    assert.notEqual(a, b);
  });
});

interface Call {
  args: string[];
  options: DockerCallOptions;
}

/** A project folder with the layout the build stages (never the real Dockerfiles: nothing is built). */
function fakeProject(dir: string): string {
  mkdirSync(join(dir, 'docker', 'nginx'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  mkdirSync(join(dir, 'build-extra', 'ca'), { recursive: true });
  mkdirSync(join(dir, 'build-extra', 'server'), { recursive: true });
  cpSync(join(repoRoot, '.env.example'), join(dir, '.env.example'));
  return makeProjectDir(dir);
}

/** A CommandContext whose docker records every call and answers like a healthy engine. */
function recordingContext(projectDir: string, imageExists: boolean, pinState?: object) {
  const calls: Call[] = [];
  const messages: string[] = [];
  const secretsSeen: string[][] = [];
  const out = recordingOutput(messages);
  const engine: DockerEngine = {
    async run(args, options = {}) {
      calls.push({ args, options });
      const ok = (stdout = '') => ({ stdout, stderr: '', exitCode: 0 });
      if (args[0] === 'image') return imageExists ? ok('sha256:1234') : { stdout: '', stderr: 'No such image', exitCode: 1 };
      if (args[0] === 'inspect') return ok('running');
      if (args[0] === 'exec' && args[2] === 'cat') return ok(CERT_PEM);
      if (pinState && args[0] === 'exec' && args.at(-1) === 'show') return ok(JSON.stringify(pinState));
      if (pinState && args[0] === 'exec' && args.at(-1) === 'accept-all') return ok('{"accepted":["read_file"]}');
      return ok();
    },
  };
  const probes: EndpointProbeTarget[] = [];
  const ctx: CommandContext = {
    projectDir,
    hostEnv: { HOME: join(projectDir, 'home') },
    out,
    docker: (secrets) => {
      secretsSeen.push([...secrets]);
      return engine;
    },
    // The readiness round trip answers as server-filesystem would.
    probeEndpoint: async (target) => {
      probes.push(target);
      return {
        ok: true,
        path: 'endpoint',
        result: { protocolVersion: '2025-06-18', tools: ['read_file', 'write_file'], toolsListed: true, ms: 12 },
        serverLines: [],
        retryable: false,
      };
    },
  };
  return { ctx, calls, messages, secretsSeen, probes };
}

describe('up after an upgrade: tools changed since pinned, one confirmation', () => {
  const pinState = {
    pinnedYet: true,
    pinned: { read_file: { hash: 'a', definition: { name: 'read_file', description: 'Read a file.' } } },
    pending: { read_file: { kind: 'changed', hash: 'b', definition: { name: 'read_file', description: 'Read a file, any file.' } } },
  };
  for (const [answer, accepts] of [
    ['y', true],
    ['', false],
  ] as const) {
    it(`shows the diff and asks once; answer '${answer}' ${accepts ? 'accepts them all (as warden, in the container)' : 'leaves them withheld'}`, async () => {
      const project = fakeProject(join(root, `project-pins-${accepts}`));
      const envDir = join(root, `instance-pins-${accepts}`);
      mkdirSync(envDir);
      const { ctx, calls, messages } = recordingContext(project, true, pinState);
      const questions: string[] = [];
      await up(ctx, { envFile: join(envDir, '.env') }, async (question, defaultValue) => {
        questions.push(question);
        return answer === '' ? defaultValue : answer;
      });
      assert.deepEqual(questions, ['Serve these 1 tool definition(s) as they are now? (y/N)']);
      assert.ok(messages.some((m) => m.startsWith('warn: 1 tool changed since pinned: withheld until accepted')));
      assert.ok(
        messages.some((m) => m.startsWith('data: ') && m.includes('changed  read_file') && /\{\+[^}]*any/.test(m)),
        messages.join('\n'),
      );
      assert.equal(
        calls.some((c) => c.args.at(-1) === 'accept-all' && c.args.includes('warden')),
        accepts,
      );
    });
  }
});

describe('up (with a recording docker engine)', () => {
  it('creates .env (0600, new token), builds, starts detached, waits for health and saves the certificate', async () => {
    const project = fakeProject(join(root, 'project-1'));
    const envDir = join(root, 'instance-1');
    mkdirSync(envDir);
    const envFile = join(envDir, '.env');
    const { ctx, calls, messages, secretsSeen, probes } = recordingContext(project, true);

    const info = await up(ctx, { envFile });

    assert.ok(existsSync(envFile));
    assert.equal(statSync(envFile).mode & 0o777, 0o600);
    const created = readFileSync(envFile, 'utf8');
    const token = /^ACCESS_TOKEN=([0-9a-f]{64})$/m.exec(created)?.[1];
    assert.ok(token, 'the new .env holds a 64-hex token');
    assert.equal(created, realExample.replace(PLACEHOLDER_SECRET, token));

    assert.deepEqual(
      calls.map((c) => (c.args[0] === 'exec' && c.args[2] === 'cat' ? c.args.slice(0, 3) : c.args[0] === 'exec' ? c.args : c.args.slice(0, 2))),
      [
        ['build', '--force-rm'],
        ['version', '--format'],
        ['image', 'inspect'],
        ['ps', '--all'],
        ['network', 'ls'],
        ['network', 'create'],
        // No MCP_ENV: a left-over volume of the server's variables is looked for (and would be removed), none is written.
        ['volume', 'ls'],
        ['run', '--name'],
        ['inspect', '--format'],
        healthcheckArgs('mcp-sandbox'),
        ['exec', 'mcp-sandbox', 'cat'],
        // The tools withheld since pinned, if any (instance/tool-pins.ts), read as warden.
        ['exec', '--user', 'warden', 'mcp-sandbox', 'node', '/opt/session-gateway/pins-tool.mjs', 'show'],
      ],
    );
    // The token reaches docker only through the environment of the run call.
    for (const call of calls) assert.ok(!call.args.some((a) => a.includes(token)), `docker ${call.args.join(' ')}`);
    const runCall = calls.find((c) => c.args[0] === 'run')!;
    assert.equal(runCall.options.env?.ACCESS_TOKEN, token);
    // The build's output is the server's install scripts' too: streamed with control characters made visible.
    // Its tail is kept too (onOutput), to name the cause of a failed build (docker/build-failure.ts).
    const { onOutput, ...buildOptions } = calls.find((c) => c.args[0] === 'build')!.options;
    assert.deepEqual(buildOptions, { inherit: true, untrustedOutput: true, dropColours: true });
    assert.equal(typeof onOutput, 'function');
    assert.ok(runCall.args.includes('--detach'));
    assert.ok(
      secretsSeen.every((s) => s.includes(token)),
      'every engine masks the token',
    );

    const certFile = join(envDir, '.mcp-sandbox', 'mcp-sandbox', 'cert.pem');
    assert.deepEqual(info, {
      url: 'https://127.0.0.1:443/mcp',
      credential: `ACCESS_TOKEN in ${join(envDir, '.env')} (header: Authorization: Bearer <token>)`,
      certificateFile: certFile,
      fingerprint: new X509Certificate(CERT_PEM).fingerprint256,
      ready: '2 tools (read_file, write_file)',
    });
    // Ready is one MCP round trip through the client's endpoint: the URL, the token, the saved certificate pinned.
    assert.equal(probes.length, 1);
    assert.equal(probes[0]!.url, 'https://127.0.0.1:443/mcp');
    assert.equal(probes[0]!.authorization, `Bearer ${token}`);
    assert.equal(probes[0]!.fingerprint, new X509Certificate(CERT_PEM).fingerprint256);
    assert.ok(messages.includes('info: Ready: 2 tools (read_file, write_file)'), messages.join('\n'));
    assert.equal(readFileSync(certFile, 'utf8'), CERT_PEM);
    assert.ok(messages.some((m) => m.startsWith('success: Created') && m.includes('mode 0600')));
    assert.ok(!messages.some((m) => m.includes(token)), 'the token is never printed');
  });

  it('leaves an existing .env as it is, and a broken one stops before any docker call', async () => {
    const project = fakeProject(join(root, 'project-2'));
    const envDir = join(root, 'instance-2');
    mkdirSync(envDir);
    const envFile = join(envDir, '.env');
    const content = `ACCESS_TOKEN=${PLACEHOLDER_SECRET}\nNAME=kept\n`;
    writeFileSync(envFile, content, { mode: 0o644 });
    const { ctx, calls, messages } = recordingContext(project, true);

    await assert.rejects(up(ctx, { envFile }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /ACCESS_TOKEN still holds the example placeholder: .*npm run gen_key/);
      return true;
    });
    assert.equal(readFileSync(envFile, 'utf8'), content);
    assert.equal(statSync(envFile).mode & 0o777, 0o644);
    assert.deepEqual(calls, []);
    assert.deepEqual(messages, [`info: Using ${envFile} (left as it is).`]);
  });

  it('reports a missing image as a usage error after the build (no container started)', async () => {
    const project = fakeProject(join(root, 'project-3'));
    const envDir = join(root, 'instance-3');
    mkdirSync(envDir);
    const { ctx, calls } = recordingContext(project, false);
    await assert.rejects(up(ctx, { envFile: join(envDir, '.env') }), /The image mcp-sandbox:latest does not exist yet\. Build it first: npm run build/);
    assert.deepEqual(
      calls.map((c) => c.args[0]),
      ['build', 'version', 'image'],
    );
  });
});
