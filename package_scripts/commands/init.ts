import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow, UsageError } from '../errors.js';
import { PLACEHOLDER_SECRET, settingsSchema } from '../settings/schema.js';
import { serverValueProblem } from '../settings/server.js';
import { generateKey } from './gen-key.js';
import { envFilePath } from './shared.js';

export const initOptionsSchema = z.object({
  yes: z.boolean().default(false),
  force: z.boolean().default(false),
});
export type InitOptions = z.input<typeof initOptionsSchema> & { envFile?: string };

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

const alreadyExists = (envFile: string) =>
  `${envFile} already exists and was left as it is; pass --force to replace it (its token is lost), or --env-file PATH for another instance`;

/** Asks one question with a default; resolves to the answer (the default when empty). */
export type Ask = (question: string, defaultValue: string) => Promise<string>;

/**
 * Writes ENV_FILE from .env.example with new tokens (mode 0600). Shared by
 * `init` and `up`. Refuses to replace an existing file unless force is set.
 */
export function writeEnvFile(ctx: CommandContext, envFile: string, options: { force: boolean; answers?: Partial<Record<string, string>> }): void {
  const example = readFileSync(join(ctx.projectDir, '.env.example'), 'utf8');
  const text = applyAnswers(envFromExample(example), options.answers ?? {});
  try {
    writeFileSync(envFile, text, { mode: 0o600, flag: options.force ? 'w' : 'wx' });
    // A replaced file keeps its old mode otherwise.
    if (options.force) chmodSync(envFile, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(alreadyExists(envFile));
    }
    throw new UsageError(`Cannot write ${envFile}: ${(error as Error).message}`);
  }
}

/** `npm run init`: a working .env in one step; asks on a terminal, takes the defaults with --yes. */
export async function init(ctx: CommandContext, rawOptions: InitOptions, ask?: Ask): Promise<string> {
  const options = parseOrThrow(initOptionsSchema, rawOptions);
  const envFile = envFilePath(ctx, rawOptions.envFile);
  if (existsSync(envFile) && !options.force) {
    throw new UsageError(alreadyExists(envFile));
  }
  const answers: Partial<Record<QuestionKey, string>> = {};
  if (!options.yes && ask) {
    const example = readFileSync(join(ctx.projectDir, '.env.example'), 'utf8');
    for (const { key, question } of QUESTIONS) {
      for (;;) {
        const answer = (await ask(`${question} [${key}]`, envValue(example, key))).trim();
        const problem = checkAnswer(key, answer);
        if (!problem) {
          answers[key] = answer;
          break;
        }
        ctx.out.warn(problem);
      }
    }
  } else if (!options.yes) {
    ctx.out.info('Not a terminal: taking the defaults of .env.example (pass --yes to say so).');
  }
  writeEnvFile(ctx, envFile, { force: options.force, answers });
  ctx.out.success(`Created ${envFile} with a new ACCESS_TOKEN (mode 0600).`);
  ctx.out.info('Next: npm run build && npm run start -- -d   (or npm run up for both)');
  return envFile;
}
