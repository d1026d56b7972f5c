// Build step of the "server" stage (as "builder"): find the executable of the
// one package installed in PREFIX and link it as PREFIX/mcp-server, so the
// runtime never needs to know the package's name (and never runs npx). The
// final stage links /usr/local/bin/mcp-server to that fixed place.
import { readFileSync, rmSync, symlinkSync, existsSync } from 'node:fs';
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
const link = join(prefix, 'mcp-server');
rmSync(link, { force: true });
symlinkSync(join('node_modules', '.bin', chosen), link);
console.log(`mcp-server -> ${name} (${chosen})`);
