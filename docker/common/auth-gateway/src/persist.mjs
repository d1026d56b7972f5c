// @ts-check
// Atomic JSON files in the state folder: written to a temporary file (0600),
// flushed, then renamed over the old one, so a crash leaves either the old or
// the new content, never half of one.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The folder exists with mode 0700 (only its owner, "gateway", may enter it). */
export function ensurePrivateDir(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

export function writeJsonAtomic(dir, name, value) {
  const file = join(dir, name);
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(value)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/**
 * The parsed file; undefined when it does not exist; a corrupt file is moved aside (and reported through onCorrupt).
 * @param {string} dir @param {string} name @param {(aside: string) => void} [onCorrupt]
 */
export function readJson(dir, name, onCorrupt = () => {}) {
  const file = join(dir, name);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    const aside = `${file}.corrupt-${Date.now()}`;
    renameSync(file, aside);
    onCorrupt(aside);
    return undefined;
  }
}
