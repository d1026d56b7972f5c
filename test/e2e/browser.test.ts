/**
 * Browsers (issue 24): the documented recipe (docs/GUIDE.md, "A browser"),
 * end to end on a real engine with a real MCP client. Debian's Chromium comes
 * in through MCP_SYSTEM_PACKAGES; @playwright/mcp and chrome-devtools-mcp each
 * drive it, headless, without Chromium's own sandbox (the container is the
 * sandbox). A web server of the test's own, on a network the test creates and
 * the instance joins (MCP_NETWORKS), answers two names on one address:
 * `allowed.test`, in MCP_EGRESS, and `other.test`, not in it. The allowed page's
 * text comes back in a snapshot (the control); the other name, and the same
 * server by its address, are refused in the container, and the server never
 * sees those requests. No traffic leaves the test's own network.
 *
 * Plain HTTP on port 80, checked by the egress enforcer on the Host header
 * (egress-names.test.ts checks TLS names on 443 with the same enforcer): the
 * browser then runs exactly the users' recipe. HTTPS here would need the
 * test's own CA trusted by Chromium, that is a flag users must not copy
 * (--ignore-https-errors) or an NSS database written for the server's user.
 *
 * Both servers share one image build's slow part: the Chromium layer
 * (MCP_SYSTEM_PACKAGES is installed before the server's package), so the
 * second build installs chrome-devtools-mcp only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { addressOf, TARGET_IMAGE } from './battery.js';
import { cli, connectClient, createInstance, docker, onEngine, removeInstance, type Instance } from './harness.js';

const WEB = 'mcps-e2e-browser-web';
const NETWORK = `${WEB}-net`;
const ALLOWED = 'allowed.test';
const OTHER = 'other.test';
/** The page's distinctive text: it is in a snapshot only if the browser loaded the page. */
const PAGE_TEXT = 'Quokka lighthouse 4711 on the test network';

// Every request is logged as one JSON line (the Host it asked for), so the test can
// tell a refusal in the sandbox from a page the server sent and the browser hid.
const WEB_SERVER = `
require('http').createServer((req, res) => {
  console.log(JSON.stringify({ host: req.headers.host, url: req.url }));
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end('<!doctype html><html><head><title>Sandbox browser test</title></head><body><h1>${PAGE_TEXT}</h1></body></html>');
}).listen(80);
`;

/** The recipe's settings, shared by both servers (docs/GUIDE.md, "A browser"). */
const RECIPE = {
  MCP_SYSTEM_PACKAGES: 'chromium',
  MCP_MEMORY: '2g',
  MCP_TMP_SIZE: '256m',
  MCP_PIDS: '512',
  MCP_MAX_SESSIONS: '3',
  MCP_NETWORKS: NETWORK,
  MCP_EGRESS: ALLOWED,
};

const PLAYWRIGHT = 'npm:@playwright/mcp@0.0.86';
const PLAYWRIGHT_ARGS = '--browser chromium --executable-path /usr/bin/chromium --headless --isolated --no-sandbox';
const DEVTOOLS = 'npm:chrome-devtools-mcp@1.11.0';
const DEVTOOLS_ARGS = '--executable-path /usr/bin/chromium --headless --isolated --chrome-arg=--no-sandbox --no-usage-statistics --no-performance-crux';

let webAddress: string;
const images: string[] = [];

/** The Host of every request the web server received. */
async function hostsSeen(): Promise<string[]> {
  const logs = await docker(['logs', WEB]);
  return logs.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { host: string }).host);
}

/** A tool's text, and whether it is an error (a result marked isError, or a JSON-RPC error the SDK throws). */
async function call(client: Client, name: string, args: Record<string, unknown>): Promise<{ isError: boolean; text: string }> {
  try {
    const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
    const text = (result.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join('\n');
    return { isError: result.isError === true, text };
  } catch (error) {
    return { isError: true, text: (error as Error).message };
  }
}

async function buildAndStartRecipe(name: string, server: string, args: string, extra: Record<string, string> = {}): Promise<Instance> {
  const instance = await createInstance(name, { ...RECIPE, MCP_SERVER: server, MCP_SERVER_ARGS: args, ...extra });
  images.push(`${name}:latest`);
  const built = await cli(['build', '--env-file', instance.envFile]);
  assert.equal(built.exitCode, 0, built.all);
  assert.match(built.all ?? '', /MCP_SYSTEM_PACKAGES in [\w.-]+:latest: chromium=\d/, 'the build record names the Chromium installed');
  const started = await cli(['start', '-d', '--env-file', instance.envFile]);
  assert.equal(started.exitCode, 0, started.all);
  return instance;
}

before(async () => {
  await docker(['rm', '-f', WEB]);
  await docker(['network', 'rm', NETWORK]);
  assert.equal((await docker(['network', 'create', NETWORK])).exitCode, 0);
  const started = await docker([
    'run',
    '-d',
    '--name',
    WEB,
    '--network',
    NETWORK,
    '--network-alias',
    ALLOWED,
    '--network-alias',
    OTHER,
    TARGET_IMAGE,
    'node',
    '-e',
    WEB_SERVER,
  ]);
  assert.equal(started.exitCode, 0, started.stderr);
  webAddress = await addressOf(WEB, NETWORK);
});

after(async () => {
  await docker(['rm', '-f', WEB]);
  await docker(['network', 'rm', NETWORK]);
  if (images.length > 0) await docker(['image', 'rm', '-f', ...images]);
});

describe(onEngine('A browser: @playwright/mcp with Debian Chromium, allowed one name'), { timeout: 1_500_000 }, () => {
  let instance: Instance;
  let client: Client;

  before(async () => {
    instance = await buildAndStartRecipe('mcps-e2e-browser', PLAYWRIGHT, PLAYWRIGHT_ARGS);
    client = await connectClient(instance);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    if (instance) await removeInstance(instance);
  });

  test('the allowed name: navigated, and the snapshot holds the page text (control)', async () => {
    const navigated = await call(client, 'browser_navigate', { url: `http://${ALLOWED}/` });
    assert.equal(navigated.isError, false, navigated.text);
    assert.match(navigated.text, /Page URL: http:\/\/allowed\.test\//, navigated.text);
    // This version writes the snapshot that follows a navigation to a file and links it;
    // browser_snapshot returns it inline, in the tool's result.
    const snapshot = await call(client, 'browser_snapshot', {});
    assert.equal(snapshot.isError, false, snapshot.text);
    assert.ok(snapshot.text.includes(PAGE_TEXT), snapshot.text);
    assert.ok((await hostsSeen()).includes(ALLOWED), 'the web server answered the browser');
  });

  test('a name outside MCP_EGRESS on the same server is refused: an error, no page text, no request at the server', async () => {
    const navigated = await call(client, 'browser_navigate', { url: `http://${OTHER}/` });
    assert.equal(navigated.isError, true, navigated.text);
    assert.match(navigated.text, /net::ERR_NAME_NOT_RESOLVED/, navigated.text);
    const snapshot = await call(client, 'browser_snapshot', {});
    assert.ok(!snapshot.text.includes(PAGE_TEXT), snapshot.text);
    assert.ok(!(await hostsSeen()).includes(OTHER), 'the request never left the sandbox');
  });

  test('the same server by its address (no allowed name in the request) is refused too', async () => {
    const navigated = await call(client, 'browser_navigate', { url: `http://${webAddress}/` });
    assert.equal(navigated.isError, true, navigated.text);
    // The enforcer resets a connection whose Host is not allowed.
    assert.match(navigated.text, /net::ERR_CONNECTION_RESET/, navigated.text);
    assert.ok(!(await hostsSeen()).some((host) => host.startsWith(webAddress)), 'the request never left the sandbox');
    // Control, after the refusals: the allowed name still loads. Right after a reset, Chromium
    // commits its error page late and Playwright reports the next navigation as "interrupted by
    // another navigation to chrome-error://chromewebdata/": a second try loads.
    let again = await call(client, 'browser_navigate', { url: `http://${ALLOWED}/` });
    for (let tries = 1; again.isError && /interrupted by another navigation/.test(again.text) && tries < 3; tries++) {
      again = await call(client, 'browser_navigate', { url: `http://${ALLOWED}/` });
    }
    assert.equal(again.isError, false, again.text);
    const snapshot = await call(client, 'browser_snapshot', {});
    assert.ok(snapshot.text.includes(PAGE_TEXT), snapshot.text);
  });

  test("Chromium's own sandbox cannot start here (why --no-sandbox): no user namespace, no setuid helper; control: with --no-sandbox it renders", async () => {
    const page = `data:text/html,<p>${PAGE_TEXT}</p>`;
    const run = (...flags: string[]) =>
      docker(['exec', '--user', 'mcp', '--env', 'HOME=/tmp/mcp-home', instance.name, '/usr/bin/chromium', '--headless', ...flags, '--dump-dom', page]);
    const sandboxed = await run();
    assert.match(sandboxed.stderr, /No usable sandbox/, sandboxed.stderr);
    assert.ok(!sandboxed.stdout.includes(PAGE_TEXT));
    const unsandboxed = await run('--no-sandbox');
    assert.ok(unsandboxed.stdout.includes(`<p>${PAGE_TEXT}</p>`), unsandboxed.stderr);
  });

  test('with Chromium in the image: no setuid or setgid file (control: find sees its binary), and /tmp is MCP_TMP_SIZE', async () => {
    // The image itself, searched by root with the engine's default capabilities (in the instance, root has none to read every folder).
    const find = (...args: string[]) => docker(['run', '--rm', '--entrypoint', 'find', `${instance.name}:latest`, '/', '-xdev', '-type', 'f', ...args]);
    const special = await find('(', '-perm', '-4000', '-o', '-perm', '-2000', ')');
    assert.equal(special.exitCode, 0, special.stderr);
    assert.equal(special.stdout.trim(), '');
    const control = await find('-name', 'chromium', '-perm', '-0100');
    assert.match(control.stdout, /\/usr\/lib\/chromium\/chromium/);
    const tmp = await docker(['exec', instance.name, 'df', '--output=size', '-k', '/tmp']);
    assert.equal(tmp.stdout.trim().split('\n').pop()?.trim(), String(256 * 1024));
  });

  test('the refusals are in `npm run logs`, in the form to paste', async () => {
    const logs = await cli(['logs', '--env-file', instance.envFile, '--tail', 'all']);
    assert.equal(logs.exitCode, 0, logs.all);
    assert.match(logs.all ?? '', /egress refused: other\.test \(DNS name not in MCP_EGRESS\)/, logs.all);
  });
});

describe(onEngine('A browser: chrome-devtools-mcp with the same recipe'), { timeout: 1_500_000 }, () => {
  let instance: Instance;
  let client: Client;
  /** Its page-scoped tools take the page's id (it routes by id by default): the selected page, from list_pages. */
  let pageId: number;

  before(async () => {
    // Its update check would ask npm's registry (refused by MCP_EGRESS, and logged): off, as the recipe says.
    instance = await buildAndStartRecipe('mcps-e2e-devtools', DEVTOOLS, DEVTOOLS_ARGS, {
      MCP_ENV: 'CHROME_DEVTOOLS_MCP_NO_UPDATE_CHECKS',
      CHROME_DEVTOOLS_MCP_NO_UPDATE_CHECKS: '1',
    });
    client = await connectClient(instance);
    const pages = await call(client, 'list_pages', {});
    assert.equal(pages.isError, false, pages.text);
    const selected = /^(\d+): .*\[selected\]/m.exec(pages.text);
    assert.ok(selected, pages.text);
    pageId = Number(selected[1]);
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    if (instance) await removeInstance(instance);
  });

  test('the allowed name: navigated, and the snapshot holds the page text (control)', async () => {
    const navigated = await call(client, 'navigate_page', { pageId, type: 'url', url: `http://${ALLOWED}/` });
    assert.equal(navigated.isError, false, navigated.text);
    const snapshot = await call(client, 'take_snapshot', { pageId });
    assert.equal(snapshot.isError, false, snapshot.text);
    assert.ok(snapshot.text.includes(PAGE_TEXT), snapshot.text);
  });

  test('a name outside MCP_EGRESS on the same server is refused: an error, no page text, no request at the server', async () => {
    const navigated = await call(client, 'navigate_page', { pageId, type: 'url', url: `http://${OTHER}/` });
    assert.match(navigated.text, /net::ERR_NAME_NOT_RESOLVED/, navigated.text);
    const snapshot = await call(client, 'take_snapshot', { pageId });
    assert.ok(!snapshot.text.includes(PAGE_TEXT), snapshot.text);
    assert.ok(!(await hostsSeen()).includes(OTHER), 'the request never left the sandbox');
  });
});
