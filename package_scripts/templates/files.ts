import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The image's side of a template: the files docker/NAME/ must hold, the one
 * list (the Dockerfile copies them; docker/common/bin/entrypoint runs the
 * hooks). test/unit/layout.test.ts checks every folder under docker/ against
 * it, and a build refuses a template that lacks one.
 */
export const TEMPLATE_FILES: ReadonlyArray<{ path: string; executable: boolean; role: string }> = [
  { path: 'packages', executable: false, role: 'its Debian packages, installed at build time' },
  { path: 'gateway/prepare', executable: true, role: 'the set-up hook, run as root before anything long-lived starts' },
  { path: 'gateway/run', executable: true, role: 'starts the gateway' },
  { path: 'gateway/healthcheck', executable: true, role: "the gateway's part of the health check" },
  { path: 'gateway/keep-env', executable: false, role: "the names of the variables the gateway's run keeps (empty: none)" },
  {
    path: 'gateway/auth-mode',
    executable: false,
    role: 'with AUTH=oauth, how the auth gateway serves it: introspect (the gateway asks it) or proxy (it forwards to it)',
  },
];

/** The folder of a template in a project. */
export const templateDir = (projectDir: string, name: string) => join(projectDir, 'docker', name);

/** What docker/NAME/ lacks, as "gateway/run (starts the gateway)" lines; empty when complete. */
export function missingTemplateFiles(projectDir: string, name: string): string[] {
  const dir = templateDir(projectDir, name);
  return TEMPLATE_FILES.filter(({ path, executable }) => {
    const file = join(dir, path);
    return !existsSync(file) || (executable && (statSync(file).mode & 0o100) === 0);
  }).map(({ path, executable, role }) => `${path}${executable ? ' (executable)' : ''}: ${role}`);
}
