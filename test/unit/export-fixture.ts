import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { instanceNames } from '../../package_scripts/docker/names.js';
import type { ExportInstance } from '../../package_scripts/export/export-files.js';
import { secretNamesOf } from '../../package_scripts/export/export.js';
import { sandboxProfile } from '../../package_scripts/sandbox/profile.js';
import { resolveSettings, type Settings } from '../../package_scripts/settings/load.js';
import { repoRoot } from './project-fixture.js';

export const TOKEN = 'ab12'.repeat(16);
export const NGROK_TOKEN = '2abcdefghijklmnopqrstuvwxyz_0123456789ABCDEFG';
export const exportRoot = mkdtempSync(join(tmpdir(), 'mcp-export-test-'));
export const envDir = join(exportRoot, 'instance');
mkdirSync(join(envDir, 'data'), { recursive: true });
after(() => rmSync(exportRoot, { recursive: true, force: true }));

/** Settings of an env file in envDir, checked by the real rules (the real project holds the gateway modules). */
export function settingsOf(raw: Record<string, string> = {}): Settings {
  return resolveSettings({ ACCESS_TOKEN: TOKEN, ...raw }, join(envDir, '.env'), { hostEnv: { HOME: join(exportRoot, 'home') }, projectDir: repoRoot });
}

/** One instance as `export` prepares it (names stay names: the container checks them). */
export function instanceOf(settings: Settings): ExportInstance {
  const names = instanceNames(settings.NAME);
  return {
    settings,
    profile: sandboxProfile(settings, names, { detached: true, egress: settings.MCP_EGRESS }),
    localImage: names.image,
    secretNames: secretNamesOf(settings),
  };
}
