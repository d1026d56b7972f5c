import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync, statSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import type { SandboxProfile } from '../sandbox/profile.js';
import { writeSecretFile } from '../secret-file.js';
import type { Settings } from '../settings/load.js';

/** One file of an export, by its name inside the output folder. */
export interface ExportFile {
  name: string;
  text: string;
  /** Holds secret values: mode 0600 from the first byte. */
  secret: boolean;
  /** What a preview prints instead of the text (a copied file is named, not shown). */
  preview?: string;
}

/** Refuses an output folder that holds something, unless --force: nothing is written then. */
export function checkOutputDir(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a file, not a folder; choose a folder (it is created)`);
  if (readdirSync(out).length > 0 && !force) {
    throw new UsageError(`--out ${out} exists and is not empty; choose a new folder, or pass --force to replace its content`);
  }
}

/**
 * Writes every file into a new folder beside OUT, then puts that folder in
 * OUT's place: an error while writing leaves OUT as it was, never half-written.
 */
export function writeExport(out: string, files: readonly ExportFile[], force: boolean): void {
  checkOutputDir(out, force);
  let staging: string;
  try {
    staging = mkdtempSync(join(dirname(out), `.${basename(out)}.export-`));
  } catch (error) {
    throw new UsageError(`Cannot write into ${dirname(out)}: ${(error as Error).message}`);
  }
  try {
    for (const file of files) {
      const path = join(staging, file.name);
      mkdirSync(dirname(path), { recursive: true });
      if (file.secret) writeSecretFile(path, file.text, { replace: false, existsMessage: `${file.name} is written twice (a bug)` });
      else writeFileSync(path, file.text, { flag: 'wx', mode: 0o644 });
    }
    // mkdtemp makes the folder 0700; the export is as readable as any project folder (the secret files stay 0600).
    chmodSync(staging, 0o755);
    if (existsSync(out)) {
      const old = `${staging}.old`;
      renameSync(out, old);
      renameSync(staging, out);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, out);
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (error instanceof UsageError) throw error;
    throw new UsageError(`Cannot write the export to ${out}: ${(error as Error).message}`);
  }
}

/** One instance ready to render: its settings and the very profile `start -d` would run. */
export interface ExportInstance {
  settings: Settings;
  profile: SandboxProfile;
  /** The image `npm run build` made (NAME:latest). */
  localImage: string;
  /** Names of the container's variables whose values are secrets. */
  secretNames: string[];
}

/** A rendered export: its files, and the same files for the screen (secret values masked). */
export interface RenderedExport {
  files: ExportFile[];
  /** What to run once written, one line each. */
  nextSteps: string[];
}
