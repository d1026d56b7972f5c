import type { CommandContext } from '../context.js';
import { buildArgs, readSystemPackagesArgs } from '../docker/argv.js';
import { diagnoseBuildFailure, outputTail } from '../docker/build-failure.js';
import { DockerError } from '../errors.js';
import { stageBuildContext } from '../docker/context.js';
import { engineEndpoint, formatCommand } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import type { Settings } from '../settings/load.js';
import { settingsReport } from '../settings/report.js';
import { engineFor, type EngineOptions } from '../instance/engine-select.js';
import { remoteBaseImageNote } from '../instance/remote.js';

export interface BuildImageOptions extends EngineOptions {
  tag: string;
  cache: boolean;
  platform?: string | undefined;
  dryRun: boolean;
}

/** A line of the record: Debian's NAME[:ARCH]=VERSION, and nothing else is shown. */
const PACKAGE_VERSION = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9]+)?=[A-Za-z0-9.+~:-]+$/;

/** docker build of the template with the server inside, from a staged context that holds no secret (docker/context.ts). */
export async function buildImage(ctx: CommandContext, settings: Settings, options: BuildImageOptions): Promise<void> {
  const names = instanceNames(settings.NAME, options.tag);
  const staged = await stageBuildContext(settings, ctx.projectDir);
  try {
    const args = buildArgs(settings, names, {
      contextDir: staged.dir,
      noCache: !options.cache,
      platform: options.platform,
      serverSpec: staged.serverSpec,
    });
    // The same lines with --dry-run as without (on stderr; the argv alone is data).
    const report = settingsReport(settings);
    for (const note of report.notes) ctx.out.note(note);
    for (const warning of report.warnings) ctx.out.warn(warning);
    if (options.dryRun) {
      ctx.out.data(formatCommand(args, settings.secrets));
      return;
    }
    const docker = engineFor(ctx, options, settings, settings.secrets);
    const { remote, address } = await engineEndpoint(docker);
    if (remote) {
      // Asked first (an unreachable engine fails here, named); then only the staged context travels, never .env.
      const note = await remoteBaseImageNote(docker, settings, address);
      ctx.out.info(`Building on ${address}: only the staged build context (${staged.dir}) is sent, never the env file`);
      if (note) ctx.out.warn(note);
    }
    ctx.out.info(`Building ${names.image} (template ${settings.template}, server ${settings.server.display})`);
    // The build's output carries the server's own text (its install scripts, a failing install's log): rendered
    // like the server's log, so it cannot steer the terminal (terminal-text.ts), without the colours Docker's
    // classic builder puts around a step's stderr. Piped, BuildKit prints plain progress.
    const tail = outputTail();
    try {
      await docker.run(args, { inherit: true, untrustedOutput: true, dropColours: true, onOutput: tail.push });
    } catch (error) {
      // The last lines name the cause found in the output, and its fix.
      const found = error instanceof DockerError ? diagnoseBuildFailure(tail.text()) : undefined;
      if (!found) throw error;
      const failed = error as DockerError;
      throw new DockerError(`${failed.message}: ${found.cause}`, failed.command, failed.detail, `Fix: ${found.fix}`);
    }
    if (settings.MCP_SYSTEM_PACKAGES) {
      // Printed even when the step came from the cache (then the build printed nothing): what this image holds.
      const record = await docker.run(readSystemPackagesArgs(names.image), { allowFailure: true });
      const versions = record.stdout.split('\n').filter((line) => PACKAGE_VERSION.test(line));
      ctx.out.info(`MCP_SYSTEM_PACKAGES in ${names.image}: ${versions.length > 0 ? versions.join(', ') : 'no record found'}`);
    }
    ctx.out.success(`Built ${names.image}. Next: npm run start -- -d`);
  } finally {
    staged.dispose();
  }
}
