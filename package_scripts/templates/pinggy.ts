import { AUTH_SETTINGS, type TemplateDescriptor } from './template.js';

/** Pinggy: an OpenSSH reverse tunnel, the token checked at Pinggy's edge (docker/pinggy/). */
export const pinggy: TemplateDescriptor = {
  name: 'pinggy',
  summary: 'a Pinggy tunnel',
  reach: 'public-url',
  settings: [
    'ACCESS_TOKEN',
    ...AUTH_SETTINGS,
    'PINGGY_ACCESS_TOKEN',
    'PINGGY_BEARER_TOKEN',
    'PINGGY_BASIC_AUTH',
    'PINGGY_ALLOW_CIDRS',
    'PINGGY_SERVER',
    'PINGGY_PORT',
    'PINGGY_HOST_KEY',
    'TUNNEL_RETRIES',
  ],
  secrets: ['PINGGY_ACCESS_TOKEN', 'PINGGY_BEARER_TOKEN', 'PINGGY_BASIC_AUTH'],
  basicAuthSecrets: ['PINGGY_BASIC_AUTH'],
  settingPrefix: 'PINGGY_',
  authModes: ['bearer', 'oauth'],
  containerChecksToken: false,
  validator: { module: 'docker/pinggy/gateway/ssh-config.cjs', exportName: 'pinggySettings' },
  // Without PINGGY_HOST_KEY, the key first seen is kept in the tunnel volume, so a restart does not trust a new one.
  keepsTunnelState: true,
  credential: (values) =>
    values.PINGGY_BEARER_TOKEN ? { setting: 'PINGGY_BEARER_TOKEN', scheme: 'Bearer', authorization: `Bearer ${values.PINGGY_BEARER_TOKEN}` } : undefined,
  startWarnings: (values, instance) =>
    values.PINGGY_HOST_KEY
      ? []
      : [
          `PINGGY_HOST_KEY is not set: the server's SSH key is trusted on first use and kept in the volume ${instance.tunnelVolume} (a different key is refused after that); the log shows the line to pin it`,
        ],
};
