// Build step of the "server" stage, run as the unprivileged user "builder":
// install the MCP server named by MCP_SERVER (npm or Python) into
// /opt/mcp-server, a folder that user owns, and point /opt/mcp-server/mcp-server
// at its executable. What runs is planned by plan.cjs (the CLI validates with
// the same code); this file only carries the plan out, without a shell.
//
// The package's install scripts (npm lifecycle scripts, a Python build
// backend) run here as untrusted code, with network access. This stage holds
// nothing of the sandbox runtime and "builder" can write only this tree; the
// final stage takes the tree alone, owned by root (see seal).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const { chooseExecutable, distributionName, installSteps, parseServerSpec } = createRequire(import.meta.url)('./plan.cjs');
const PREFIX = '/opt/mcp-server';
const env = process.env;

function fail(message) {
  console.error(`install: ${message}`);
  process.exit(1);
}

if (process.getuid() === 0) fail('refusing to install the MCP server as root');
// NPM_MCP is the guide's name and means npm:.
const value = env.NPM_MCP ? `npm:${env.NPM_MCP.replace(/^npm:/, '')}` : (env.MCP_SERVER ?? '');
let server;
try {
  server = parseServerSpec(value);
} catch (error) {
  console.error(`install: ${error.message}`);
  process.exit(2);
}
if (!['true', 'false'].includes(env.MCP_INSTALL_SCRIPTS ?? 'true')) {
  console.error(`install: MCP_INSTALL_SCRIPTS must be true or false, not '${env.MCP_INSTALL_SCRIPTS}'`);
  process.exit(2);
}
if (server.ecosystem === 'python' && !existsSync('/usr/bin/python3')) {
  fail(`${value} is a Python server: build with --build-arg SERVER_RUNTIME=python (npm run build does)`);
}

let steps;
try {
  steps = installSteps(server, PREFIX, {
    scripts: (env.MCP_INSTALL_SCRIPTS ?? 'true') === 'true',
    caFile: existsSync('/build/ca/extra-ca.crt') && readFileSync('/build/ca/extra-ca.crt').length > 0 ? '/build/ca/extra-ca.crt' : '',
    pipIndexUrl: env.PIP_INDEX_URL ?? '',
    pipExtraIndexUrl: env.PIP_EXTRA_INDEX_URL ?? '',
  });
} catch (error) {
  fail(error.message);
}

for (const step of steps) {
  if (step.concat) {
    writeFileSync(step.to, step.concat.map((file) => readFileSync(file, 'utf8')).join('\n'));
    continue;
  }
  const argv = step.glob ? step.argv.flatMap((arg) => (arg.includes('*') ? expand(arg) : [arg])) : step.argv;
  const run = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...env, ...step.env } });
  if (run.status !== 0) fail(`${argv.join(' ')} failed (${run.error?.code ?? `exit ${run.status}`})`);
}

function expand(pattern) {
  const dir = pattern.slice(0, pattern.lastIndexOf('/'));
  const suffix = pattern.slice(pattern.lastIndexOf('*') + 1);
  const found = readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));
  if (found.length !== 1) fail(`expected one ${pattern}, found ${found.length}`);
  return found;
}

function npmExecutables() {
  const [name] = Object.keys(JSON.parse(readFileSync(join(PREFIX, 'package.json'), 'utf8')).dependencies ?? {});
  if (!name) fail(`nothing was installed in ${PREFIX}`);
  const manifest = JSON.parse(readFileSync(join(PREFIX, 'node_modules', name, 'package.json'), 'utf8'));
  const bins = typeof manifest.bin === 'string' ? { [name.split('/').pop()]: manifest.bin } : (manifest.bin ?? {});
  return { name, bins, dir: join('node_modules', '.bin') };
}

function pythonExecutables() {
  const built = existsSync('/tmp/wheels') ? readdirSync('/tmp/wheels').find((f) => f.endsWith('.whl')) : undefined;
  const name = built ? distributionName({ local: true, spec: `./${built}` }) : distributionName(server);
  const query = [
    'import json, sys',
    'from importlib.metadata import distribution',
    "print(json.dumps({e.name: e.value for e in distribution(sys.argv[1]).entry_points if e.group == 'console_scripts'}))",
  ].join('\n');
  const run = spawnSync(join(PREFIX, 'venv', 'bin', 'python'), ['-c', query, name], { encoding: 'utf8' });
  if (run.status !== 0) fail(`cannot read the console scripts of ${name}: ${run.stderr}`);
  return { name, bins: JSON.parse(run.stdout), dir: join('venv', 'bin') };
}

const { name, bins, dir } = server.ecosystem === 'npm' ? npmExecutables() : pythonExecutables();
let chosen;
try {
  chosen = chooseExecutable(name, bins, env.MCP_SERVER_BIN || env.NPM_MCP_BIN || '');
} catch (error) {
  fail(error.message);
}
if (!existsSync(join(PREFIX, dir, chosen))) fail(`${join(PREFIX, dir, chosen)} is missing after install`);
const link = join(PREFIX, 'mcp-server');
rmSync(link, { force: true });
symlinkSync(join(dir, chosen), link);
console.log(`mcp-server -> ${name} (${chosen})`);
