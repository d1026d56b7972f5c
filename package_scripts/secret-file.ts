import { chmodSync, writeFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/**
 * Writes a file that holds a secret: mode 0600 from the first byte, so it is
 * never readable by others, not even briefly. An existing file is kept unless
 * `replace` is set (then its mode is reset too, as a replaced file keeps its old one).
 */
export function writeSecretFile(file: string, text: string, options: { replace: boolean; existsMessage: string }): void {
  try {
    writeFileSync(file, text, { mode: 0o600, flag: options.replace ? 'w' : 'wx' });
    if (options.replace) chmodSync(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(options.existsMessage);
    throw new UsageError(`Cannot write ${file}: ${(error as Error).message}`);
  }
}
