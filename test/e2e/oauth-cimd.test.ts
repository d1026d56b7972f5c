/**
 * Client ID Metadata Documents and confidential clients, end to end, through
 * nginx and through the Pinggy stand-in: instances built and started by the
 * real CLI, the MCP SDK client's own CIMD path (clientMetadataUrl) and its
 * confidential-client path, and a document server in a container of the test's
 * own (test/fixtures/cimd-docs) on the instance's network. Docker's addresses
 * are private, so the documents are fetched only because OAUTH_CIMD_ALLOW names
 * cimd-docs.test; cimd-private.test is the same server under a name the owner
 * did not allow. The instances trust the fixture's CA through EXTRA_CA_CERT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ConsentingProvider } from '../oauth-client-kit.js';
import { addressOf } from './battery.js';
import { startSshStandIn } from './ssh-stand-in.js';
import {
  buildCaBundle,
  callJson,
  certificateOf,
  cli,
  connectClient,
  createInstance,
  docker,
  newToken,
  probeServerDir,
  projectDir,
  removeInstance,
  trustingFetch,
  type Instance,
} from './harness.js';
import { openConsent, pkcePair, rawOAuth, redirectParams, REDIRECT_URI, submitConsent, type Fetch } from './oauth-client.js';

const FIXTURE = join(projectDir, 'test', 'fixtures', 'cimd-docs');
const DOCS_IMAGE = 'mcps-e2e-cimd-docs';
const DOCS = 'https://cimd-docs.test';
const PRIVATE = 'https://cimd-private.test';

/** The build bundle plus the fixture's CA: what an owner with a company CA would give as EXTRA_CA_CERT (the same bytes every run: the image cache holds). */
function caBundleWithFixture(): string {
  const build = buildCaBundle();
  const file = join(mkdtempSync(join(tmpdir(), 'mcps-e2e-cimd-ca-')), 'extra-ca.pem');
  writeFileSync(file, `${build ? readFileSync(build, 'utf8').trimEnd() + '\n' : ''}${readFileSync(join(FIXTURE, 'ca.pem'), 'utf8')}`);
  return file;
}

/** The document server on `network`, answering to both names. */
async function startDocs(container: string, network: string) {
  const built = await docker(['build', '-q', '-t', DOCS_IMAGE, FIXTURE]);
  assert.equal(built.exitCode, 0, built.stderr);
  await docker(['rm', '-f', container]);
  const run = await docker([
    'run',
    '-d',
    '--name',
    container,
    '--network',
    network,
    '--network-alias',
    'cimd-docs.test',
    '--network-alias',
    'cimd-private.test',
    DOCS_IMAGE,
  ]);
  assert.equal(run.exitCode, 0, run.stderr);
}

/** What the connector's browser does: the consent page (its HTML kept), then Allow with the owner secret. */
function cimdProvider(fetchFn: Fetch, issuer: string, secret: string, options: { clientMetadataUrl?: string; method?: string } = {}) {
  const pages: string[] = [];
  const provider = new ConsentingProvider({
    ...(options.clientMetadataUrl ? { clientMetadataUrl: options.clientMetadataUrl } : {}),
    ...(options.method ? { metadata: { token_endpoint_auth_method: options.method } } : {}),
    async consent(authorizationUrl) {
      const page = await openConsent(fetchFn, authorizationUrl);
      pages.push(page.html);
      if (page.status !== 200) throw new Error(`consent page: ${page.status} ${page.html.slice(0, 300)}`);
      const code = redirectParams(await submitConsent(fetchFn, issuer, page, secret)).get('code');
      if (!code) throw new Error('no code');
      return code;
    },
  });
  return { provider, pages };
}

/** The same steps through both paths: `aim()` gives the fetch, issuer and MCP URL once the instance runs. */
function cimdSteps(aim: () => { fetchFn: Fetch; issuer: string; url: string; secret: string }) {
  test("the MCP SDK client's own CIMD path: its URL is the client_id, nothing is registered, the consent page names the document's host", async () => {
    const { fetchFn, issuer, url, secret } = aim();
    const metadata = (await (await fetchFn(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata.client_id_metadata_document_supported, true);
    const clientId = `${DOCS}/client.json`;
    const { provider, pages } = cimdProvider(fetchFn, issuer, secret, { clientMetadataUrl: clientId });
    const first = new StreamableHTTPClientTransport(new URL(url), { fetch: fetchFn, authProvider: provider });
    await assert.rejects(new Client({ name: 'cimd-e2e', version: '1.0.0' }).connect(first), UnauthorizedError);
    assert.equal(provider.redirects[0]!.searchParams.get('client_id'), clientId);
    assert.equal(provider.clientInformation()?.client_id, clientId, 'the SDK did not register');
    await first.finishAuth(provider.code!);
    const client = new Client({ name: 'cimd-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: fetchFn, authProvider: provider }));
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'echo'));
    await client.close();
    assert.match(pages[0]!, /identified by its metadata document at <code>cimd-docs\.test<\/code>/);
    assert.match(pages[0]!, /CIMD test connector/);
  });

  test('CIMD refusals, each beside its control: private address not allowed, client_id mismatch, oversized, redirect to a private address, not https', async () => {
    const { fetchFn, issuer } = aim();
    const { challenge } = pkcePair();
    const authorize = async (clientId: string) => {
      // Paced under nginx's limit for requests without a token (5 per second).
      await new Promise((resolve) => setTimeout(resolve, 250));
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'st',
      });
      const response = await fetchFn(`${issuer}/authorize?${params}`, { redirect: 'manual' });
      return { status: response.status, location: response.headers.get('location'), html: await response.text() };
    };
    const cases: [string, string, RegExp][] = [
      // [refused client_id, its control, what the page says]
      [`${PRIVATE}/client.json`, `${DOCS}/client.json`, /host cimd-private\.test is not on a public address, and the owner has not allowed it/],
      [`${DOCS}/mismatch.json`, `${DOCS}/client.json`, /client_id is not its own URL/],
      [`${DOCS}/big.json`, `${DOCS}/client.json`, /larger than 5120 bytes/],
      [
        `${DOCS}/redirect-private`,
        `${DOCS}/redirect-same`,
        /a redirect to cimd-private\.test: the document&#39;s host cimd-private\.test is not on a public address/,
      ],
      ['http://cimd-docs.test/client.json', `${DOCS}/client.json`, /a client_id URL must use https/],
    ];
    for (const [refusedId, controlId, message] of cases) {
      const refused = await authorize(refusedId);
      assert.equal(refused.status, 400, refusedId);
      assert.equal(refused.location, null, 'a page, never a redirect');
      assert.match(refused.html, message, refusedId);
      const control = await authorize(controlId);
      assert.equal(control.status, 200, `${controlId}: ${control.html.slice(0, 300)}`);
      assert.match(control.html, /Allow access to this MCP server\?/);
    }
  });

  test("confidential clients: the SDK's client_secret_basic flow works; a wrong secret is refused beside the right one (client_secret_post)", async () => {
    const { fetchFn, issuer, url, secret } = aim();
    const { provider } = cimdProvider(fetchFn, issuer, secret, { method: 'client_secret_basic' });
    const first = new StreamableHTTPClientTransport(new URL(url), { fetch: fetchFn, authProvider: provider });
    await assert.rejects(new Client({ name: 'confidential-e2e', version: '1.0.0' }).connect(first), UnauthorizedError);
    const information = provider.clientInformation() as { token_endpoint_auth_method?: string; client_secret?: string };
    assert.equal(information.token_endpoint_auth_method, 'client_secret_basic');
    assert.ok(information.client_secret);
    await first.finishAuth(provider.code!);
    const client = new Client({ name: 'confidential-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: fetchFn, authProvider: provider }));
    assert.ok((await client.listTools()).tools.length > 0);
    await client.close();

    const registered = await fetchFn(`${issuer}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'confidential raw', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_post' }),
    });
    assert.equal(registered.status, 201);
    const { client_id: clientId, client_secret: clientSecret } = (await registered.json()) as { client_id: string; client_secret: string };
    const oauth = rawOAuth(fetchFn, issuer, url);
    const { verifier, challenge } = pkcePair();
    const page = await openConsent(fetchFn, oauth.authorizeUrl(clientId, challenge));
    const code = redirectParams(await submitConsent(fetchFn, issuer, page, secret)).get('code')!;
    const wrong = await oauth.exchange(clientId, code, verifier, { client_secret: newToken() });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: string }).error, 'invalid_client');
    const right = await oauth.exchange(clientId, code, verifier, { client_secret: clientSecret });
    assert.equal(right.status, 200, await right.clone().text());
  });
}

describe('CIMD and confidential clients through nginx', { timeout: 900_000 }, () => {
  const name = 'mcps-e2e-cimd';
  const network = `${name}-net`;
  const docs = `${name}-docs`;
  const passphrase = `cimd passphrase ${newToken().slice(0, 8)}`;
  let instance: Instance;
  let fetchFn: Fetch;

  before(async () => {
    await docker(['rm', '-f', docs, name]);
    await docker(['network', 'rm', network]);
    await docker(['volume', 'rm', '-f', `${name}-auth`]);
    assert.equal((await docker(['network', 'create', network])).exitCode, 0);
    await startDocs(docs, network);
    instance = await createInstance(name, {
      AUTH: 'oauth',
      OAUTH_OWNER_PASSPHRASE: passphrase,
      OAUTH_CIMD_ALLOW: 'cimd-docs.test',
      MCP_SERVER: probeServerDir,
      MCP_SERVER_ARGS: '',
      EXTRA_CA_CERT: caBundleWithFixture(),
    });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    fetchFn = trustingFetch(certificateOf(instance));
  });

  after(async () => {
    if (instance) await removeInstance(instance);
    await docker(['rm', '-f', docs]);
    await docker(['network', 'rm', network]);
    await docker(['volume', 'rm', '-f', `${name}-auth`]);
  });

  cimdSteps(() => {
    const issuer = `https://127.0.0.1:${instance.port}`;
    return { fetchFn, issuer, url: `${issuer}/mcp`, secret: passphrase };
  });

  test("the fetch is the auth gateway's alone: the MCP server (MCP_EGRESS none) cannot reach the document server (control: the gateway fetched from it)", async () => {
    const hits = (
      await docker(['exec', docs, 'node', '-e', "require('https').get('https://127.0.0.1/hits',{rejectUnauthorized:false},r=>r.pipe(process.stdout))"])
    ).stdout;
    assert.ok(((JSON.parse(hits) as Record<string, number>)['/client.json'] ?? 0) > 0, hits);
    const client = await connectClient(instance);
    const probe = await callJson<{ connected: boolean }>(client, 'connect', { host: await addressOf(docs, network), port: 443 });
    assert.equal(probe.connected, false);
    await client.close();
  });
});

describe('CIMD and confidential clients through the Pinggy stand-in', { timeout: 900_000 }, () => {
  const name = 'mcps-e2e-cimd-pinggy';
  const network = `${name}-net`;
  const sshd = 'mcps-e2e-cimd-sshd';
  const docs = `${name}-docs`;
  const passphrase = `cimd tunnel passphrase ${newToken().slice(0, 8)}`;
  let instance: Instance;
  let url = '';
  let fetchVia: Fetch;

  before(async () => {
    await docker(['rm', '-f', sshd, docs, name]);
    await docker(['network', 'rm', network]);
    await docker(['volume', 'rm', '-f', `${name}-auth`]);
    assert.equal((await docker(['network', 'create', network])).exitCode, 0);
    const hostKey = await startSshStandIn(sshd, network);
    await startDocs(docs, network);
    instance = await createInstance(name, {
      TEMPLATE: 'pinggy',
      AUTH: 'oauth',
      OAUTH_OWNER_PASSPHRASE: passphrase,
      OAUTH_CIMD_ALLOW: 'cimd-docs.test',
      MCP_SERVER: probeServerDir,
      MCP_SERVER_ARGS: '',
      PINGGY_ACCESS_TOKEN: 'e2etoken',
      PINGGY_SERVER: sshd,
      PINGGY_PORT: '2222',
      PINGGY_HOST_KEY: hostKey,
      EXTRA_CA_CERT: caBundleWithFixture(),
    });
    const built = await cli(['build', '--env-file', instance.envFile]);
    assert.equal(built.exitCode, 0, built.all);
    const started = await cli(['start', '-d', '--env-file', instance.envFile]);
    assert.equal(started.exitCode, 0, started.all);
    const published = (await docker(['exec', name, 'cat', '/run/sandbox/public-url'])).stdout.trim();
    url = `${published}/mcp`;
    const address = await addressOf(sshd, network);
    fetchVia = ((input: string | URL, init?: RequestInit) => fetch(String(input).replace(`//${sshd}:`, `//${address}:`), init)) as Fetch;
  });

  after(async () => {
    if (instance) await removeInstance(instance);
    await docker(['rm', '-f', sshd, docs]);
    await docker(['network', 'rm', network]);
    await docker(['volume', 'rm', '-f', `${name}-auth`]);
  });

  cimdSteps(() => ({ fetchFn: fetchVia, issuer: new URL(url).origin, url, secret: passphrase }));
});
