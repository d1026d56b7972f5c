import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** Where the shipped profile lives in the repository (written from package_scripts/sandbox/seccomp.ts). */
export const SHIPPED_SECCOMP_PROFILE = join('profiles', 'seccomp.json');

const FIX = 'restore profiles/seccomp.json with `git checkout profiles/seccomp.json`, or point MCP_SECCOMP_PROFILE at a valid Docker seccomp profile';

/**
 * MCP_SECCOMP_PROFILE (default: the shipped profile), checked before any docker
 * command: the file must exist and be a seccomp profile that refuses by
 * default. "unconfined" is not a profile and is refused like any other text.
 */
export function resolveSeccompProfile(setting: string, baseDir: string, projectDir: string): string {
  const path = setting ? resolve(baseDir, setting) : join(projectDir, SHIPPED_SECCOMP_PROFILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`MCP_SECCOMP_PROFILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code}); ${FIX}`);
  }
  let profile: unknown;
  try {
    profile = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`MCP_SECCOMP_PROFILE: ${path} is not JSON (${(error as Error).message}); ${FIX}`);
  }
  const problem = profileProblem(profile);
  if (problem) throw new UsageError(`MCP_SECCOMP_PROFILE: ${path} ${problem}; ${FIX}`);
  return path;
}

function profileProblem(profile: unknown): string | undefined {
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) return 'is not a JSON object';
  const { defaultAction, syscalls } = profile as Record<string, unknown>;
  if (typeof defaultAction !== 'string' || !/^SCMP_ACT_(ERRNO|KILL|KILL_PROCESS|KILL_THREAD|TRAP)$/.test(defaultAction)) {
    return `has defaultAction ${JSON.stringify(defaultAction)}: a sandbox profile must refuse what it does not list (SCMP_ACT_ERRNO)`;
  }
  if (!Array.isArray(syscalls) || syscalls.length === 0) return 'lists no syscalls (a "syscalls" array of rules)';
  const malformed = (syscalls as unknown[]).findIndex((rule) => {
    if (typeof rule !== 'object' || rule === null) return true;
    const { names, action } = rule as Record<string, unknown>;
    return !Array.isArray(names) || typeof action !== 'string';
  });
  if (malformed !== -1) return `has a malformed rule at syscalls[${malformed}] (each needs "names" and "action")`;
  return undefined;
}
