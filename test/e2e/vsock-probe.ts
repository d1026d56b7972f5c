/**
 * The vsock probe (test/fixtures/vsock-probe/vsock-probe.c), built with the
 * host's gcc as a static x86-64 binary so it runs in any image: a container's
 * own libc plays no part. Built at test time rather than committed, so the
 * binary is always the source beside it; .ci/run installs gcc and libc6-dev.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectDir } from './harness.js';

export const VSOCK_PROBE_SOURCE = join(projectDir, 'test', 'fixtures', 'vsock-probe', 'vsock-probe.c');

/** How one attempt ended: ret is a descriptor or -1 (with errno); signal is set when seccomp killed it instead. */
export interface ProbeAttempt {
  ret: number;
  errno: number;
  signal: number;
  connect?: number;
  connect_errno?: number;
}
export type ProbeReport = Record<string, ProbeAttempt>;

/** Every way the probe tries AF_VSOCK: the 64-bit calls, int 0x80's socket and socketcall, and x32. */
export const VSOCK_ATTEMPTS = [
  'socket64_vsock',
  'socketpair64_vsock',
  'socket_x32_vsock',
  'socket32_vsock',
  'socketpair32_vsock',
  'socketcall32_vsock',
  'socketcall32_socketpair_vsock',
] as const;

export const EPERM = 1;
export const SIGSYS = 31;

let built: string | undefined;

/** The probe binary (built once per test process), in a folder of its own. */
export async function buildVsockProbe(): Promise<string> {
  if (built) return built;
  assert.equal(arch(), 'x64', 'the vsock probe tries the x86-64 entries (int 0x80, x32); this machine is not x86-64');
  const output = join(mkdtempSync(join(tmpdir(), 'mcps-vsock-probe-')), 'vsock-probe');
  const result = await execa('gcc', ['-static', '-O1', '-Wall', '-Wextra', '-Werror', '-o', output, VSOCK_PROBE_SOURCE], { reject: false, all: true });
  assert.equal(
    result.exitCode,
    0,
    `gcc -static could not build ${VSOCK_PROBE_SOURCE} (${result.all || result.message}). Install gcc and libc6-dev (Debian: apt-get install gcc libc6-dev; .ci/run does)`,
  );
  chmodSync(output, 0o755);
  built = output;
  return output;
}

/** The probe's one line of JSON, with the process's end for the message when it is not there. */
export function parseProbeReport(run: { status: number | null; signal: string | null; stdout: string; stderr: string }): ProbeReport {
  assert.equal(run.status, 0, `the probe did not finish: ${JSON.stringify(run)}`);
  return JSON.parse(run.stdout) as ProbeReport;
}

export const SIGSEGV = 11;

/**
 * No such entry in this kernel: int 0x80 where the kernel has no IA32 emulation (built without
 * it, or booted with ia32_emulation=0) is a general protection fault, which the process gets as
 * SIGSEGV. Told apart from a refusal only by running the probe without seccomp (item 18b).
 */
export const noSuchEntry = (attempt: ProbeAttempt) => attempt.ret === -1 && attempt.signal === SIGSEGV;

/** Refused by seccomp: EPERM from a rule, or killed (SIGSYS) as a foreign architecture. */
export const refusedBySeccomp = (attempt: ProbeAttempt) => attempt.ret === -1 && (attempt.errno === EPERM || attempt.signal === SIGSYS);
