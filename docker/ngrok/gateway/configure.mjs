// @ts-check
// Set-up step of the ngrok gateway (root, from prepare): validate the
// environment and write the tunnel's settings into the gateway's private folder.
import { writeFileSync } from 'node:fs';
import { ConfigError, ngrokSettings } from './forward-options.cjs';

const dir = process.argv[2];
try {
  const settings = ngrokSettings(process.env);
  writeFileSync(`${dir}/tunnel.json`, JSON.stringify(settings), { mode: 0o600 });
  const auth = settings.basicAuth ? 'basic auth (NGROK_BASIC_AUTH)' : 'bearer token (ACCESS_TOKEN)';
  const extra = [settings.oauthProvider && `OAuth via ${settings.oauthProvider}`, settings.allowCidrs.length && 'IP allowlist'].filter(Boolean);
  console.log(`[sandbox] ngrok: ${auth}${extra.length ? `, ${extra.join(', ')}` : ''}, checked at ngrok's edge`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`[sandbox] error: ${error.message}`);
  process.exit(78);
}
