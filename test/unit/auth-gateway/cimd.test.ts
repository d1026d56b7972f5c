/**
 * Client ID Metadata Documents (cimd*.mjs, cimd-address.cjs): the address
 * rules as a table, the client_id URL and document rules, the safe fetcher
 * against a real HTTPS server on loopback (test/fixtures/tls: a certificate for
 * localhost and 127.0.0.1), each refusal beside its control, the cache, and the
 * MCP SDK client's own CIMD path (clientMetadataUrl) through the gateway.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ConsentingProvider } from '../../oauth-client-kit.js';
import {
  authorizeParams,
  consent,
  type Gateway,
  getAuthorize,
  introspect,
  OWNER_TOKEN,
  pkcePair,
  type ProxyingGateway,
  REDIRECT,
  startAuthGateway,
  startProxyingGateway,
} from './http-fixture.js';
import { authModule, authSourceDir, manualClock } from './module.js';

const tlsDir = join(authSourceDir, '..', '..', '..', '..', 'test', 'fixtures', 'tls');
const CA = readFileSync(join(tlsDir, 'ca.pem'), 'utf8');

const { BLOCKED_RANGES, addressProblem, blockedReason, parseAllowance } = await authModule('cimd-address.cjs');
const { fetchDocument, cacheSeconds, FetchRefused, MAX_DOCUMENT_BYTES, samePeer } = await authModule('cimd-fetch.mjs');
const { CimdClients, clientFromDocument, clientIdUrlProblem, keepSeconds, isUrlClientId } = await authModule('cimd.mjs');

describe('where documents may be fetched from (cimd-address.cjs)', () => {
  it('refuses every non-public range and takes public addresses (table)', () => {
    const cases: [string, RegExp | null][] = [
      ['8.8.8.8', null],
      ['93.184.215.14', null],
      ['2606:4700::1111', null],
      ['127.0.0.1', /loopback/],
      ['127.255.0.9', /loopback/],
      ['10.1.2.3', /private/],
      ['172.16.0.1', /private/],
      ['172.31.255.255', /private/],
      ['172.32.0.1', null],
      ['192.168.1.1', /private/],
      ['169.254.169.254', /metadata/],
      ['100.64.0.1', /carrier-grade NAT/],
      ['100.128.0.1', null],
      ['0.0.0.0', /this network/],
      ['224.0.0.1', /multicast/],
      ['255.255.255.255', /broadcast/],
      ['198.18.0.1', /benchmarking/],
      ['::1', /loopback/],
      ['::', /unspecified/],
      ['::ffff:127.0.0.1', /IPv4-mapped/],
      ['::ffff:8.8.8.8', /IPv4-mapped/],
      ['64:ff9b::a00:1', /NAT64/],
      ['fd00:ec2::254', /unique local/],
      ['fc12::1', /unique local/],
      ['fe80::1', /link-local/],
      ['ff02::1', /multicast/],
      ['2002:a00:1::1', /6to4/],
      ['2001:0:a00:1::1', /Teredo/],
    ];
    for (const [address, expected] of cases) {
      const reason = blockedReason(address);
      if (expected === null) assert.equal(reason, null, address);
      else assert.match(reason ?? '', expected, address);
    }
    assert.ok(BLOCKED_RANGES.length >= 20);
  });

  it('OAUTH_CIMD_ALLOW: host names (any address, their ports) and networks (table); bad entries name the setting', () => {
    const allowance = parseAllowance(' docs.corp.example , docs.corp.example:8443, 10.20.0.0/16, fd00:1::/64 ');
    const cases: [string, string, boolean][] = [
      ['docs.corp.example', '10.9.9.9', true],
      ['docs.corp.example', '127.0.0.1', true],
      ['other.example', '10.20.3.4', true],
      ['other.example', '10.21.3.4', false],
      ['other.example', 'fd00:1::5', true],
      ['other.example', 'fd00:2::5', false],
      ['other.example', '8.8.8.8', true],
    ];
    for (const [host, address, allowed] of cases) assert.equal(addressProblem(host, address, allowance) === null, allowed, `${host} at ${address}`);
    assert.deepEqual([...allowance.hosts.get('docs.corp.example')], [443, 8443]);
    assert.deepEqual(parseAllowance('').entries, []);
    for (const bad of ['https://docs.example', 'docs.example:0', 'docs.example:70000', '10.0.0.0/33', '10.0.0.0/', 'not_a_host', '127.0.0.1', 'a b'])
      assert.throws(() => parseAllowance(bad), /^Error: OAUTH_CIMD_ALLOW entry .* is not a host name/, bad);
  });
});

describe('client_id URLs and documents (cimd.mjs)', () => {
  const URL_ID = 'https://app.example/oauth/client.json';

  it('a client_id URL: https, a path, no fragment, userinfo or dot segments (table)', () => {
    const cases: [string, RegExp | null][] = [
      [URL_ID, null],
      ['https://app.example:8443/c', null],
      ['http://app.example/client.json', /must use https/],
      ['https://app.example', /must have a path/],
      ['https://app.example/', /must have a path/],
      ['https://app.example/a#b', /fragment/],
      ['https://u:p@app.example/c', /userinfo/],
      ['https://app.example/a/../c', /path segments/],
      ['https://app.example/./c', /path segments/],
      ['https://APP.example/c', /normal form/],
      [`https://app.example/${'a'.repeat(2000)}`, /2000 characters/],
    ];
    for (const [id, expected] of cases) {
      const problem = clientIdUrlProblem(id);
      if (expected === null) assert.equal(problem, null, id);
      else assert.match(problem ?? '', expected, id);
    }
    assert.equal(isUrlClientId(URL_ID), true);
    assert.equal(isUrlClientId('http://x/y'), true);
    assert.equal(isUrlClientId('Ab3_-registeredClientId000000000'), false);
  });

  it('a document: its own client_id, registration rules for redirect URIs, public only (table)', () => {
    const good = { client_id: URL_ID, client_name: 'App', redirect_uris: ['https://app.example/cb'] };
    const ok = clientFromDocument(JSON.stringify(good), URL_ID);
    assert.deepEqual(ok, {
      ok: true,
      client: {
        client_id: URL_ID,
        client_name: 'App',
        redirect_uris: ['https://app.example/cb'],
        token_endpoint_auth_method: 'none',
        document_host: 'app.example',
      },
    });
    const cases: [unknown, RegExp][] = [
      ['not json', /not JSON/],
      [[good], /not a JSON object/],
      [{ ...good, client_id: 'https://app.example/other.json' }, /client_id is not its own URL/],
      [{ ...good, client_id: `${URL_ID}/` }, /client_id is not its own URL/],
      [{ ...good, client_secret: 'x' }, /must not carry a client_secret/],
      [{ ...good, token_endpoint_auth_method: 'client_secret_basic' }, /client_secret_basic is not supported .* use none/],
      [{ ...good, token_endpoint_auth_method: 'private_key_jwt' }, /private_key_jwt is not supported .* use none/],
      [{ ...good, redirect_uris: ['http://evil.example/cb'] }, /plain http redirect URIs are allowed only to localhost/],
      [{ ...good, redirect_uris: [] }, /redirect_uris must be a list/],
      [{ ...good, client_name: 'x'.repeat(101) }, /client_name/],
      [{ ...good, grant_types: ['client_credentials'] }, /grant_types/],
    ];
    for (const [document, expected] of cases) {
      const result = clientFromDocument(typeof document === 'string' ? document : JSON.stringify(document), URL_ID);
      assert.equal(result.ok, false, JSON.stringify(document));
      assert.match(result.reason, expected, JSON.stringify(document));
    }
    assert.equal(clientFromDocument(JSON.stringify({ ...good, token_endpoint_auth_method: 'none' }), URL_ID).ok, true);
  });

  it('Cache-Control: max-age within bounds, no-store keeps nothing, nothing said: 5 minutes (table)', () => {
    const cases: [string | undefined, number][] = [
      [undefined, 300],
      ['max-age=120', 120],
      ['public, max-age="60"', 60],
      ['max-age=999999999', 86400],
      ['no-store', 0],
      ['no-cache, max-age=600', 0],
      ['private', 0],
      ['s-maxage=10', 300],
    ];
    for (const [header, seconds] of cases) assert.equal(keepSeconds(cacheSeconds(header)), seconds, String(header));
  });
});

/** The documents a test client could serve, on a real HTTPS server (localhost and 127.0.0.1). */
async function startDocumentServer() {
  const hits = new Map<string, number>();
  let base = '';
  const doc = (path: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ client_id: `${base}${path}`, client_name: 'Doc client', redirect_uris: [REDIRECT], ...extra });
  const server = https.createServer({ key: readFileSync(join(tlsDir, 'leaf-key.pem')), cert: readFileSync(join(tlsDir, 'leaf.pem')) }, (req, res) => {
    const path = String(req.url);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const json = (body: string, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
      res.end(body);
    };
    const port = (server.address() as AddressInfo).port;
    switch (path) {
      case '/client.json':
        return json(doc(path), { 'Cache-Control': 'max-age=120' });
      case '/no-store.json':
        return json(doc(path), { 'Cache-Control': 'no-store' });
      case '/mismatch.json':
        return json(doc('/client.json'));
      case '/big.json':
        return json(doc(path, { padding: 'x'.repeat(MAX_DOCUMENT_BYTES) }));
      case '/big-chunked.json':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        for (let i = 0; i < 20; i++) res.write('x'.repeat(1024));
        return res.end();
      case '/redirect-private':
        res.writeHead(302, { Location: `https://127.0.0.1:${port}/client.json` });
        return res.end();
      case '/redirect-same':
        res.writeHead(302, { Location: '/redirected.json' });
        return res.end();
      case '/redirected.json':
        return json(doc('/redirect-same'));
      case '/loop':
        res.writeHead(302, { Location: '/loop' });
        return res.end();
      case '/slow':
        return; // never answers
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `https://localhost:${port}`;
  return {
    base,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the safe fetcher (cimd-fetch.mjs) against a real HTTPS server', () => {
  let docs: Awaited<ReturnType<typeof startDocumentServer>>;
  let lookups: string[];
  /** localhost is 127.0.0.1 (loopback: refused unless allowed); public.test a public address that is really loopback (rebinding); everything else unknown. */
  const lookup = (host: string) => {
    lookups.push(host);
    if (host === 'localhost') return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    if (host === 'mixed.test')
      return Promise.resolve([
        { address: '8.8.8.8', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ]);
    return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
  };
  const allowLocalhost = parseAllowance('localhost');
  const get = (path: string, options: Record<string, unknown> = {}) =>
    fetchDocument(`${docs.base}${path}`, { allowance: allowLocalhost, ca: [CA], lookup, usualPort: docs.port, ...options });
  const refused = async (promise: Promise<unknown>, message: RegExp) =>
    assert.rejects(promise, (error: any) => error instanceof FetchRefused && message.test(error.message), String(message));

  before(async () => {
    docs = await startDocumentServer();
  });
  after(() => docs.close());

  it('fetches an allowed document once, resolving the name once, with its Cache-Control (control)', async () => {
    lookups = [];
    const fetched = await get('/client.json');
    assert.equal(JSON.parse(fetched.body).client_id, `${docs.base}/client.json`);
    assert.equal(fetched.cacheSeconds, 120);
    assert.deepEqual(lookups, ['localhost']);
  });

  it('a document on a private (loopback) address without the owner allowing it: refused, nothing sent', async () => {
    lookups = [];
    const before = docs.hits.get('/client.json') ?? 0;
    await refused(get('/client.json', { allowance: parseAllowance('') }), /not on a public address, and the owner has not allowed it/);
    await refused(get('/client.json', { allowance: parseAllowance('docs.example') }), /not on a public address/);
    // The page shows the reason without the address (no oracle for internal DNS); the log line has it.
    await assert.rejects(get('/client.json', { allowance: parseAllowance('') }), (error: any) => {
      assert.ok(!error.message.includes('127.0.0.1'), error.message);
      assert.match(error.detail, /localhost is at 127\.0\.0\.1, which is not a public address \(loopback, 127\.0\.0\.0\/8\)/);
      return true;
    });
    assert.equal(docs.hits.get('/client.json') ?? 0, before, 'no request reached the server');
    // The owner's allowance by network works as by name (control).
    assert.equal((await get('/client.json', { allowance: parseAllowance('127.0.0.0/8') })).cacheSeconds, 120);
  });

  it("the socket's peer must be the checked address, whatever its written form (table)", () => {
    const cases: [string | undefined, string, boolean][] = [
      ['127.0.0.1', '127.0.0.1', true],
      ['::ffff:127.0.0.1', '127.0.0.1', true],
      ['fd00:0:0::1', 'fd00::1', true],
      ['10.0.0.1', '127.0.0.1', false],
      ['fd00::2', 'fd00::1', false],
      [undefined, '127.0.0.1', false],
    ];
    for (const [remote, address, same] of cases) assert.equal(samePeer(remote, address), same, `${remote} / ${address}`);
  });

  it('DNS rebinding: a name with a public and a private address is refused as a whole', async () => {
    await refused(
      fetchDocument(`https://mixed.test:${docs.port}/client.json`, { allowance: parseAllowance(''), ca: [CA], lookup, usualPort: docs.port }),
      /not on a public address/,
    );
  });

  it('the address connected to is the address checked: the certificate is checked for the name', async () => {
    // localhost resolves to 127.0.0.1 and the certificate names localhost: fine (the control above).
    // Without the test CA, Node's CAs alone do not trust it: refused.
    await refused(get('/client.json', { ca: undefined }), /could not be fetched/);
  });

  it('only https, only the usual port unless allowed, unknown names refused', async () => {
    await refused(get('/client.json', { usualPort: 443 }), new RegExp(`port ${docs.port} is not allowed .*OAUTH_CIMD_ALLOW can allow localhost:${docs.port}`));
    assert.ok((await get('/client.json', { usualPort: 443, allowance: parseAllowance(`localhost:${docs.port}`) })).body, 'allowed with its port');
    await refused(
      fetchDocument(`http://localhost:${docs.port}/client.json`, { allowance: allowLocalhost, lookup, usualPort: docs.port }),
      /http: is not allowed: documents are fetched over https only/,
    );
    await refused(
      fetchDocument(`https://nowhere.test:${docs.port}/c`, { allowance: parseAllowance(''), lookup, usualPort: docs.port }),
      /could not be resolved/,
    );
  });

  it('size cap: a declared or streamed body over the cap is refused', async () => {
    await refused(get('/big.json'), new RegExp(`larger than ${MAX_DOCUMENT_BYTES} bytes`));
    await refused(get('/big-chunked.json'), /larger than/);
  });

  it('redirects: each hop checked again (to a private address: refused), followed a bounded number of times (control: the same host)', async () => {
    lookups = [];
    await refused(get('/redirect-private'), /a redirect to 127\.0\.0\.1.*not on a public address/);
    const followed = await get('/redirect-same');
    assert.equal(JSON.parse(followed.body).client_id, `${docs.base}/redirect-same`);
    await refused(get('/loop'), /more than 3 redirects/);
  });

  it('a deadline for the whole fetch, and a status other than 200 refused', async () => {
    const started = Date.now();
    await refused(get('/slow', { timeoutMs: 300 }), /no answer within/);
    assert.ok(Date.now() - started < 3000);
    await refused(get('/missing'), /answered HTTP 404/);
  });
});

describe('CimdClients: fetch, check and cache', () => {
  let docs: Awaited<ReturnType<typeof startDocumentServer>>;
  before(async () => {
    docs = await startDocumentServer();
  });
  after(() => docs.close());
  const clients = (clock = manualClock()) => {
    const logs: string[] = [];
    const cimd = new CimdClients({
      allowance: parseAllowance('localhost'),
      ca: [CA],
      now: clock.now,
      log: (line: string) => logs.push(line),
      fetchOptions: { usualPort: docs.port, lookup: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]) },
    });
    return { cimd, clock, logs };
  };

  it('keeps a document for its max-age, then fetches it again; no-store is fetched every time', async () => {
    const { cimd, clock } = clients();
    const id = `${docs.base}/client.json`;
    const first = await cimd.resolve(id);
    assert.equal(first.ok, true);
    assert.equal(first.client.document_host, `localhost:${docs.port}`);
    const hits = docs.hits.get('/client.json');
    assert.equal((await cimd.resolve(id)).ok, true);
    assert.equal(docs.hits.get('/client.json'), hits, 'from the cache');
    clock.advance(121_000);
    await cimd.resolve(id);
    assert.equal(docs.hits.get('/client.json'), hits! + 1, 'fetched again after max-age');
    const noStore = `${docs.base}/no-store.json`;
    await cimd.resolve(noStore);
    await cimd.resolve(noStore);
    assert.equal(docs.hits.get('/no-store.json'), 2);
  });

  it('a client_id mismatch is refused and logged (control: the document that names itself)', async () => {
    const { cimd, logs } = clients();
    const refused = await cimd.resolve(`${docs.base}/mismatch.json`);
    assert.equal(refused.ok, false);
    assert.match(refused.reason, /client_id is not its own URL/);
    assert.ok(logs.some((line) => line.includes('mismatch.json refused')));
    assert.equal((await cimd.resolve(`${docs.base}/client.json`)).ok, true);
  });

  it('a refusal is remembered briefly: a hostile URL is not fetched on every request', async () => {
    const { cimd, clock } = clients();
    const id = `${docs.base}/big.json`;
    await cimd.resolve(id);
    await cimd.resolve(id);
    const hits = docs.hits.get('/big.json');
    clock.advance(11_000);
    await cimd.resolve(id);
    assert.equal(docs.hits.get('/big.json'), hits! + 1);
  });
});

describe('the MCP SDK client with a client metadata document (clientMetadataUrl), through the gateway', () => {
  let docs: Awaited<ReturnType<typeof startDocumentServer>>;
  let gw: ProxyingGateway;
  before(async () => {
    docs = await startDocumentServer();
    gw = await startProxyingGateway({ env: { OAUTH_CIMD_ALLOW: 'localhost' } });
    gw.gateway.ctx.cimd = new CimdClients({
      allowance: gw.gateway.ctx.cimd.allowance,
      ca: [CA],
      log: (line: string) => gw.logs.push(line),
      fetchOptions: { usualPort: docs.port, lookup: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]) },
    });
  });
  after(async () => {
    await gw.close();
    await docs.close();
  });

  it('the SDK uses the URL as client_id, without registering; the consent page names the document host; tools/list works', async () => {
    const clientId = `${docs.base}/client.json`;
    let consentHtml = '';
    const provider = new ConsentingProvider({
      clientMetadataUrl: clientId,
      async consent(url) {
        assert.equal(url.searchParams.get('client_id'), clientId);
        consentHtml = await (await fetch(url.href.replace(gw.issuer, gw.base))).text();
        const answer = await consent(gw, url.href);
        assert.equal(answer.status, 303, 'a 303 after the consent POST');
        return new URL(answer.headers.get('location')!).searchParams.get('code') ?? '';
      },
    });
    const first = new StreamableHTTPClientTransport(new URL(gw.resource), { authProvider: provider });
    await assert.rejects(new Client({ name: 'cimd', version: '1' }).connect(first), UnauthorizedError);
    await first.finishAuth(provider.code!);
    const client = new Client({ name: 'cimd', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.resource), { authProvider: provider }));
    assert.deepEqual(
      (await client.listTools()).tools.map((t) => t.name),
      ['ping'],
    );
    await client.close();
    assert.match(consentHtml, new RegExp(`identified by its metadata document at <code>localhost:${docs.port}</code>`));
    assert.ok(!gw.logs.some((line) => line.startsWith('registered')), 'no dynamic registration');
    assert.ok(gw.logs.some((line) => line === `consent granted to ${clientId}`));
  });

  it('refusals are pages, never redirects: not https, private without allowance, mismatch (control: the good document)', async () => {
    const { challenge } = pkcePair();
    const page = async (clientId: string) => {
      const res = await getAuthorize(gw, authorizeParams(clientId, challenge));
      return { status: res.status, location: res.headers.get('location'), text: await res.text() };
    };
    const good = await page(`${docs.base}/client.json`);
    assert.equal(good.status, 200);
    for (const [clientId, message] of [
      [`http://localhost:${docs.port}/client.json`, /must use https/],
      [`${docs.base}/mismatch.json`, /client_id is not its own URL/],
      [`${docs.base}/big.json`, /larger than/],
      [`${docs.base}/redirect-private`, /a redirect to 127\.0\.0\.1/],
    ] as const) {
      const refused = await page(clientId);
      assert.equal(refused.status, 400, clientId);
      assert.equal(refused.location, null);
      assert.match(refused.text, /Client refused/);
      assert.match(refused.text, message, clientId);
    }
  });
});

describe('confidential clients at /token (client-secret.mjs)', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startAuthGateway();
  });
  after(() => gw.close());

  const registerConfidential = async (method: string) => {
    const res = await fetch(`${gw.base}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: method }),
    });
    assert.equal(res.status, 201);
    return (await res.json()) as { client_id: string; client_secret: string; client_secret_expires_at: number };
  };
  const codeFor = async (clientId: string) => {
    const pkce = pkcePair();
    const res = await consent(gw, `${gw.base}/authorize?${new URLSearchParams(authorizeParams(clientId, pkce.challenge))}`, OWNER_TOKEN);
    return { ...pkce, code: new URL(res.headers.get('location')!).searchParams.get('code')! };
  };
  const exchange = (form: Record<string, string>, authorization?: string) =>
    fetch(`${gw.base}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(authorization ? { Authorization: authorization } : {}) },
      body: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: REDIRECT, resource: gw.resource, ...form }),
    });
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  it('client_secret_post: a wrong or missing secret is refused (the code stays usable), the right one gets tokens', async () => {
    const client = await registerConfidential('client_secret_post');
    assert.equal(client.client_secret_expires_at, 0);
    assert.ok(client.client_secret.length >= 43);
    // A client is written to disk at its first consent (waiting ones are kept in memory only).
    const { code, verifier } = await codeFor(client.client_id);
    const stored = readFileSync(join(gw.stateDir, 'clients.json'), 'utf8');
    assert.ok(stored.includes(client.client_id), 'control: the consented client is stored');
    assert.ok(!stored.includes(client.client_secret), 'only the hash is stored');
    const base = { client_id: client.client_id, code, code_verifier: verifier };
    // One character changed, always to another one (a secret ending in A must not be 'changed' to itself: 1 run in 64).
    const last = client.client_secret.slice(-1) === 'A' ? 'B' : 'A';
    const wrong = await exchange({ ...base, client_secret: `${client.client_secret.slice(0, -1)}${last}` });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { error: 'invalid_client', error_description: 'the client secret is wrong' });
    const missing = await exchange(base);
    assert.equal(missing.status, 401);
    assert.match(((await missing.json()) as { error_description: string }).error_description, /confidential: send its client_secret/);
    const right = await exchange({ ...base, client_secret: client.client_secret });
    assert.equal(right.status, 200);
    assert.ok(!gw.logs.some((line) => line.includes(client.client_secret)), 'the secret is not logged');
  });

  it('client_secret_basic: the Basic header names the client; a wrong secret refused beside the right one', async () => {
    const client = await registerConfidential('client_secret_basic');
    const { code, verifier } = await codeFor(client.client_id);
    const wrong = await exchange({ code, code_verifier: verifier }, basic(client.client_id, 'not-the-secret'));
    assert.equal(wrong.status, 401);
    const mixed = await exchange({ code, code_verifier: verifier, client_id: 'someone-else' }, basic(client.client_id, client.client_secret));
    assert.equal(mixed.status, 401);
    const right = await exchange({ code, code_verifier: verifier }, basic(client.client_id, client.client_secret));
    assert.equal(right.status, 200, await right.clone().text());
    const tokens = (await right.json()) as { refresh_token: string };
    // Refreshing needs the secret too.
    const refresh = (authorization?: string) =>
      fetch(`${gw.base}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(authorization ? { Authorization: authorization } : {}) },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: client.client_id, refresh_token: tokens.refresh_token }),
      });
    assert.equal((await refresh()).status, 401);
    assert.equal((await refresh(basic(client.client_id, client.client_secret))).status, 200);
  });

  it('/revoke: a confidential client must authenticate to revoke its token (whoever holds it alone cannot); the right secret revokes', async () => {
    const client = await registerConfidential('client_secret_post');
    const { code, verifier } = await codeFor(client.client_id);
    const issued = await exchange({ client_id: client.client_id, code, code_verifier: verifier, client_secret: client.client_secret });
    const tokens = (await issued.json()) as { access_token: string; refresh_token: string };
    const revoke = (form: Record<string, string>, authorization?: string) =>
      fetch(`${gw.base}/revoke`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(authorization ? { Authorization: authorization } : {}) },
        body: new URLSearchParams(form),
      });
    // nginx's auth_request question: 204 lets the request through, 401 refuses it.
    const live = async () => (await introspect(gw, `Bearer ${tokens.access_token}`)).status;
    for (const [what, attempt] of [
      ['no credentials', revoke({ token: tokens.refresh_token })],
      ['the client_id alone', revoke({ token: tokens.refresh_token, client_id: client.client_id })],
      ['a wrong secret', revoke({ token: tokens.refresh_token, client_id: client.client_id, client_secret: 'wrong' })],
      ['a wrong Basic header', revoke({ token: tokens.refresh_token }, basic(client.client_id, 'wrong'))],
    ] as const) {
      const refused = await attempt;
      assert.equal(refused.status, 401, what);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client', what);
      assert.equal(await live(), 204, `${what}: the token still works`);
    }
    // Another client's id: the token is not theirs, so nothing happens (200, as for an unknown token).
    assert.equal((await revoke({ token: tokens.refresh_token, client_id: 'someone-else' })).status, 200);
    assert.equal(await live(), 204);
    const right = await revoke({ token: tokens.refresh_token }, basic(client.client_id, client.client_secret));
    assert.equal(right.status, 200);
    assert.equal(await live(), 401, 'the family is revoked');
    assert.ok(!gw.logs.some((line) => line.includes(client.client_secret)), 'the secret is not logged');
  });

  it('a public client stays public: no secret issued, and one presented is refused', async () => {
    const res = await fetch(`${gw.base}/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT] }),
    });
    const client = (await res.json()) as Record<string, unknown>;
    assert.equal(client.token_endpoint_auth_method, 'none');
    assert.equal('client_secret' in client, false);
    const { code, verifier } = await codeFor(client.client_id as string);
    const withSecret = await exchange({ client_id: client.client_id as string, code, code_verifier: verifier, client_secret: 'made-up' });
    assert.equal(withSecret.status, 401);
    assert.equal((await exchange({ client_id: client.client_id as string, code, code_verifier: verifier })).status, 200);
  });
});
