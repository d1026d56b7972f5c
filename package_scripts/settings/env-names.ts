import { gatewayPrefixes, gatewaySecretNames, templateSettingNames } from '../templates/registry.js';
import { ALIASES, ENV_NAME, settingsSchema } from './schema.js';

/**
 * Which variables MCP_ENV may pass to the MCP server: the one rule, used by
 * the CLI (load.ts) and, through the generated list
 * docker/common/runtime/tables/reserved-env-names, by the container's entrypoint (for
 * plain `docker run` users).
 */

/** Variables the container sets or reads itself: a server value would replace them. */
export const CONTAINER_NAMES = ['PATH', 'HOME', 'NPM_MCP_ARGS', 'SANDBOX_HOST_PORT', 'SANDBOX_BIND_ADDRESS', 'AUTH_RESOURCE'] as const;

/**
 * Variables that make a loader, shell or interpreter run code or load modules
 * of the caller's choosing before the program's own: refused for the server.
 * The values MCP_ENV lists pass through the session gateway, which starts as
 * root (docker/common/runtime/lib/sandbox.sh, run_session_gateway) and execs setpriv,
 * node and each server: NODE_OPTIONS=--require /workspace/rw/x.js or
 * LD_PRELOAD would run a file the server can write in the gateway, as root,
 * before it drops to mcp. A trailing `*` is a prefix.
 */
export const LOADER_NAMES = [
  'LD_*',
  'DYLD_*',
  'GCONV_PATH',
  'GLIBC_TUNABLES',
  'LOCPATH',
  'NLSPATH',
  'MALLOC_*',
  'HOSTALIASES',
  'RES_OPTIONS',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'BASH_ENV',
  'ENV',
  'BASH_FUNC_*',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'PYTHONSTARTUP',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONUSERBASE',
  'PYTHONINSPECT',
  'PYTHONBREAKPOINT',
  'PYTHONEXECUTABLE',
  'PYTHONPLATLIBDIR',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'PERL5DB',
  'RUBYOPT',
  'RUBYLIB',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
] as const;

export type EnvNameProblem = 'syntax' | 'secret' | 'reserved' | 'loader';

/** Whether `name` is one of LOADER_NAMES (a trailing `*` matches any rest). */
export function isLoaderName(name: string): boolean {
  return LOADER_NAMES.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry));
}

export function envNameProblem(name: string): EnvNameProblem | undefined {
  if (!ENV_NAME.test(name)) return 'syntax';
  // Tunnel settings of any template, present or future (its descriptor's prefix), are never for the server.
  if (gatewaySecretNames().includes(name) || gatewayPrefixes().some((p) => name.startsWith(p))) return 'secret';
  if (reservedEnvNames().includes(name)) return 'reserved';
  if (isLoaderName(name)) return 'loader';
  return undefined;
}

/** Every name MCP_ENV may not list (besides the prefixes), sorted: the content of docker/common/runtime/tables/reserved-env-names. */
export function reservedEnvNames(): string[] {
  return [
    ...new Set([...gatewaySecretNames(), ...Object.keys(settingsSchema.shape), ...templateSettingNames(), ...Object.keys(ALIASES), ...CONTAINER_NAMES]),
  ].sort();
}

export function renderReservedEnvNames(): string {
  return [
    '# Generated from package_scripts/settings/env-names.ts by scripts/write-container-rules.mjs; do not edit.',
    `# Names MCP_ENV may not list (as are names starting with ${gatewayPrefixes().join(' or ')}).`,
    ...reservedEnvNames(),
    '',
  ].join('\n');
}

export function renderLoaderEnvNames(): string {
  return [
    '# Generated from package_scripts/settings/env-names.ts (LOADER_NAMES) by scripts/write-container-rules.mjs; do not edit.',
    '# Names MCP_ENV may not list: they make a loader, shell or interpreter run code of their choosing. A trailing * is a prefix.',
    ...LOADER_NAMES,
    '',
  ].join('\n');
}
