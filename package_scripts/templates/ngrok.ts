import { AUTH_SETTINGS, type TemplateDescriptor } from './template.js';

/** ngrok: the ngrok agent (@ngrok/ngrok SDK) with a traffic policy checking the token at ngrok's edge (docker/ngrok/). */
export const ngrok: TemplateDescriptor = {
  name: 'ngrok',
  summary: 'an ngrok tunnel',
  reach: 'public-url',
  settings: [
    'ACCESS_TOKEN',
    ...AUTH_SETTINGS,
    'NGROK_AUTHTOKEN',
    'NGROK_URL',
    'NGROK_BASIC_AUTH',
    'NGROK_OAUTH_PROVIDER',
    'NGROK_OAUTH_ALLOW_EMAILS',
    'NGROK_OAUTH_ALLOW_DOMAINS',
    'NGROK_ALLOW_CIDRS',
    'NGROK_SERVER_ADDR',
    'TUNNEL_RETRIES',
  ],
  secrets: ['NGROK_AUTHTOKEN', 'NGROK_BASIC_AUTH'],
  basicAuthSecrets: ['NGROK_BASIC_AUTH'],
  settingPrefix: 'NGROK_',
  authModes: ['bearer', 'oauth'],
  containerChecksToken: false,
  validator: { module: 'docker/ngrok/gateway/forward-options.cjs', exportName: 'ngrokSettings' },
  // Basic auth replaces the bearer check at the edge (both use the Authorization header).
  credential: (values) =>
    values.NGROK_BASIC_AUTH
      ? { setting: 'NGROK_BASIC_AUTH', scheme: 'Basic', authorization: `Basic ${Buffer.from(values.NGROK_BASIC_AUTH).toString('base64')}` }
      : undefined,
  startWarnings: (values) =>
    values.NGROK_BASIC_AUTH ? ['NGROK_BASIC_AUTH replaces the bearer token check (both use the Authorization header): clients send user:password'] : [],
};
