/** The resource an nginx instance with AUTH=oauth announces: decided on the host, from settings only. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { oauthResourceUrl } from '../../package_scripts/instance/oauth.js';
import { resolveSettings } from '../../package_scripts/settings/load.js';
import { repoRoot } from './project-fixture.js';

const settings = (raw: Record<string, string>) =>
  resolveSettings({ ACCESS_TOKEN: 'ab'.repeat(16), AUTH: 'oauth', ...raw }, join(repoRoot, 'x', '.env'), {
    hostEnv: { HOME: '/nonexistent' },
    projectDir: repoRoot,
  });

describe('oauthResourceUrl', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['the URL start prints by default', {}, 'https://127.0.0.1:443/mcp'],
    ['another port', { HOST_PORT: '8443' }, 'https://127.0.0.1:8443/mcp'],
    ['a specific bind address', { BIND_ADDRESS: '192.0.2.10', HOST_PORT: '8443' }, 'https://192.0.2.10:8443/mcp'],
    [
      'the first DNS name of TLS_HOSTNAMES, lower case',
      { TLS_HOSTNAMES: 'IP:192.0.2.1,DNS:MCP.Example.com,DNS:other.example', HOST_PORT: '8443' },
      'https://mcp.example.com:8443/mcp',
    ],
    ['port 443 is not written with a DNS name', { TLS_HOSTNAMES: 'DNS:mcp.example.com' }, 'https://mcp.example.com/mcp'],
  ];
  for (const [name, raw, expected] of cases) {
    it(name, () => assert.equal(oauthResourceUrl(settings(raw)), expected));
  }
});
