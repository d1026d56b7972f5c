// Build step: find the executable of the one package installed in PREFIX and
// link it as /usr/local/bin/mcp-server, so the runtime never needs to know the
// package's name (and never runs npx).
import { readFileSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [prefix, wanted] = process.argv.slice(2);
const fail = (message) => {
  console.error(`link-server-bin: ${message}`);
  process.exit(1);
};

const rootManifest = JSON.parse(readFileSync(join(prefix, 'package.json'), 'utf8'));
const [name] = Object.keys(rootManifest.dependencies ?? {});
if (!name) fail(`nothing was installed in ${prefix}`);

const manifest = JSON.parse(readFileSync(join(prefix, 'node_modules', name, 'package.json'), 'utf8'));
const bins = typeof manifest.bin === 'string' ? { [name.split('/').pop()]: manifest.bin } : (manifest.bin ?? {});
const names = Object.keys(bins);
if (names.length === 0) fail(`${name} declares no executable ("bin" in its package.json): it cannot run as a stdio MCP server`);

const unscoped = name.split('/').pop();
const chosen = wanted || (names.length === 1 ? names[0] : names.find((n) => n === unscoped));
if (!chosen || !bins[chosen]) {
  fail(`${name} has several executables (${names.join(', ')}); choose one with NPM_MCP_BIN`);
}
const target = join(prefix, 'node_modules', '.bin', chosen);
if (!existsSync(target)) fail(`${target} is missing after install`);
symlinkSync(target, '/usr/local/bin/mcp-server');
console.log(`mcp-server -> ${name} (${chosen})`);
