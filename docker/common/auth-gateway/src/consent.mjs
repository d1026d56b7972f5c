// @ts-check
// The consent page: the person at the browser proves they own this instance
// (ACCESS_TOKEN, or OAUTH_OWNER_PASSPHRASE when set; owner-guard.mjs judges it)
// and allows or denies the client. Its name is shown as what it is, a claim
// the client made about itself at registration, next to the whole redirect
// URI the code would go to. CSRF: a random value in a
// __Host- cookie (SameSite=Strict, HttpOnly) and the same value in a hidden
// field (double submit), compared in constant time; plus the Origin check in
// the handler. The page cannot be framed.
import { sameSecret } from './secrets.mjs';

export const CSRF_COOKIE = '__Host-mcps-csrf';
/** The parameters the form carries from GET /authorize to POST /authorize. */
export const AUTHORIZE_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'scope', 'resource'];

export const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: with it a browser sends "Origin: null" on the form's POST,
  // which the Origin check must refuse. same-origin still sends no Referer
  // (with the query) to any other site; the redirect to the client says no-referrer.
  'Referrer-Policy': 'same-origin',
};

export const escapeHtml = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export const csrfCookie = (value) => `${CSRF_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict`;

/** The value of one cookie in a Cookie header, else undefined. */
export function cookieValue(header, name) {
  for (const part of String(header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Double submit: the cookie and the form field are present and equal. */
export function csrfMatches(cookieHeader, field) {
  const cookie = cookieValue(cookieHeader, CSRF_COOKIE);
  if (!cookie || typeof field !== 'string' || !field) return false;
  return sameSecret(cookie, field);
}

/** For a client known by its metadata document (cimd.mjs): the host that serves it, which is who the client is. */
export const documentIdentity = (client) =>
  client.document_host
    ? `<p>This client is identified by its metadata document at <code>${escapeHtml(client.document_host)}</code>: whoever controls that host speaks for it (the name above is the document's own claim). Its ID: <code>${escapeHtml(client.client_id)}</code></p>`
    : '';

export function consentPage({ client, params, csrf, passphrase, error }) {
  const hidden = AUTHORIZE_FIELDS.filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params[name])}">`)
    .join('\n      ');
  const name = client.client_name
    ? `A client that calls itself <strong>${escapeHtml(client.client_name)}</strong> (a name it chose; nobody checked it)`
    : 'A client that gave no name';
  const secretLabel = passphrase ? 'OAUTH_OWNER_PASSPHRASE (or ACCESS_TOKEN)' : 'ACCESS_TOKEN';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Allow access to this MCP server?</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
    .error { color: #a00; font-weight: 600; }
    code { background: #f3f3f3; padding: 0 .25rem; }
    .target code { display: block; padding: .4rem; overflow-wrap: anywhere; }
    input[type=password] { width: 100%; padding: .4rem; font: inherit; }
    button { font: inherit; padding: .4rem 1.2rem; margin: 1rem .5rem 0 0; }
  </style>
</head>
<body>
  <h1>Allow access to this MCP server?</h1>
  <p>${name} asks to use this sandboxed MCP server. If you allow it, a code for a token is sent to:</p>
  <p class="target"><code>${escapeHtml(params.redirect_uri)}</code></p>
  <p>Allow it only if you just started this connection and that address belongs to the app you use.</p>
  ${documentIdentity(client)}
  <p>Only the owner of this instance can allow it: enter its ${secretLabel}.</p>
  ${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="/authorize">
      ${hidden}
      <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
      <label for="owner_secret">Owner secret</label>
      <input type="password" id="owner_secret" name="owner_secret" autocomplete="off" data-1p-ignore data-lpignore="true" autofocus>
      <button type="submit" name="decision" value="allow">Allow</button>
      <button type="submit" name="decision" value="deny">Deny</button>
  </form>
</body>
</html>
`;
}

/** A page with a title and a message; `target`, when given, is an address written out (never a link). */
export function errorPage(title, message, target) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem">
  <h1>${escapeHtml(title)}</h1>
  <p>${escapeHtml(message)}</p>${target === undefined ? '' : `\n  <p><code style="overflow-wrap: anywhere">${escapeHtml(target)}</code></p>`}
</body>
</html>
`;
}
