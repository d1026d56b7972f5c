// @ts-check
'use strict';
// ngrok: from the container's environment to the SDK's forward options and the
// traffic policy that ngrok's edge enforces. CommonJS so that the CLI can load it synchronously
// and validate .env with the very same rules. Pure functions (unit-tested, the
// policy's CEL expressions included); configure.mjs writes the result.

const { existsSync } = require('node:fs');
const { join } = require('node:path');

// Code every template shares: /opt/sandbox/js, beside this folder, in the image; docker/common/runtime/js in the
// repository, where the CLI validates .env with this very module and the unit tests load it.
const SHARED_LIB = existsSync(join(__dirname, '..', 'js')) ? join(__dirname, '..', 'js') : join(__dirname, '..', '..', 'common', 'runtime', 'js');
const { ACCESS_TOKEN_PATTERN, AUTH_MODES } = require(join(SHARED_LIB, 'setting-rules.cjs'));
const { asCidr, badCidr, list } = require(join(SHARED_LIB, 'allowed-cidrs.cjs'));

class ConfigError extends Error {}

const SESSION_GATEWAY = 'http://127.0.0.1:8000';
// AUTH=oauth: the auth gateway (docker/common/auth-gateway) checks every request and proxies to the session gateway.
const AUTH_GATEWAY = 'http://127.0.0.1:8001';
const OAUTH_PROVIDERS = ['google', 'github', 'gitlab', 'microsoft', 'linkedin', 'twitch'];

// CEL string literal: single quotes, backslash escapes.
const celString = (value) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** The settings ngrok needs, validated; errors name the variable. */
function ngrokSettings(env) {
  const authtoken = env.NGROK_AUTHTOKEN ?? '';
  if (!authtoken) throw new ConfigError('NGROK_AUTHTOKEN is not set: copy it from https://dashboard.ngrok.com/get-started/your-authtoken');
  if (!/^[A-Za-z0-9_-]+$/.test(authtoken)) throw new ConfigError('NGROK_AUTHTOKEN may hold only letters, digits, _ and -');

  const domain = (env.NGROK_URL ?? '').replace(/^https?:\/\//, '').replace(/\/$/, '');
  if (domain && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(domain)) {
    throw new ConfigError(`NGROK_URL '${env.NGROK_URL}' is not a domain such as example.ngrok.app`);
  }

  const basicAuth = env.NGROK_BASIC_AUTH ?? '';
  if (basicAuth) {
    const match = basicAuth.match(/^([^:\s]+):(\S+)$/);
    if (!match) throw new ConfigError('NGROK_BASIC_AUTH must be user:password');
    if (match[2].length < 8 || match[2].length > 128) throw new ConfigError('NGROK_BASIC_AUTH: ngrok wants a password of 8 to 128 characters');
  }
  if (!AUTH_MODES.includes(env.AUTH || 'bearer')) throw new ConfigError(`AUTH must be ${AUTH_MODES.join(' or ')}`);
  const oauth = env.AUTH === 'oauth';
  if (oauth && basicAuth) {
    throw new ConfigError('AUTH=oauth and NGROK_BASIC_AUTH cannot be used together: web connectors cannot send basic auth. Remove NGROK_BASIC_AUTH');
  }
  if (oauth && env.NGROK_OAUTH_PROVIDER) {
    throw new ConfigError(
      "AUTH=oauth and NGROK_OAUTH_PROVIDER cannot be used together: ngrok's browser login would stop the MCP authorization flow. Remove NGROK_OAUTH_PROVIDER",
    );
  }
  const bearer = basicAuth ? '' : env.ACCESS_TOKEN || env.NGINX_ACCESS_TOKEN || '';
  if (!basicAuth && !ACCESS_TOKEN_PATTERN.test(bearer)) {
    throw new ConfigError('ACCESS_TOKEN must be 32 to 256 hex characters (generate one with npm run gen_key), or set NGROK_BASIC_AUTH instead');
  }

  const oauthProvider = env.NGROK_OAUTH_PROVIDER ?? '';
  if (oauthProvider && !OAUTH_PROVIDERS.includes(oauthProvider)) {
    throw new ConfigError(`NGROK_OAUTH_PROVIDER must be one of ${OAUTH_PROVIDERS.join(', ')}`);
  }
  const allowEmails = list(env.NGROK_OAUTH_ALLOW_EMAILS);
  const allowDomains = list(env.NGROK_OAUTH_ALLOW_DOMAINS).map((d) => d.replace(/^@/, ''));
  if ((allowEmails.length || allowDomains.length) && !oauthProvider) {
    throw new ConfigError('NGROK_OAUTH_ALLOW_EMAILS and NGROK_OAUTH_ALLOW_DOMAINS need NGROK_OAUTH_PROVIDER');
  }
  const badEmail = allowEmails.find((e) => !/^[^\s@']+@[A-Za-z0-9.-]+$/.test(e));
  if (badEmail) throw new ConfigError(`NGROK_OAUTH_ALLOW_EMAILS entry '${badEmail}' is not an email address`);
  const badDomain = allowDomains.find((d) => !/^[A-Za-z0-9.-]+$/.test(d));
  if (badDomain) throw new ConfigError(`NGROK_OAUTH_ALLOW_DOMAINS entry '${badDomain}' is not a domain`);

  // ngrok's restrict-ips takes CIDRs only: a single address becomes /32 (or /128).
  const allowCidrs = list(env.NGROK_ALLOW_CIDRS).map(asCidr);
  const badEntry = badCidr(allowCidrs);
  if (badEntry) throw new ConfigError(`NGROK_ALLOW_CIDRS entry '${badEntry}' is not an address or CIDR such as 203.0.113.0/24`);

  const serverAddr = env.NGROK_SERVER_ADDR ?? '';
  if (serverAddr && !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(serverAddr)) throw new ConfigError('NGROK_SERVER_ADDR must be host:port');
  const retries = Number(env.TUNNEL_RETRIES || 8);
  if (!Number.isInteger(retries) || retries < 1) throw new ConfigError('TUNNEL_RETRIES must be a whole number of at least 1');

  return { authtoken, domain, basicAuth, bearer, oauth, oauthProvider, allowEmails, allowDomains, allowCidrs, serverAddr, retries };
}

/** True (deny) unless the request carries exactly one `Authorization: Bearer TOKEN`. */
function bearerDenyExpression(token) {
  return `!('authorization' in req.headers) || req.headers['authorization'] != [${celString(`Bearer ${token}`)}]`;
}

/** True (deny) unless the OAuth identity's email is allowed by address or domain. */
function identityDenyExpression(emails, domains) {
  const email = 'actions.ngrok.oauth.identity.email';
  const allowed = [
    ...(emails.length ? [`${email} in [${emails.map(celString).join(', ')}]`] : []),
    ...domains.map((d) => `${email}.endsWith(${celString(`@${d}`)})`),
  ];
  return `!(${allowed.join(' || ')})`;
}

/**
 * Rules run in order at ngrok's edge; every check must pass. The client's
 * credentials are removed before the request reaches the container.
 */
function trafficPolicy(settings) {
  const rules = [];
  if (settings.allowCidrs.length) {
    rules.push({ name: 'allowed addresses', actions: [{ type: 'restrict-ips', config: { enforce: true, allow: settings.allowCidrs } }] });
  }
  if (settings.oauthProvider) {
    rules.push({ name: 'oauth', actions: [{ type: 'oauth', config: { provider: settings.oauthProvider } }] });
    if (settings.allowEmails.length || settings.allowDomains.length) {
      rules.push({
        name: 'allowed identities',
        expressions: [identityDenyExpression(settings.allowEmails, settings.allowDomains)],
        actions: [{ type: 'deny', config: { status_code: 403 } }],
      });
    }
  }
  if (settings.oauth) {
    // AUTH=oauth: the auth gateway in the container checks the token (it must see the header) and answers discovery.
    return { on_http_request: rules };
  }
  if (settings.basicAuth) {
    rules.push({ name: 'basic auth', actions: [{ type: 'basic-auth', config: { credentials: [settings.basicAuth] } }] });
  } else {
    rules.push({
      name: 'bearer token',
      expressions: [bearerDenyExpression(settings.bearer)],
      actions: [
        {
          type: 'custom-response',
          config: {
            status_code: 401,
            headers: { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' },
            body: 'A valid bearer token is required.\n',
          },
        },
      ],
    });
  }
  rules.push({ name: 'drop credentials', actions: [{ type: 'remove-headers', config: { headers: ['authorization'] } }] });
  return { on_http_request: rules };
}

/** The options of ngrok.forward(), secrets included (the SDK gets them in memory only). */
function forwardOptions(settings) {
  return {
    addr: settings.oauth ? AUTH_GATEWAY : SESSION_GATEWAY,
    authtoken: settings.authtoken,
    ...(settings.domain ? { domain: settings.domain } : {}),
    ...(settings.serverAddr ? { server_addr: settings.serverAddr } : {}),
    traffic_policy: JSON.stringify(trafficPolicy(settings)),
  };
}

/**
 * An error carrying an ngrok error code is ngrok's answer (a rejected
 * authtoken, a domain that is not yours): trying again cannot help.
 * Anything else (no route, a dropped connection) may pass.
 */
function classifyError(error) {
  const code = error?.errorCode ?? (String(error?.message ?? '').match(/ERR_NGROK_\d+/) ?? [])[0];
  const hints = {
    ERR_NGROK_105: 'NGROK_AUTHTOKEN was rejected: copy a valid one from https://dashboard.ngrok.com/get-started/your-authtoken',
    ERR_NGROK_107: 'NGROK_AUTHTOKEN was rejected: copy a valid one from https://dashboard.ngrok.com/get-started/your-authtoken',
    ERR_NGROK_4018: 'NGROK_AUTHTOKEN is missing or not valid for an account: sign up and copy your authtoken',
  };
  return code
    ? { permanent: true, code, hint: hints[code] ?? `ngrok refused the tunnel (${code}); see https://ngrok.com/docs/errors/${code.toLowerCase()}` }
    : { permanent: false };
}

module.exports = {
  ConfigError,
  SESSION_GATEWAY,
  OAUTH_PROVIDERS,
  ngrokSettings,
  bearerDenyExpression,
  identityDenyExpression,
  trafficPolicy,
  forwardOptions,
  classifyError,
};
