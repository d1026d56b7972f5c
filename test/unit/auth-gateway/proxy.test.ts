/**
 * The tunnel-mode reverse proxy streams: an SSE event reaches the client while
 * the upstream response is still open, a client that goes away closes the
 * upstream request, and a request body is passed on as it comes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OWNER_TOKEN, startAuthGateway, type Gateway } from './http-fixture.js';

describe('auth gateway proxy (tunnel mode)', () => {
  let upstream: http.Server;
  let gw: Gateway;
  const closed: string[] = [];
  let bodyChunksBeforeEnd = 0;
  before(async () => {
    upstream = http.createServer((req, res) => {
      req.on('close', () => closed.push(req.url ?? ''));
      if (req.url === '/stream') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'X-Upstream': '1' });
        res.write('event: message\ndata: first\n\n');
        // Never ends on its own: only the client's going away ends it.
        return;
      }
      if (req.url === '/upload') {
        req.on('data', () => bodyChunksBeforeEnd++);
        req.on('end', () => res.end(`got ${bodyChunksBeforeEnd}`));
        return;
      }
      res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    gw = await startAuthGateway({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
  });
  after(async () => {
    await gw.close();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('passes an SSE event on before the upstream response ends, and a client abort ends the upstream request', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gw.base}/stream`, { headers: { Authorization: `Bearer ${OWNER_TOKEN}` }, signal: controller.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-upstream'), '1');
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(Buffer.from(first.value!).toString(), /data: first/);
    controller.abort();
    await reader.cancel().catch(() => {});
    for (let i = 0; i < 50 && !closed.includes('/stream'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(closed.includes('/stream'), 'the upstream request was closed');
  });

  it('streams a request body through and answers what the upstream answered', async () => {
    const chunks = ['a'.repeat(1000), 'b'.repeat(1000), 'c'.repeat(1000)];
    const body = new ReadableStream({
      async pull(controller) {
        const next = chunks.shift();
        if (next === undefined) return controller.close();
        controller.enqueue(new TextEncoder().encode(next));
        await new Promise((r) => setTimeout(r, 30));
      },
    });
    const res = await fetch(`${gw.base}/upload`, { method: 'POST', headers: { Authorization: `Bearer ${OWNER_TOKEN}` }, body, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^got [1-9]/);
  });

  it('an unreachable upstream is a 502 with a JSON-RPC error, not a hang', async () => {
    const gw2 = await startAuthGateway({ upstream: 'http://127.0.0.1:1' });
    try {
      const res = await fetch(`${gw2.base}/mcp`, { method: 'POST', headers: { Authorization: `Bearer ${OWNER_TOKEN}` }, body: '{}' });
      assert.equal(res.status, 502);
      assert.match(await res.text(), /not reachable/);
    } finally {
      await gw2.close();
    }
  });
});
