import { existsSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { parseOrThrow, StepFailedError, UsageError } from '../errors.js';
import { shellQuote } from '../shell.js';
import { ensureCa, findCa, hasOpenssl, type LocalCa } from '../tls/ca.js';
import { trustPlan, untrustPlan, type TrustPlan } from '../tls/trust-plan.js';
import { observeTarget, systemTrusts } from '../tls/trust-state.js';
import { envFilePath, settingsFor, type EnvOptions } from '../instance/env-file.js';
import type { Ask } from '../init/env-init.js';

/**
 * `npm run trust` / `npm run untrust`: the local CA into the machine's trust
 * stores and out again. On a terminal the commands are shown and run only
 * after a yes; without one they are printed for the user to run (--yes runs
 * them without asking, for scripts).
 */

export const trustOptionsSchema = z.object({
  yes: z.boolean().default(false),
  dryRun: z.boolean().default(false),
});
export type TrustOptions = z.input<typeof trustOptionsSchema> & EnvOptions;

export const untrustOptionsSchema = trustOptionsSchema.extend({ delete: z.boolean().default(false) });
export type UntrustOptions = z.input<typeof untrustOptionsSchema> & EnvOptions;

/** What the CA may sign, in words. */
export function describeConstraints(ca: LocalCa): string {
  const dns = ca.constraints.dns.filter((d) => d !== '.localhost').map((d) => (d === 'localhost' ? 'localhost and *.localhost' : `${d} and names below it`));
  return [...dns, ...ca.constraints.ip].join(', ');
}

/** TLS_HOSTNAMES of the env file, when there is one: the names a new CA will permit besides loopback. */
function tlsHostnames(ctx: CommandContext, options: EnvOptions): string {
  if (!existsSync(envFilePath(ctx, options.envFile))) return '';
  return settingsFor(ctx, options).gatewayEnv.TLS_HOSTNAMES ?? '';
}

const line = (argv: readonly string[]) => argv.map(shellQuote).join(' ');

type Decision = 'run' | 'print';

async function decide(ctx: CommandContext, plan: TrustPlan, options: { yes: boolean; dryRun: boolean }, question: string, ask?: Ask): Promise<Decision> {
  if (options.dryRun || plan.steps.length === 0) return 'print';
  if (options.yes) return 'run';
  if (!ask) return 'print';
  const answer = await ask(question, 'n');
  return /^y(es)?$/i.test(answer.trim()) ? 'run' : 'print';
}

async function runSteps(ctx: CommandContext, plan: TrustPlan, undo: boolean): Promise<void> {
  for (const step of plan.steps) {
    ctx.out.info(`$ ${line(step.argv)}`);
    const result = await execa(step.argv[0]!, step.argv.slice(1), { stdio: 'inherit', reject: false });
    if (result.exitCode !== 0) {
      throw new StepFailedError(
        `${line(step.argv)} failed (${result.exitCode === undefined ? (result as { code?: string }).code : `exit ${result.exitCode}`}); ${step.store} is unchanged from here on`,
        `The commands before it ran. Fix the cause above and run npm run ${undo ? 'untrust' : 'trust'} again (each step may run twice).`,
      );
    }
  }
}

function showPlan(ctx: CommandContext, plan: TrustPlan): void {
  for (const step of plan.steps) ctx.out.info(`  ${line(step.argv)}        # ${step.store}`);
  for (const note of plan.notes) ctx.out.warn(note);
}

export async function trust(ctx: CommandContext, rawOptions: TrustOptions, ask?: Ask): Promise<void> {
  const options = parseOrThrow(trustOptionsSchema, rawOptions);
  let ca = findCa(ctx.hostEnv);
  if (!ca) {
    if (!(await hasOpenssl()))
      throw new UsageError(
        'openssl is not on PATH: the local CA is made with it',
        'Install OpenSSL (Debian/Ubuntu: apt install openssl; macOS has it), then run npm run trust again.',
      );
    const made = await ensureCa(ctx.hostEnv, tlsHostnames(ctx, rawOptions));
    ca = made.ca;
    ctx.out.info(`Made the local CA ${ca.paths.cert} (its key ${ca.paths.key}, mode 0600, stays on this machine).`);
  }
  ctx.out.info(
    `Local CA: ${ca.commonName}\n  File:     ${ca.paths.cert}\n  SHA-256:  ${ca.certificate.fingerprint256}\n  Signs only: ${describeConstraints(ca)} (X.509 name constraints: a copy of its key cannot speak for any other site)`,
  );
  const plan = trustPlan(observeTarget(ca, ctx.hostEnv));
  if (plan.steps.length > 0) ctx.out.info('To trust it, these commands add it to the trust stores of this machine:');
  showPlan(ctx, plan);

  const decision = await decide(ctx, plan, options, 'Run them now? sudo may ask for your password (y/N)', ask);
  if (decision === 'print') {
    if (plan.steps.length > 0)
      ctx.out.info(
        options.dryRun ? 'Dry run: nothing changed.' : 'Nothing changed. Run the commands above yourself, or npm run trust -- --yes to let this run them.',
      );
    return;
  }
  await runSteps(ctx, plan, false);
  if (await systemTrusts(ca, ctx.hostEnv)) {
    ctx.out.success(
      'The system trust store now trusts the local CA: every instance started from now on is trusted (restart browsers and editors to pick it up).',
    );
    ctx.out.info(
      'Node.js clients read the system store with NODE_USE_SYSTEM_CA=1 (Node 22.19 or newer); `npm run connect` prints it. Undo with: npm run untrust',
    );
  } else {
    ctx.out.warn(
      `The commands ran, but the system bundle does not list the CA yet; check the output above. NODE_EXTRA_CA_CERTS=${ca.paths.cert} works for Node clients meanwhile.`,
    );
  }
}

export async function untrust(ctx: CommandContext, rawOptions: UntrustOptions, ask?: Ask): Promise<void> {
  const options = parseOrThrow(untrustOptionsSchema, rawOptions);
  const ca = findCa(ctx.hostEnv);
  if (!ca) {
    ctx.out.info('There is no local CA on this machine (nothing to remove).');
    return;
  }
  const plan = untrustPlan(observeTarget(ca, ctx.hostEnv));
  const removeCa = ['rm', '-rf', ca.paths.dir];
  ctx.out.info(`Local CA: ${ca.paths.cert} (SHA-256 ${ca.certificate.fingerprint256})`);
  if (plan.steps.length > 0) ctx.out.info('These commands remove it from the trust stores of this machine:');
  showPlan(ctx, plan);
  if (options.delete) ctx.out.info(`  ${line(removeCa)}        # the CA itself (instances get a certificate from a new CA at their next start)`);

  const decision = await decide(
    ctx,
    { ...plan, steps: options.delete ? [...plan.steps, { store: 'the CA', argv: removeCa }] : plan.steps },
    options,
    'Run them now? sudo may ask for your password (y/N)',
    ask,
  );
  if (decision === 'print') {
    ctx.out.info(
      options.dryRun ? 'Dry run: nothing changed.' : 'Nothing changed. Run the commands above yourself, or npm run untrust -- --yes to let this run them.',
    );
    return;
  }
  await runSteps(ctx, plan, true);
  if (await systemTrusts(ca, ctx.hostEnv)) {
    ctx.out.warn('The commands ran, but the system bundle still lists the CA; check the output above.');
  } else {
    ctx.out.success('The local CA is no longer in the system trust store.');
  }
  if (options.delete) {
    rmSync(ca.paths.dir, { recursive: true, force: true });
    ctx.out.info(`Deleted ${ca.paths.dir}. The next start makes a new CA (with TLS_HOSTNAMES as they are then); run npm run trust again after it.`);
  }
}
