/**
 * Issue 28's attacks on the auth gateway, in-process on the real handler, each
 * beside its positive control: parallel consent guesses racing the limiter,
 * strangers locking out the owner, and redirects before the owner trusted a client.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  OWNER_TOKEN,
  PASSPHRASE,
  REDIRECT,
  authorizeParams,
  getAuthorize,
  parseConsentPage,
  pkcePair,
  postConsent,
  register,
  startAuthGateway,
  startUpstream,
  type Gateway,
} from './http-fixture.js';
import { racedConsentPosts } from '../../oauth-race.js';

/** A consent page's form for a fresh client, with its cookie. */
async function consentForm(gw: Gateway) {
  const client = await register(gw);
  const res = await getAuthorize(gw, authorizeParams(client.client_id, pkcePair().challenge));
  assert.equal(res.status, 200);
  const { fields, cookie } = parseConsentPage(await res.text(), res.headers.get('set-cookie'));
  return { client, fields, cookie: cookie! };
}

describe('attack: parallel consent guesses race the wrong-secret limit', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gw: Gateway;
  before(async () => {
    upstream = await startUpstream();
    gw = await startAuthGateway({ upstream: upstream.url });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  it('60 posts that send their headers and part of the body, then the rest, get at most 5 comparisons (401s)', async () => {
    const { fields, cookie } = await consentForm(gw);
    const url = new URL(gw.base);
    let arrived = 0;
    gw.gateway.server.on('request', (req: { method: string }) => (arrived += req.method === 'POST' ? 1 : 0));
    const statuses = await racedConsentPosts({
      connect: () => net.connect(Number(url.port), url.hostname),
      host: url.host,
      origin: gw.issuer,
      cookie,
      fields,
      count: 60,
      secret: (i) => `wrong guess ${i}`,
      // Every request's headers have reached the handler before any body is complete.
      settle: async () => {
        while (arrived < 60) await new Promise((resolve) => setTimeout(resolve, 10));
      },
    });
    const compared = statuses.filter((s) => s === 401).length;
    assert.ok(compared <= 5, `${compared} of 60 secrets were compared (statuses ${JSON.stringify(statuses)})`);
    assert.equal(statuses.filter((s) => s === 429).length, 60 - compared, 'the rest are refused by the lock');
    // Control: the owner's ACCESS_TOKEN still consents while the lock holds.
    const owner = await postConsent(gw, { ...fields, owner_secret: OWNER_TOKEN, decision: 'allow' }, { cookie });
    assert.equal(owner.status, 303);
    assert.ok(new URL(owner.headers.get('location')!).searchParams.get('code'));
  });
});
