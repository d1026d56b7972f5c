import { isIP } from 'node:net';
import { z } from 'zod';
import { dockerContextIssue, dockerHostIssue } from './engine-address.js';
import { parseEgressSetting, type EgressSetting } from './egress.js';
import { supergatewayArgsIssue } from './supergateway.js';
import { dataPathIssue } from './data.js';
import { networksIssue } from './networks.js';
import { parseToolList } from './tools.js';
import { AUDIT_ARGUMENT_MODES, AUDIT_DEFAULT_SIZE, AUDIT_MIN_SIZE, auditSizeBytes } from './audit.js';
import { packageListIssue } from './debian-packages.js';
import { DEFAULT_TEMPLATE, findTemplate, templateNames, templateSettingNames } from '../templates/registry.js';
import { AUTH_SETTINGS } from '../templates/template.js';

/**
 * The .env settings, validated. Every message names the variable and the fix,
 * because it is shown to the user as is.
 */

/** A template's name; its descriptor (templates/registry.ts) says what it reads and how it is reached. */
export type Template = string;

export { AUTH_SETTINGS };
/** AUTH's values and LOG_LEVEL's: the container's copies are generated from these (settings/container-rules.ts). */
export const AUTH_MODES = ['bearer', 'oauth'] as const;
export const LOG_LEVELS = ['info', 'debug', 'none'] as const;

export const DEFAULT_NPM_MCP = '@modelcontextprotocol/server-filesystem@2026.8.31';
export const DEFAULT_MCP_SERVER = `npm:${DEFAULT_NPM_MCP}`;
export const PLACEHOLDER_SECRET = 'secret_key__please_change';
export const MIN_TOKEN_HEX = 32;
export const MAX_TOKEN_HEX = 256;

/** Older names, still accepted (the guide's, and the npm-only ones); setting both is an error. */
export const ALIASES: Readonly<Record<string, string>> = {
  NGINX_ACCESS_TOKEN: 'ACCESS_TOKEN',
  NPM_MCP_ARGS: 'MCP_SERVER_ARGS',
  NPM_MCP_BIN: 'MCP_SERVER_BIN',
};

const GEN_KEY_HINT = 'generate one with `npm run gen_key` and paste it into .env';

const indexUrl = (name: string) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[^\s@]*)?$/.test(v), {
      message: `${name} must be an index URL such as https://pypi.example.com/simple, without user:password@ (credentials would be kept in the build cache; use an index on a trusted network or a wheel)`,
    });

/** A variable name, as MCP_ENV lists them (env-names.ts holds the rest of MCP_ENV's rule). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };
/** 300, 300s, 5m, 1h as seconds. */
export function durationSeconds(value: string): number {
  const unit = value.slice(-1);
  return unit in SECONDS ? Number(value.slice(0, -1)) * SECONDS[unit]! : Number(value);
}

const UNITS: Record<string, number> = { b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };
/** Docker's size notation (512m, 1g; bytes without a unit). */
export function memoryBytes(size: string): number {
  const unit = size.slice(-1).toLowerCase();
  return unit in UNITS ? Number(size.slice(0, -1)) * UNITS[unit]! : Number(size);
}

const oneLine = (name: string) => z.string().refine((value) => !/[\r\n]/.test(value), `${name} must be on one line (remove the line break)`);

const hexToken = (name: string, required: boolean) =>
  z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined || value === '') {
        if (required) ctx.addIssue({ code: 'custom', message: `${name} is missing: ${GEN_KEY_HINT}` });
        return;
      }
      if (value === PLACEHOLDER_SECRET || value.includes('please_change')) {
        ctx.addIssue({ code: 'custom', message: `${name} still holds the example placeholder: ${GEN_KEY_HINT}` });
      } else if (!/^[0-9a-fA-F]+$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be hexadecimal (0-9, a-f): ${GEN_KEY_HINT}` });
      } else if (value.length < MIN_TOKEN_HEX) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} is ${value.length} hex characters, fewer than ${MIN_TOKEN_HEX} (16 bytes): ${GEN_KEY_HINT}`,
        });
      } else if (value.length > MAX_TOKEN_HEX) {
        ctx.addIssue({ code: 'custom', message: `${name} is longer than ${MAX_TOKEN_HEX} hex characters: ${GEN_KEY_HINT}` });
      }
    });

/** An optional setting whose rule lives elsewhere: `issueOf` returns the message for a bad value. */
const checkedBy = (issueOf: (value: string) => string | undefined) =>
  z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      const issue = v === undefined ? undefined : issueOf(v);
      if (issue) ctx.addIssue({ code: 'custom', message: issue });
    });

const port = (name: string, fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535, `${name} must be a port number from 1 to 65535`)
    .transform(Number);

/** Every setting, each checked alone: all a build needs (no runtime secret is required for it). Templates' own settings are added by settingsSchemaFor. */
export const buildSettingsSchema = z.object({
  TEMPLATE: z
    .string()
    .default(DEFAULT_TEMPLATE)
    .refine((v) => findTemplate(v) !== undefined, {
      error: () => `TEMPLATE must be one of ${templateNames().join(', ')}`,
    }),
  // The server: checked and resolved in server.ts (with the image's own rules).
  MCP_SERVER: z.string().optional(),
  NPM_MCP: z.string().optional(),
  // Empty or unset: the server's default (server.ts, defaultServerArgs).
  MCP_SERVER_ARGS: oneLine('MCP_SERVER_ARGS').optional(),
  MCP_SERVER_BIN: z
    .string()
    .default('')
    .refine((v) => v === '' || /^[A-Za-z0-9._-]+$/.test(v), 'MCP_SERVER_BIN must be the name of one executable of the package'),
  PIP_INDEX_URL: indexUrl('PIP_INDEX_URL'),
  PIP_EXTRA_INDEX_URL: indexUrl('PIP_EXTRA_INDEX_URL'),
  MCP_INSTALL_SCRIPTS: z
    .enum(['true', 'false'], {
      message: "MCP_INSTALL_SCRIPTS must be true (the package's install scripts run, confined to the build's install stage) or false (they are skipped)",
    })
    .default('true'),
  // The guide's Supergateway flags: --stateful is what the sandbox does anyway; any other is refused with its replacement.
  SUPERGATEWAY_EXTRA_ARGS: checkedBy(supergatewayArgsIssue),
  NODE_VERSION: z
    .string()
    .default('22')
    .refine((v) => /^\d+(\.\d+){0,2}$/.test(v), 'NODE_VERSION must be a Node.js version such as 22 or 22.19.0'),
  BASE_IMAGE: z
    .string()
    .default('')
    .refine((v) => v === '' || /^[a-z0-9][a-z0-9._/:@-]*$/.test(v), 'BASE_IMAGE must be an image reference such as node:22-bookworm-slim'),
  ACCESS_TOKEN: z.string().optional(),
  HOST_PORT: port('HOST_PORT', 443),
  BIND_ADDRESS: z
    .string()
    .default('127.0.0.1')
    .refine((v) => isIP(v) !== 0, 'BIND_ADDRESS must be an IP address (127.0.0.1 keeps the server on this machine; 0.0.0.0 opens it to the network)'),
  NAME: z
    .string()
    .default('mcp-sandbox')
    .refine((v) => /^[a-z0-9][a-z0-9_.-]{0,62}$/.test(v), 'NAME must be lowercase letters, digits, ".", "_" or "-" (it names the container and the image)'),
  EXTRA_CA_CERT: z.string().default(''),
  // The tool policy (settings/tools.ts): which tools clients see and may call; the deny list wins.
  MCP_TOOLS: toolList('MCP_TOOLS'),
  MCP_TOOLS_DENY: toolList('MCP_TOOLS_DENY'),
  // The audit trail (settings/audit.ts), written by the session gateway to the volume NAME-warden.
  MCP_AUDIT: z.enum(['true', 'false'], { message: 'MCP_AUDIT must be true (record tool calls in the audit trail, the default) or false' }).default('true'),
  MCP_AUDIT_ARGUMENTS: z
    .enum(AUDIT_ARGUMENT_MODES, {
      message: "MCP_AUDIT_ARGUMENTS must be names (each call's argument names and a SHA-256 of the arguments, the default) or values (their values too)",
    })
    .default('names'),
  MCP_AUDIT_MAX_SIZE: z
    .string()
    .default(AUDIT_DEFAULT_SIZE)
    .refine(
      (v) => (auditSizeBytes(v) ?? 0) >= AUDIT_MIN_SIZE,
      `MCP_AUDIT_MAX_SIZE must be a size of at least ${AUDIT_MIN_SIZE / 1024}k, such as 10m or 500k (one audit file's cap before it rotates)`,
    )
    .transform((v) => auditSizeBytes(v)!),
  MCP_AUDIT_KEEP: z
    .string()
    .default('5')
    .refine(
      (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000,
      'MCP_AUDIT_KEEP must be a whole number of rotated audit files to keep, from 1 to 1000',
    )
    .transform(Number),
  MCP_AUDIT_STDOUT: z
    .enum(['true', 'false'], { message: 'MCP_AUDIT_STDOUT must be true (also write each audit line to the container log) or false (the default)' })
    .default('false'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: 'LOG_LEVEL must be info (default: no message bodies), debug (everything) or none' }).default('info'),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .refine(
      (v) => v.split(',').every((o) => o.trim() === '' || /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?$/.test(o.trim())),
      'ALLOWED_ORIGINS must be a comma-separated list of origins such as https://app.example.com',
    ),
  TLS_HOSTNAMES: z
    .string()
    .default('')
    .refine(
      (v) => v.split(',').every((h) => h.trim() === '' || /^(DNS:[A-Za-z0-9.-]+|IP:[0-9A-Fa-f.:]+)$/.test(h.trim())),
      'TLS_HOSTNAMES must be a comma-separated list of DNS:name or IP:address entries',
    ),
  MCP_MEMORY: z
    .string()
    .default('1g')
    .refine((v) => /^\d+(\.\d+)?[bkmg]?$/i.test(v), 'MCP_MEMORY must be a size such as 512m or 1g')
    // 0 would mean "no limit" to Docker, and Docker refuses less than 6 MiB.
    .refine((v) => !/^\d+(\.\d+)?[bkmg]?$/i.test(v) || memoryBytes(v) >= 64 * 2 ** 20, 'MCP_MEMORY must be at least 64m'),
  // /tmp is a tmpfs held in the container's memory: a browser keeps its shared memory there
  // (Playwright and Puppeteer start Chromium with --disable-dev-shm-usage) and its profile.
  MCP_TMP_SIZE: z
    .string()
    .default('64m')
    .refine((v) => /^\d+[kmg]$/i.test(v) && memoryBytes(v) >= 16 * 2 ** 20, 'MCP_TMP_SIZE must be a size of at least 16m such as 64m or 512m')
    .transform((v) => v.toLowerCase()),
  MCP_CPUS: z
    .string()
    .default('1')
    .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) > 0, 'MCP_CPUS must be a number of CPUs above 0, such as 1 or 0.5'),
  MCP_PIDS: z
    .string()
    .default('256')
    .refine((v) => /^\d+$/.test(v) && Number(v) >= 32, 'MCP_PIDS must be a whole number of at least 32')
    .transform(Number),
  MCP_SESSION_IDLE: z
    .string()
    .default('300')
    .refine(
      (v) => /^\d+[smh]?$/.test(v) && durationSeconds(v) >= 10 && durationSeconds(v) <= 86_400,
      'MCP_SESSION_IDLE must be a duration from 10s to 24h, such as 300, 300s, 5m or 1h (seconds without a unit)',
    )
    .transform(durationSeconds),
  MCP_MAX_SESSIONS: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1024),
      'MCP_MAX_SESSIONS must be a whole number from 1 to 1024 (leave it empty for a default sized to MCP_MEMORY and MCP_PIDS)',
    )
    .transform((v) => (v === undefined ? undefined : Number(v))),
  // Parsed into data once (egress.ts, the enforcer's grammar); names are checked in the container.
  MCP_EGRESS: z
    .string()
    .default('none')
    .transform((value, ctx): EgressSetting => {
      const parsed = parseEgressSetting(value);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed;
    }),
  MCP_ENV: z
    .string()
    .default('')
    .refine((v) => v.trim() === '' || v.split(',').every((name) => ENV_NAME.test(name.trim())), 'MCP_ENV must be a comma-separated list of variable names'),
  MCP_MOUNTS: z.string().default(''),
  // The server's persistent folder (a named volume), checked in data.ts; empty: none.
  MCP_DATA: checkedBy(dataPathIssue),
  // Existing engine networks to join beside the instance's own, checked in networks.ts; empty: none.
  MCP_NETWORKS: checkedBy(networksIssue),
  // Debian packages the owner names (debian-packages.ts): in the image, or in the install stage only (a compiler for node-gyp).
  MCP_SYSTEM_PACKAGES: checkedBy((v) => packageListIssue('MCP_SYSTEM_PACKAGES', v)),
  MCP_BUILD_PACKAGES: checkedBy((v) => packageListIssue('MCP_BUILD_PACKAGES', v)),
  // A path, checked in seccomp-file.ts; empty means the shipped profiles/seccomp.json.
  MCP_SECCOMP_PROFILE: z.string().default(''),
  AUTH: z
    .enum(AUTH_MODES, {
      message: 'AUTH must be bearer (clients send ACCESS_TOKEN as a bearer token) or oauth (web connectors get the OAuth 2.1 flow; the token keeps working)',
    })
    .default('bearer'),
  // Proves ownership on the OAuth consent page, besides ACCESS_TOKEN; a secret like it.
  OAUTH_OWNER_PASSPHRASE: oneLine('OAUTH_OWNER_PASSPHRASE')
    .refine((v) => v.length >= 12, 'OAUTH_OWNER_PASSPHRASE must be at least 12 characters (or leave it empty: the consent page then takes ACCESS_TOKEN)')
    .optional(),
  OAUTH_ACCESS_TTL: z
    .string()
    .default('900')
    .refine(
      (v) => /^\d+[smh]?$/.test(v) && durationSeconds(v) >= 5 && durationSeconds(v) <= 86_400,
      'OAUTH_ACCESS_TTL must be a duration from 5s to 24h, such as 900, 15m or 1h (how long an OAuth access token lasts; clients refresh it)',
    )
    .transform(durationSeconds),
  // Hosts and networks beyond the public internet whose client metadata documents the auth
  // gateway may fetch; checked by the auth gateway's own module (load.ts, checkCimdAllowance).
  OAUTH_CIMD_ALLOW: oneLine('OAUTH_CIMD_ALLOW').optional(),
  // The engine every command talks to (docker/target.ts; the values' rules: engine-address.ts): another machine over SSH, or a Docker context.
  // Given to the docker client process's environment only; a wrong one is exit 2 before any docker command.
  DOCKER_HOST: checkedBy(dockerHostIssue),
  DOCKER_CONTEXT: checkedBy(dockerContextIssue),
  // Bring your own certificate (e.g. from mkcert); checked in tls-files.ts.
  CERT_FILE: z.string().default(''),
  KEY_FILE: z.string().default(''),
});

/** What `start` (and every command that serves) needs: the build settings plus the gateway's own secrets. */
/** The bearer-token rule; the gateways keep the same one (test/unit/one-source.test.ts). */
export const accessTokenSchema = hexToken('ACCESS_TOKEN', true);

/** What `start` needs beside each setting alone: the token where the container checks it, and an AUTH the template serves. */
function checkTogether(s: z.output<typeof buildSettingsSchema>, ctx: z.RefinementCtx): void {
  const template = findTemplate(s.TEMPLATE);
  if (!template) return;
  if (!template.authModes.includes(s.AUTH)) {
    ctx.addIssue({ code: 'custom', message: `AUTH=${s.AUTH} is not served by TEMPLATE=${s.TEMPLATE}: use AUTH=${template.authModes.join(' or AUTH=')}` });
  }
  // With OAuth the container checks the token itself (tunnels too), and the consent page takes it.
  if (template.containerChecksToken || s.AUTH === 'oauth') {
    const check = accessTokenSchema.safeParse(s.ACCESS_TOKEN);
    if (!check.success) for (const issue of check.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
  }
  // What AUTH=oauth refuses beside each tunnel's own settings is the tunnel module's rule (load.ts runs it).
}

export const settingsSchema = buildSettingsSchema.superRefine(checkTogether);

/**
 * The schema with every registered template's own settings (their values are
 * checked by the template's module, load.ts; here only that each is one line),
 * made at call time so that a template registered later is read too.
 */
export function settingsSchemaFor(purpose: 'build' | 'run'): typeof buildSettingsSchema {
  const own = templateSettingNames().filter((name) => !(name in buildSettingsSchema.shape));
  // Typed as the shared schema: the templates' values are read by name (load.ts), never as fields.
  const schema = z.object({
    ...buildSettingsSchema.shape,
    ...Object.fromEntries(own.map((name) => [name, oneLine(name).optional()])),
  }) as unknown as typeof buildSettingsSchema;
  return purpose === 'build' ? schema : schema.superRefine(checkTogether);
}

export type RawSettings = z.input<typeof settingsSchema>;
export type ParsedSettings = z.output<typeof settingsSchema>;

/** MCP_TOOLS or MCP_TOOLS_DENY: a list of tool names and patterns (settings/tools.ts), empty when unset. */
function toolList(setting: string) {
  return z
    .string()
    .default('')
    .transform((value, ctx) => {
      const parsed = parseToolList(setting, value);
      if ('issue' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.issue });
        return z.NEVER;
      }
      return parsed.entries;
    });
}
