// @ts-check
// Small HTTP helpers: bounded bodies, JSON and RFC 6749 error answers.

export const MAX_BODY = 64 * 1024;

export class HttpError extends Error {
  constructor(status, error, description) {
    super(description);
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

/** The body as text, at most MAX_BODY bytes (413 beyond). */
export function readBody(req, limit = MAX_BODY) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      reject(new HttpError(413, 'invalid_request', `the body is limited to ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, 'invalid_request', `the body is limited to ${limit} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const mediaType = (req) =>
  String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();

/** A form body as a plain object (the first value of each name). */
export async function readForm(req) {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') throw new HttpError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  const form = {};
  for (const [name, value] of new URLSearchParams(await readBody(req))) if (!(name in form)) form[name] = value;
  return form;
}

export async function readJsonBody(req) {
  if (mediaType(req) !== 'application/json') throw new HttpError(400, 'invalid_client_metadata', 'the body must be application/json');
  try {
    return JSON.parse(await readBody(req));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, 'invalid_client_metadata', 'the body is not JSON');
  }
}

export function sendJson(res, status, value, headers = {}) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache', ...headers });
  res.end(JSON.stringify(value));
}

/** RFC 6749 §5.2 error body; the description never contains a secret. */
export const sendOAuthError = (res, status, error, description, headers = {}) => sendJson(res, status, { error, error_description: description }, headers);

export function sendText(res, status, text, headers = {}) {
  if (res.headersSent) return res.end();
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** The query of a request target as a plain object (first value of each name). */
export function queryOf(target) {
  const params = {};
  const at = String(target ?? '').indexOf('?');
  if (at < 0) return params;
  for (const [name, value] of new URLSearchParams(String(target).slice(at + 1))) if (!(name in params)) params[name] = value;
  return params;
}
