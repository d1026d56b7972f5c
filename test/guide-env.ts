import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The guide's .env (its Step 2 block, copied verbatim into
 * test/fixtures/guide-env/guide.env), shared by the unit and end-to-end tests.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GUIDE_ENV = readFileSync(join(repoRoot, 'test', 'fixtures', 'guide-env', 'guide.env'), 'utf8');

/** The guide's file with real tokens: only the placeholders change (a bearer token is hex, so TOKEN must be). */
export function guideEnvWithTokens(token: string): string {
  const filled = GUIDE_ENV.replaceAll('password__please_change', 'a-real-password-1').replaceAll('secret_key__please_change', token);
  if (filled.includes('please_change')) throw new Error('a placeholder of the guide is left');
  return filled;
}
