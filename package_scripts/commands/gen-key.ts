import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow, UsageError } from '../errors.js';

export const MIN_KEY_BYTES = 16;
export const DEFAULT_KEY_BYTES = 32;

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

export function generateKey(bytes = DEFAULT_KEY_BYTES): string {
  return randomBytes(bytes).toString('hex');
}

export function genKey(ctx: CommandContext, rawOptions: GenKeyOptions): void {
  const { size, file, force } = parseOrThrow(genKeyOptionsSchema, rawOptions);
  const key = generateKey(size);
  if (!file) {
    ctx.out.data(key);
    return;
  }
  try {
    // 0600 from the first byte: the key is never readable by others, not even briefly.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: force ? 'w' : 'wx' });
    // A replaced file keeps its old mode otherwise.
    if (force) chmodSync(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${file} already exists; choose another file or pass --force to replace it`);
    }
    throw new UsageError(`Cannot write ${file}: ${(error as Error).message}`);
  }
  ctx.out.success(`Wrote a ${size}-byte key (${size * 2} hex characters) to ${file} (mode 0600).`);
}
