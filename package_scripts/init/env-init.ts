import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import { PLACEHOLDER_SECRET, settingsSchema } from '../settings/schema.js';
import { serverValueProblem } from '../settings/server.js';
import { generateKey } from './keys.js';
import { writeSecretFile } from '../secret-file.js';

/** .env from .env.example with a fresh token in place of each placeholder. */
export function envFromExample(example: string, newKey: () => string = generateKey): string {
  return example
    .split('\n')
    .map((line) => (line.includes(PLACEHOLDER_SECRET) ? line.replace(PLACEHOLDER_SECRET, newKey()) : line))
    .join('\n');
}

/** The settings `init` asks about on a terminal, in this order; the rest keep .env.example's values. */
export const QUESTIONS = [
  { key: 'NAME', question: 'Instance name (container, image and volume names)' },
  { key: 'HOST_PORT', question: 'Host port of the HTTPS endpoint' },
  { key: 'MCP_SERVER', question: 'MCP server (npm:package, pypi:package, ./folder, .tgz or .whl)' },
  { key: 'MCP_SERVER_ARGS', question: 'Arguments for the server' },
  { key: 'MCP_MOUNTS', question: 'Folders for the server (host:container[:rw], comma-separated; empty for none)' },
] as const;
export type QuestionKey = (typeof QUESTIONS)[number]['key'];

/** The value of KEY=... in an env text, or '' when absent. */
export function envValue(text: string, key: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${key}=`));
  return line === undefined ? '' : line.slice(key.length + 1);
}

/** Replace the value of each answered KEY=... line, keeping comments and order; unknown keys are appended. */
export function applyAnswers(text: string, answers: Partial<Record<string, string>>): string {
  const pending = new Map(Object.entries(answers).filter((e): e is [string, string] => e[1] !== undefined));
  const lines = text.split('\n').map((line) => {
    const key = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1];
    if (!key || !pending.has(key)) return line;
    const value = pending.get(key)!;
    pending.delete(key);
    return `${key}=${value}`;
  });
  const rest = [...pending].map(([k, v]) => `${k}=${v}`);
  if (rest.length === 0) return lines.join('\n');
  const body = lines.join('\n').replace(/\n*$/, '\n');
  return `${body}${rest.join('\n')}\n`;
}

/** One answer checked with the same rule .env is checked with; the message names the setting. */
export function checkAnswer(key: QuestionKey, value: string): string | undefined {
  if (/[\r\n]/.test(value)) return `${key} must be on one line`;
  if (key === 'MCP_SERVER') return serverValueProblem(value);
  if (value === '') return key === 'MCP_MOUNTS' || key === 'MCP_SERVER_ARGS' ? undefined : `${key} cannot be empty`;
  const field = settingsSchema.shape[key];
  const result = field.safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
}

export const alreadyExistsMessage = (envFile: string) =>
  `${envFile} already exists and was left as it is; pass --force to replace it (its token is lost), or --env-file PATH for another instance`;

/** Asks one question with a default; resolves to the answer (the default when empty). */
export type Ask = (question: string, defaultValue: string) => Promise<string>;

/**
 * Writes ENV_FILE from .env.example with new tokens (mode 0600). Used by
 * `init` and `up`. Refuses to replace an existing file unless force is set.
 */
export function writeEnvFile(ctx: CommandContext, envFile: string, options: { force: boolean; answers?: Partial<Record<string, string>> }): void {
  const example = readFileSync(join(ctx.projectDir, '.env.example'), 'utf8');
  const text = applyAnswers(envFromExample(example), options.answers ?? {});
  writeSecretFile(envFile, text, { replace: options.force, existsMessage: alreadyExistsMessage(envFile) });
}
