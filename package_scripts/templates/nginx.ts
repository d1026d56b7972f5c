import { AUTH_SETTINGS, type TemplateDescriptor } from './template.js';

/** nginx: a TLS proxy on a published port, checking the bearer token itself (docker/nginx/). */
export const nginx: TemplateDescriptor = {
  name: 'nginx',
  summary: 'TLS on a published port',
  reach: 'published-port',
  settings: ['ACCESS_TOKEN', 'ALLOWED_ORIGINS', 'TLS_HOSTNAMES', ...AUTH_SETTINGS],
  hostSettings: ['HOST_PORT', 'BIND_ADDRESS', 'CERT_FILE', 'KEY_FILE'],
  secrets: [],
  authModes: ['bearer', 'oauth'],
  containerChecksToken: true,
};
