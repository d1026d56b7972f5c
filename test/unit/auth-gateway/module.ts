/**
 * Loads the auth gateway's plain ES modules (docker/common/auth-gateway/src)
 * as the image runs them, for the unit tests beside this file.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const authSourceDir = join(repoRoot, 'docker', 'common', 'auth-gateway', 'src');

export const authModule = async (file: string) => (await import(pathToFileURL(join(authSourceDir, file)).href)) as Record<string, any>;

/** A clock the test moves by hand (milliseconds). */
export function manualClock(start = 1_800_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}
