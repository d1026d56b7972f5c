import { randomBytes } from 'node:crypto';

export const MIN_KEY_BYTES = 16;
export const DEFAULT_KEY_BYTES = 32;

/** A random key as hex (node:crypto), the form ACCESS_TOKEN takes. */
export function generateKey(bytes = DEFAULT_KEY_BYTES): string {
  return randomBytes(bytes).toString('hex');
}
