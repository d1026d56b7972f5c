import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandContext } from '../../package_scripts/context.js';
import type { DockerEngine, DockerResult } from '../../package_scripts/docker/engine.js';
import type { EndpointProbeTarget, ProbeOutcome } from '../../package_scripts/mcp-probe.js';
import { SHIPPED_SECCOMP_PROFILE } from '../../package_scripts/settings/seccomp-file.js';
import { recordingOutput } from './recording-output.js';

/** The repository (compiled tests live in dist/test/unit/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A stand-in project folder holding what settings read from the project: the shipped seccomp profile. */
export function makeProjectDir(dir: string): string {
  mkdirSync(join(dir, dirname(SHIPPED_SECCOMP_PROFILE)), { recursive: true });
  copyFileSync(join(repoRoot, SHIPPED_SECCOMP_PROFILE), join(dir, SHIPPED_SECCOMP_PROFILE));
  return dir;
}

/** A self-signed certificate, as the gateway publishes it (test/fixtures/tls/self-signed.pem). */
export const CERT_PEM = readFileSync(join(repoRoot, 'test', 'fixtures', 'tls', 'self-signed.pem'), 'utf8');

let tlsCopy: string | undefined;
/**
 * test/fixtures/tls as a user keeps it: the private keys mode 0600 (git checks files
 * out 0644, and KEY_FILE readable by group or others is refused). A copy, made once
 * per test process, in the system's temporary folder.
 */
export function tlsFixtures(): string {
  if (tlsCopy) return tlsCopy;
  const dir = join(mkdtempSync(join(tmpdir(), 'mcp-tls-fixtures-')), 'tls');
  cpSync(join(repoRoot, 'test', 'fixtures', 'tls'), dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.endsWith('-key.pem')) chmodSync(join(dir, name), 0o600);
  return (tlsCopy = dir);
}

/** An engine's answer: exit 0 with this stdout. */
export const ok = (stdout = ''): DockerResult => ({ stdout, stderr: '', exitCode: 0 });

/** What the readiness probe reports of a server that answered. */
export const SERVED: ProbeOutcome = {
  ok: true,
  path: 'endpoint',
  result: { protocolVersion: '2025-06-18', tools: ['read_file'], toolsListed: true, ms: 3 },
  serverLines: [],
  retryable: false,
};

/** A .env a user would keep: mode 0600, one KEY=value a line (a string is written as it is). */
export function writeEnvFile(file: string, values: string | Readonly<Record<string, string>>): string {
  const text =
    typeof values === 'string'
      ? values
      : Object.entries(values)
          .map(([key, value]) => `${key}=${value}\n`)
          .join('');
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/**
 * A recording engine for commands that start an instance: every argv is kept in
 * `calls`; `answer` may answer a call itself (undefined: the default), else
 * `inspect` says running, `exec … cat` gives the published certificate, and the
 * rest succeeds with no output.
 */
export function recordingEngine(answer: (args: string[]) => DockerResult | undefined = () => undefined) {
  const calls: string[][] = [];
  const engine: DockerEngine = {
    async run(args) {
      calls.push(args);
      const special = answer(args);
      if (special) return special;
      if (args[0] === 'inspect') return ok('running');
      if (args[0] === 'exec' && args[2] === 'cat') return ok(CERT_PEM);
      return ok();
    },
  };
  return { engine, calls };
}

/** A command context over `engine` whose HOME is `<dir>/home` (made here) and whose output is kept in `messages`. */
export function commandContext(dir: string, engine: DockerEngine, probe: (target: EndpointProbeTarget) => ProbeOutcome | Promise<ProbeOutcome> = () => SERVED) {
  mkdirSync(join(dir, 'home'), { recursive: true });
  const messages: string[] = [];
  const probes: EndpointProbeTarget[] = [];
  const ctx: CommandContext = {
    projectDir: repoRoot,
    hostEnv: { HOME: join(dir, 'home') },
    out: recordingOutput(messages),
    docker: () => engine,
    probeEndpoint: async (target) => {
      probes.push(target);
      return probe(target);
    },
  };
  return { ctx, messages, probes };
}
