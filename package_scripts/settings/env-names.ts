import { ALIASES, ENV_NAME, GATEWAY_SECRET_NAMES, settingsSchema } from './schema.js';

/**
 * Which variables MCP_ENV may pass to the MCP server: the one rule, used by
 * the CLI (load.ts) and, through the generated list
 * docker/common/lib/reserved-env-names, by the container's entrypoint (for
 * plain `docker run` users).
 */

/** Tunnel settings of any template, present or future: never for the server. */
export const GATEWAY_PREFIXES = ['NGROK_', 'PINGGY_'] as const;

/** Variables the container sets or reads itself: a server value would replace them. */
export const CONTAINER_NAMES = ['PATH', 'HOME', 'NPM_MCP_ARGS', 'SANDBOX_HOST_PORT', 'SANDBOX_BIND_ADDRESS', 'AUTH_RESOURCE'] as const;

export type EnvNameProblem = 'syntax' | 'secret' | 'reserved';

export function envNameProblem(name: string): EnvNameProblem | undefined {
  if (!ENV_NAME.test(name)) return 'syntax';
  if ((GATEWAY_SECRET_NAMES as readonly string[]).includes(name) || GATEWAY_PREFIXES.some((p) => name.startsWith(p))) return 'secret';
  if (reservedEnvNames().includes(name)) return 'reserved';
  return undefined;
}

/** Every name MCP_ENV may not list (besides the prefixes), sorted: the content of docker/common/lib/reserved-env-names. */
export function reservedEnvNames(): string[] {
  return [...new Set([...GATEWAY_SECRET_NAMES, ...Object.keys(settingsSchema.shape), ...Object.keys(ALIASES), ...CONTAINER_NAMES])].sort();
}

export function renderReservedEnvNames(): string {
  return [
    '# Generated from package_scripts/settings/env-names.ts by scripts/write-container-rules.mjs; do not edit.',
    `# Names MCP_ENV may not list (as are names starting with ${GATEWAY_PREFIXES.join(' or ')}).`,
    ...reservedEnvNames(),
    '',
  ].join('\n');
}
