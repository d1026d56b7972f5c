import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow, UsageError } from '../errors.js';
import { alreadyExistsMessage, checkAnswer, envValue, QUESTIONS, writeEnvFile, type Ask, type QuestionKey } from '../init/env-init.js';
import { envFilePath } from '../instance/env-file.js';

export const initOptionsSchema = z.object({
  yes: z.boolean().default(false),
  force: z.boolean().default(false),
});
export type InitOptions = z.input<typeof initOptionsSchema> & { envFile?: string };

/** `npm run init`: a working .env in one step; asks on a terminal, takes the defaults with --yes. */
export async function init(ctx: CommandContext, rawOptions: InitOptions, ask?: Ask): Promise<string> {
  const options = parseOrThrow(initOptionsSchema, rawOptions);
  const envFile = envFilePath(ctx, rawOptions.envFile);
  if (existsSync(envFile) && !options.force) {
    throw new UsageError(alreadyExistsMessage(envFile));
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
