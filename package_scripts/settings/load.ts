import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from '@dotenvx/dotenvx';
import { parseOrThrow, UsageError } from '../errors.js';
import { envNameProblem } from './env-names.js';
import { parseNetworks } from './networks.js';
import { parseMounts, type Mount } from './mounts.js';
import { ALIASES, AUTH_SETTINGS, memoryBytes, settingsSchemaFor, type ParsedSettings, type Template } from './schema.js';
import { gatewaySecretNames, settingsUnusedBy, templateNamed } from '../templates/registry.js';
import type { TemplateDescriptor } from '../templates/template.js';
import { resolveSeccompProfile } from './seccomp-file.js';
import { defaultServerArgs, resolveServer, type ServerSource } from './server.js';
import { defaultMaxSessions } from './sessions.js';
import { resolveTlsFiles, type TlsFiles } from './tls-files.js';
import { unknownSettings, unpassedVariables, type UnknownSetting } from './unknown.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What the CLI knows besides the env file: passed in, so tests never touch process.env. */
export interface LoadContext {
  /** The host's environment (only NODE_EXTRA_CA_CERTS, HOME and DOTENV_PRIVATE_KEY are read). */
  hostEnv: Env;
  /** The repository this CLI belongs to. */
  projectDir: string;
  overrides?: { template?: string };
  /** 'build' checks only what a build reads: no token or tunnel secret is required for it. Default 'run'. */
  purpose?: 'build' | 'run';
  allowDangerousMounts?: boolean;
}

export interface Settings extends Omit<ParsedSettings, 'ACCESS_TOKEN' | 'MCP_SERVER' | 'NPM_MCP' | 'MCP_SERVER_ARGS' | 'MCP_MAX_SESSIONS'> {
  /** MCP_MAX_SESSIONS as set, or the default sized to MCP_MEMORY and MCP_PIDS. */
  MCP_MAX_SESSIONS: number;
  envFile: string;
  template: Template;
  /** Gateway secret; never on a command line, never in a build. */
  accessToken: string;
  /** The MCP server to install (MCP_SERVER, or NPM_MCP meaning npm:). */
  server: ServerSource;
  /** The server's arguments: MCP_SERVER_ARGS, or the server's default. */
  MCP_SERVER_ARGS: string;
  /** Absolute path of the CA bundle for builds, if any. */
  extraCaCert?: string;
  mounts: Mount[];
  /** MCP_NETWORKS: engine networks the instance joins beside its own (networks.ts). */
  networks: string[];
  /** Settings given in the env file that the chosen template does not read. */
  unusedSettings: string[];
  /** Names in the env file that look like settings but are none (typos), with the nearest known name. */
  unknownSettings: UnknownSetting[];
  /** Variables in the env file that are neither settings nor listed in MCP_ENV: the server will not see them. */
  unpassedVariables: string[];
  /** The gateway's settings (its descriptor's settings, templates/) that are set, secrets included. */
  gatewayEnv: Record<string, string>;
  /** The variables listed in MCP_ENV with their values from .env. */
  serverEnv: Record<string, string>;
  /** Every secret value, for masking anything shown to the user. */
  secrets: string[];
  /** CERT_FILE/KEY_FILE, checked; absent when the gateway makes its own certificate. */
  tlsFiles?: TlsFiles;
  /** Absolute path of the seccomp profile (MCP_SECCOMP_PROFILE or the shipped one), checked. */
  seccompProfile: string;
}

/**
 * dotenvx runs `$(command)` found in unquoted and double-quoted values while it
 * parses. Settings are data: such a value is refused before dotenvx sees it.
 * Single-quoted values are literal for dotenvx, and comments are ignored.
 */
export function refuseCommandSubstitution(source: string, envFile: string): void {
  source.split(/\r?\n/).forEach((line, index) => {
    if (!line.includes('$(') || /^\s*#/.test(line) || /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*'[^']*'\s*(#.*)?$/.test(line)) return;
    throw new UsageError(
      `${envFile} line ${index + 1}: "$(" would run a command while the file is read; settings are plain values. Remove it, or single-quote the value if you mean the literal text`,
    );
  });
}

/** Read an env file into a plain object with dotenvx, without touching process.env. */
export function readEnvFile(envFile: string, hostEnv: Env): Record<string, string> {
  if (!existsSync(envFile)) {
    throw new UsageError(
      `The env file ${envFile} does not exist. Create it with \`npm run up\` (which generates a token), or copy .env.example to .env, or pass --env-file PATH`,
    );
  }
  const source = readFileSync(envFile, 'utf8');
  refuseCommandSubstitution(source, envFile);
  const processEnv: Record<string, string> = {};
  const privateKey = hostEnv.DOTENV_PRIVATE_KEY;
  return parse<Record<string, string>>(source, { processEnv, ...(privateKey ? { privateKey } : {}) });
}

function applyAliases(raw: Record<string, string>): Record<string, string> {
  const out = { ...raw };
  for (const [alias, name] of Object.entries(ALIASES)) {
    if (out[alias] === undefined) continue;
    if (out[name] !== undefined && out[name] !== '' && out[alias] !== '' && out[name] !== out[alias]) {
      throw new UsageError(`Both ${name} and ${alias} are set, to different values: keep ${name} (${alias} is its older name) and remove ${alias}`);
    }
    if (out[name] === undefined || out[name] === '') out[name] = out[alias];
    delete out[alias];
  }
  return out;
}

/** OAUTH_CIMD_ALLOW, by the auth gateway's own rules (docker/common/auth-gateway/src/cimd-address.cjs). */
function checkCimdAllowance(values: Record<string, string>, projectDir: string): void {
  const rules = createRequire(import.meta.url)(join(projectDir, 'docker', 'common', 'auth-gateway', 'src', 'cimd-address.cjs')) as {
    checkAllowance: (env: Record<string, string>) => void;
  };
  try {
    rules.checkAllowance(values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A template's own settings, by the module that reads them inside the
 * container (its descriptor's validator), loaded here to apply the very same
 * rules before any docker command runs.
 */
function checkTemplateSettings(template: TemplateDescriptor, values: Record<string, string>, projectDir: string): void {
  if (!template.validator) return;
  const { module, exportName } = template.validator;
  const gateway = createRequire(import.meta.url)(join(projectDir, module)) as Record<string, (env: Record<string, string>) => unknown>;
  try {
    gateway[exportName]!(values);
  } catch (error) {
    throw new UsageError(`TEMPLATE=${template.name}: ${(error as Error).message}`);
  }
}

/** Validate raw .env values into Settings. Throws UsageError naming the variable and the fix. */
export function resolveSettings(rawValues: Record<string, string>, envFile: string, ctx: LoadContext): Settings {
  const raw = applyAliases(rawValues);
  if (ctx.overrides?.template) raw.TEMPLATE = ctx.overrides.template;
  // An empty value means "not set": the default applies.
  const present = Object.fromEntries(Object.entries(raw).filter(([key, value]) => value !== '' || key === 'NPM_MCP'));
  const parsed = parseOrThrow(settingsSchemaFor(ctx.purpose ?? 'run'), present);
  const template = templateNamed(parsed.TEMPLATE);
  const baseDir = dirname(envFile);
  const homeDir = ctx.hostEnv.HOME ?? '/root';

  const caSetting = parsed.EXTRA_CA_CERT || ctx.hostEnv.NODE_EXTRA_CA_CERTS || '';
  const extraCaCert = caSetting ? resolve(baseDir, caSetting) : undefined;
  if (extraCaCert && !existsSync(extraCaCert)) {
    const source = parsed.EXTRA_CA_CERT ? 'EXTRA_CA_CERT' : 'NODE_EXTRA_CA_CERTS (from your shell)';
    throw new UsageError(`${source} names ${extraCaCert}, which does not exist; point it at a PEM CA bundle or leave it empty`);
  }

  const names = parsed.MCP_ENV.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const serverEnv: Record<string, string> = {};
  for (const name of names) {
    const problem = envNameProblem(name);
    if (problem === 'secret') {
      throw new UsageError(`MCP_ENV lists ${name}, a gateway secret: the MCP server must never see it. Remove it from MCP_ENV`);
    }
    if (problem === 'reserved') {
      // The container's own settings travel under these names; a server value would replace them.
      throw new UsageError(`MCP_ENV lists ${name}, which is an mcp-sandbox setting, not a variable for the server. Remove it from MCP_ENV`);
    }
    if (problem === 'loader') {
      throw new UsageError(
        `MCP_ENV lists ${name}, which makes a loader, shell or interpreter run code of its choosing (LD_*, NODE_OPTIONS, BASH_ENV, PYTHON* startup hooks and the like): the sandbox's own processes would run it before the server. Remove it from MCP_ENV; give the server its options in MCP_SERVER_ARGS instead`,
      );
    }
    const value = raw[name];
    if (value === undefined) throw new UsageError(`MCP_ENV lists ${name}, but ${envFile} does not define it; add ${name}=... to the env file`);
    serverEnv[name] = value;
  }

  const server = resolveServer(raw, baseDir, homeDir);
  if (server.ecosystem === 'python' && server.local?.kind === 'directory' && parsed.MCP_INSTALL_SCRIPTS === 'false') {
    throw new UsageError(
      `MCP_SERVER names the Python folder ${server.local.path}, which must be built (its build backend runs its code): with MCP_INSTALL_SCRIPTS=false give a wheel (.whl) instead`,
    );
  }
  const { ACCESS_TOKEN, MCP_SERVER: _server, NPM_MCP: _npm, MCP_SERVER_ARGS: _args, MCP_MAX_SESSIONS, ...rest } = parsed;
  const accessToken = ACCESS_TOKEN ?? '';
  const gatewayEnv: Record<string, string> = {};
  for (const name of template.settings) {
    // The OAuth settings reach the container only when OAuth is on (AUTH=bearer is the image's default).
    if ((AUTH_SETTINGS as readonly string[]).includes(name) && parsed.AUTH !== 'oauth') continue;
    const value = (parsed as Record<string, unknown>)[name];
    if (typeof value === 'string' || typeof value === 'number') gatewayEnv[name] = String(value);
  }
  if (ctx.purpose !== 'build') checkTemplateSettings(template, gatewayEnv, ctx.projectDir);
  const mounts = parseMounts(parsed.MCP_MOUNTS, {
    baseDir,
    projectDir: ctx.projectDir,
    homeDir,
    allowDangerous: ctx.allowDangerousMounts ?? false,
  });
  const data = parsed.MCP_DATA;
  const nested = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
  const overlap = data ? mounts.find((m) => nested(m.containerPath, data) || nested(data, m.containerPath)) : undefined;
  if (overlap) {
    throw new UsageError(`MCP_DATA=${data} and the MCP_MOUNTS folder ${overlap.containerPath} overlap: give the data folder a path of its own such as /data`);
  }
  if (memoryBytes(parsed.MCP_TMP_SIZE) > memoryBytes(parsed.MCP_MEMORY)) {
    throw new UsageError(
      `MCP_TMP_SIZE=${parsed.MCP_TMP_SIZE} is more than MCP_MEMORY=${parsed.MCP_MEMORY}: files in /tmp are held in the container's memory and count against MCP_MEMORY. Lower MCP_TMP_SIZE or raise MCP_MEMORY`,
    );
  }
  const networks = parseNetworks(parsed.MCP_NETWORKS ?? '');
  if (gatewayEnv.OAUTH_CIMD_ALLOW) checkCimdAllowance(gatewayEnv, ctx.projectDir);
  const gatewaySecrets = gatewaySecretNames().map((name) => gatewayEnv[name] ?? '');
  return {
    ...rest,
    MCP_MAX_SESSIONS: MCP_MAX_SESSIONS ?? defaultMaxSessions(parsed.MCP_MEMORY, parsed.MCP_PIDS),
    envFile: isAbsolute(envFile) ? envFile : resolve(envFile),
    template: parsed.TEMPLATE,
    accessToken,
    server,
    MCP_SERVER_ARGS: parsed.MCP_SERVER_ARGS || defaultServerArgs(server),
    extraCaCert,
    mounts,
    networks,
    unusedSettings: settingsUnusedBy(parsed.TEMPLATE, Object.keys(present)),
    unknownSettings: unknownSettings(Object.keys(rawValues), names),
    unpassedVariables: unpassedVariables(Object.keys(rawValues), names),
    gatewayEnv,
    serverEnv,
    tlsFiles: resolveTlsFiles(parsed.CERT_FILE, parsed.KEY_FILE, baseDir),
    seccompProfile: resolveSeccompProfile(parsed.MCP_SECCOMP_PROFILE, baseDir, ctx.projectDir),
    secrets: [...new Set([accessToken, ...gatewaySecrets, ...basicAuthPasswords(template, gatewayEnv), ...Object.values(serverEnv)])].filter(
      (s) => s.length >= 4,
    ),
  };
}

/** A user:password secret is masked whole and by its password alone. */
function basicAuthPasswords(template: TemplateDescriptor, gatewayEnv: Record<string, string>): string[] {
  return (template.basicAuthSecrets ?? []).map((name) => (gatewayEnv[name] ?? '').split(':').slice(1).join(':'));
}

export function loadSettings(envFile: string, ctx: LoadContext): Settings {
  const absolute = resolve(envFile);
  return resolveSettings(readEnvFile(absolute, ctx.hostEnv), absolute, ctx);
}
