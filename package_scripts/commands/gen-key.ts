import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow } from '../errors.js';
import { DEFAULT_KEY_BYTES, generateKey, MIN_KEY_BYTES } from '../init/keys.js';
import { writeSecretFile } from '../secret-file.js';

export const genKeyOptionsSchema = z.object({
  size: z.coerce
    .number({ message: '--size must be a number of bytes' })
    .int('--size must be a whole number of bytes')
    .min(MIN_KEY_BYTES, `--size must be at least ${MIN_KEY_BYTES} bytes (${MIN_KEY_BYTES * 2} hex characters); shorter keys can be guessed`)
    .max(128, '--size must be at most 128 bytes (tokens are at most 256 hex characters)')
    .default(DEFAULT_KEY_BYTES),
  file: z.string().optional(),
  force: z.boolean().default(false),
});
export type GenKeyOptions = z.input<typeof genKeyOptionsSchema>;

export function genKey(ctx: CommandContext, rawOptions: GenKeyOptions): void {
  const { size, file, force } = parseOrThrow(genKeyOptionsSchema, rawOptions);
  const key = generateKey(size);
  if (!file) {
    ctx.out.data(key);
    return;
  }
  writeSecretFile(file, `${key}\n`, { replace: force, existsMessage: `${file} already exists; choose another file or pass --force to replace it` });
  ctx.out.success(`Wrote a ${size}-byte key (${size * 2} hex characters) to ${file} (mode 0600).`);
}
