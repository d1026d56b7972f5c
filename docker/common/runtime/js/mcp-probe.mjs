// @ts-check
// One real MCP round trip over Streamable HTTP, the way a new client makes it:
// initialize, notifications/initialized, tools/list, then DELETE of the
// session. Shared by the CLI (`start -d`, `status --probe`, through the same
// endpoint a client uses) and by the container (the gateway's self-check and
// /opt/sandbox/bin/mcp-probe). Node built-ins only: it runs in both places.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';

export const PROBE_PROTOCOL_VERSION = '2025-06-18';

export class ProbeError extends Error {
  /** @param {{status?: number, serverLines?: string[], retryable?: boolean}} details */
  constructor(message, details = {}) {
    super(message);
    this.name = 'ProbeError';
    this.status = details.status;
    this.serverLines = details.serverLines ?? [];
    this.retryable = details.retryable ?? false;
  }
}

const RETRYABLE = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'];
const unreachable = (target, error, signal) =>
  signal?.aborted
    ? new ProbeError('no answer in time')
    : new ProbeError(`cannot reach ${target.origin}: ${error.code ?? error.message}`, { retryable: RETRYABLE.includes(error.code) });

/**
 * TLS pinned to one certificate: `pin` is the SHA-256 fingerprint of the
 * certificate the endpoint must present (the one `npm run start` saved),
 * whoever issued it and whatever names it holds. It is checked right after
 * the handshake, before a byte of the request (and its token) is sent.
 */
function pinnedSocket(target, pin, signal) {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      // net.Socket takes the signal too; @types/node leaves it out of tls's options.
      /** @type {tls.ConnectionOptions} */ ({
        host,
        port: Number(target.port || 443),
        ...(isIP(host) ? {} : { servername: host }),
        rejectUnauthorized: false,
        signal,
      }),
    );
    socket.once('secureConnect', () => {
      const presented = socket.getPeerCertificate()?.fingerprint256;
      if (presented === pin) return resolve(socket);
      socket.destroy();
      reject(new ProbeError(`the endpoint presented another certificate (SHA-256 ${presented ?? 'none'}) than the one saved (${pin})`));
    });
    socket.once('error', (error) => reject(unreachable(target, error, signal)));
  });
}

/**
 * @param {string} url
 * @param {{ method: string, headers: Record<string, string>, body?: string, ca?: string, pin?: string, signal: AbortSignal }} request
 * @returns {Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, text: string }>}
 */
async function send(url, { method, headers, body, ca, pin, signal }) {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const socket = secure && pin ? await pinnedSocket(target, pin, signal) : undefined;
  const client = secure ? https : http;
  const connection = socket ? { createConnection: () => socket } : { agent: false, ...(ca ? { ca } : {}) };
  return new Promise((resolve, reject) => {
    const request = client.request(target, { method, headers, signal, ...connection }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
      response.on('error', reject);
    });
    request.on('error', (error) => reject(error instanceof ProbeError ? error : unreachable(target, error, signal)));
    request.end(body);
  });
}

/** The JSON-RPC message answering `id`, from a JSON body or an SSE stream. */
function answerTo(id, response) {
  const type = String(response.headers['content-type'] ?? '');
  const messages = [];
  if (type.includes('text/event-stream')) {
    for (const event of response.text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data) messages.push(JSON.parse(data));
    }
  } else if (response.text.trim()) {
    const parsed = JSON.parse(response.text);
    messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }
  return messages.find((m) => m && m.id === id && !('method' in m));
}

function httpFailure(step, response) {
  const retryable = [502, 503, 504].includes(response.status);
  let detail = response.text.trim().slice(0, 300);
  try {
    const parsed = JSON.parse(response.text);
    if (parsed?.error?.message) {
      return new ProbeError(`${step}: HTTP ${response.status}: ${parsed.error.message}`, {
        status: response.status,
        serverLines: parsed.error.data?.stderr,
        retryable,
      });
    }
  } catch {
    // not JSON: the body as text
  }
  return new ProbeError(`${step}: HTTP ${response.status}${detail ? `: ${detail.split('\n')[0]}` : ''}`, { status: response.status, retryable });
}

/**
 * @param {{url: string, headers?: Record<string,string>, ca?: string, pin?: string, timeoutMs?: number}} options
 * @returns {Promise<{protocolVersion: string, serverName?: string, tools: string[], toolsListed: boolean, ms: number}>}
 */
export async function probe(options) {
  const started = Date.now();
  const signal = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  const base = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...options.headers };
  const post = (message, headers = {}) =>
    send(options.url, { method: 'POST', headers: { ...base, ...headers }, body: JSON.stringify(message), ca: options.ca, pin: options.pin, signal });

  const init = await post({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: PROBE_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-sandbox-probe', version: '1' } },
  });
  if (init.status !== 200) throw httpFailure('initialize', init);
  const initAnswer = answerTo(1, init);
  if (!initAnswer) throw new ProbeError('initialize: the answer holds no JSON-RPC response');
  if (initAnswer.error) {
    throw new ProbeError(`initialize: ${initAnswer.error.message}`, { serverLines: initAnswer.error.data?.stderr });
  }
  const sessionId = init.headers['mcp-session-id'];
  const protocolVersion = initAnswer.result?.protocolVersion ?? PROBE_PROTOCOL_VERSION;
  const session = { ...(sessionId ? { 'Mcp-Session-Id': String(sessionId) } : {}), 'MCP-Protocol-Version': protocolVersion };
  try {
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    if (initialized.status !== 202 && initialized.status !== 200) throw httpFailure('notifications/initialized', initialized);

    const tools = [];
    let toolsListed = false;
    if (initAnswer.result?.capabilities?.tools) {
      let cursor;
      for (let page = 0, id = 2; page < 20; page++, id++) {
        const listed = await post({ jsonrpc: '2.0', id, method: 'tools/list', params: cursor ? { cursor } : {} }, session);
        if (listed.status !== 200) throw httpFailure('tools/list', listed);
        const answer = answerTo(id, listed);
        if (!answer) throw new ProbeError('tools/list: the answer holds no JSON-RPC response');
        if (answer.error) throw new ProbeError(`tools/list: ${answer.error.message}`, { serverLines: answer.error.data?.stderr });
        tools.push(...(answer.result?.tools ?? []).map((t) => t.name));
        cursor = answer.result?.nextCursor;
        if (!cursor) break;
      }
      toolsListed = true;
    }
    return { protocolVersion, serverName: initAnswer.result?.serverInfo?.name, tools, toolsListed, ms: Date.now() - started };
  } finally {
    // End the session so the probe never holds a server process.
    if (sessionId) {
      await send(options.url, {
        method: 'DELETE',
        headers: { ...options.headers, ...session },
        ca: options.ca,
        pin: options.pin,
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
    }
  }
}

/** "14 tools (read_file, write_file, ...)", short enough for one line. */
export function describeTools(result, shown = 6) {
  if (!result.toolsListed) return 'no tools (the server declares no tools capability)';
  const names = result.tools.slice(0, shown).join(', ');
  const more = result.tools.length > shown ? ', ...' : '';
  return `${result.tools.length} tool${result.tools.length === 1 ? '' : 's'}${names ? ` (${names}${more})` : ''}`;
}
