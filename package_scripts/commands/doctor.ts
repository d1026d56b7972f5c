import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { engineInfoArgs, engineVersionArgs, imageExistsArgs } from '../docker/argv.js';
import { engineEndpoint, type DockerEngine } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import { observePodmanSeccomp, seccompProblem } from '../docker/podman.js';
import type { EngineEndpoint, EngineSelection } from '../docker/target.js';
import { isReportedError, parseOrThrow } from '../errors.js';
import {
  baseImageCheck,
  caCheck,
  diskCheck,
  engineCheck,
  envFileModeCheck,
  formatChecks,
  instanceImageCheck,
  localCaCheck,
  portCheck,
  tokenCheck,
  type Check,
  type PortProbe,
} from '../doctor/checks.js';
import type { EngineDescriptor, EngineVersion } from '../engines/engine.js';
import { identifyEngine } from '../engines/registry.js';
import { servesOwnCertificate } from '../instance/endpoint.js';
import { findInstances } from '../instance/find.js';
import { selectionFor } from '../instance/engine-select.js';
import { baseImage } from '../instance/remote.js';
import { remoteBaseImageCheck, remoteCertificateCheck, remoteEngineFailure, remotePortCheck, withEngineSource } from '../doctor/remote-checks.js';
import type { Settings } from '../settings/load.js';
import { findCa } from '../tls/ca.js';
import { systemTrusts } from '../tls/trust-state.js';
import { envFilePath, settingsFor, type EnvOptions } from '../instance/env-file.js';

export const doctorOptionsSchema = z.object({ json: z.boolean().default(false) });
export type DoctorOptions = z.input<typeof doctorOptionsSchema> & EnvOptions;

/** Try to listen where the instance would be published; closed at once. */
export function probePort(port: number, address: string): Promise<PortProbe> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EACCES' ? 'denied' : 'in-use'));
    server.listen(port, address, () => server.close(() => resolve('free')));
  });
}

function pemCertificates(file: string): number | undefined {
  try {
    return (readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
  } catch {
    return undefined;
  }
}

/** Where images are kept when the engine runs on this machine, else the temporary folder builds are staged in. */
function diskPath(dockerRootDir: string | undefined): string {
  return dockerRootDir && existsSync(dockerRootDir) ? dockerRootDir : tmpdir();
}

/** `npm run doctor`: every precondition of build and start, each with its fix (the caller exits 1 when one fails). */
export async function doctor(ctx: CommandContext, rawOptions: DoctorOptions): Promise<Check[]> {
  const options = parseOrThrow(doctorOptionsSchema, rawOptions);
  const checks: Check[] = [];

  // The env file first: its secrets are needed to mask anything docker reports.
  const envFile = envFilePath(ctx, rawOptions.envFile);
  let settings: Settings | undefined;
  if (!existsSync(envFile)) {
    checks.push({ name: 'env file', verdict: 'fail', detail: `${envFile} does not exist`, fix: 'npm run init (or npm run up, which also builds and starts)' });
  } else {
    try {
      settings = settingsFor(ctx, rawOptions);
      checks.push({ name: 'env file', verdict: 'pass', detail: `${envFile} is valid (NAME=${settings.NAME}, TEMPLATE=${settings.template})` });
    } catch (error) {
      if (!isReportedError(error)) throw error;
      checks.push({ name: 'env file', verdict: 'fail', detail: error.message, fix: 'Fix the setting named above; docs/SETTINGS.md describes each' });
    }
    const modeCheck = envFileModeCheck(envFile, statSync(envFile).mode);
    if (modeCheck) checks.push(modeCheck);
  }

  // The engine the env file (or --context, or the shell) selects; a bad selection is already the env file's failure.
  let selection: EngineSelection;
  try {
    selection = selectionFor(ctx, rawOptions, settings);
  } catch (error) {
    if (!isReportedError(error)) throw error;
    selection = selectionFor(ctx, {}, undefined);
  }
  const docker: DockerEngine = ctx.docker(settings?.secrets ?? [], selection);
  let engine: EngineDescriptor | undefined;
  let dockerRootDir: string | undefined;
  let engineUp = false;
  let endpoint: EngineEndpoint | undefined;
  try {
    endpoint = await engineEndpoint(docker);
    const version = JSON.parse((await docker.run(engineVersionArgs())).stdout) as EngineVersion;
    const info = JSON.parse((await docker.run(engineInfoArgs())).stdout) as { OperatingSystem?: string; DockerRootDir?: string; SecurityOptions?: string[] };
    dockerRootDir = info.DockerRootDir;
    const check = withEngineSource(
      engineCheck({ version, operatingSystem: info.OperatingSystem, securityOptions: info.SecurityOptions ?? [] }),
      endpoint,
      selection.source,
    );
    engine = identifyEngine(version);
    engineUp = check.verdict === 'pass';
    checks.push(check);
  } catch (error) {
    if (!isReportedError(error)) throw error;
    // An engine on this machine that is down gets the local fix (start Docker); a remote one, the SSH one.
    const local = !selection.variable || /^The Docker engine\b/.test(error.message);
    checks.push(local ? engineCheck({ error: error.message.replace(/\. Start Docker.*$/, '') }) : remoteEngineFailure(error.message));
  }
  const remote = endpoint?.remote;

  if (settings) {
    if (settings.accessToken) checks.push(tokenCheck(settings.accessToken, 'ACCESS_TOKEN'));
    if (servesOwnCertificate(settings.template) && remote) {
      checks.push(remotePortCheck(settings.HOST_PORT, settings.BIND_ADDRESS, remote));
      if (settings.tlsFiles) checks.push(remoteCertificateCheck(settings.tlsFiles.certFile, endpoint!.address));
    } else if (servesOwnCertificate(settings.template)) {
      let ownedBy: string | undefined;
      if (engineUp) {
        const [mine] = await findInstances(docker, { name: settings.NAME });
        if (mine?.state === 'running' && mine.url?.endsWith(`:${settings.HOST_PORT}/mcp`)) ownedBy = mine.container;
      }
      checks.push(
        portCheck(settings.HOST_PORT, settings.BIND_ADDRESS, ownedBy ? 'in-use' : await probePort(settings.HOST_PORT, settings.BIND_ADDRESS), {
          ownedBy,
          engine,
        }),
      );
      if (settings.tlsFiles) {
        checks.push({ name: 'certificate', verdict: 'pass', detail: `CERT_FILE ${settings.tlsFiles.certFile} (SHA-256 ${settings.tlsFiles.fingerprint})` });
      } else {
        const ca = findCa(ctx.hostEnv);
        checks.push(localCaCheck(ca ? { caFile: ca.paths.cert, trusted: await systemTrusts(ca, ctx.hostEnv), ...ca.constraints } : {}));
      }
    }
    if (engineUp && engine?.seccomp === 'engine-default') {
      // Podman takes the profile as its default only (engines/podman.ts): the same check start makes.
      const problem = seccompProblem(await observePodmanSeccomp(docker, settings.seccompProfile), JSON.parse(readFileSync(settings.seccompProfile, 'utf8')));
      checks.push(
        problem
          ? { name: 'seccomp', verdict: 'fail', ...problem }
          : { name: 'seccomp', verdict: 'pass', detail: `Podman applies the rules of ${settings.seccompProfile} to every container` },
      );
    }
    if (engineUp) {
      const base = baseImage(settings);
      const present = (await docker.run(imageExistsArgs(base), { allowFailure: true })).exitCode === 0;
      checks.push(remote ? remoteBaseImageCheck(base, present, endpoint!.address) : baseImageCheck(base, present));
      const image = instanceNames(settings.NAME).image;
      checks.push(instanceImageCheck(image, (await docker.run(imageExistsArgs(image), { allowFailure: true })).exitCode === 0));
    }
    const caSource = settings.EXTRA_CA_CERT ? 'EXTRA_CA_CERT' : 'NODE_EXTRA_CA_CERTS';
    const proxy = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].find((v) => ctx.hostEnv[v]);
    checks.push(
      caCheck({
        ...(settings.extraCaCert ? { setting: { source: caSource, file: settings.extraCaCert }, certificates: pemCertificates(settings.extraCaCert) } : {}),
        ...(proxy ? { proxy } : {}),
      }),
    );
  }

  // A remote engine's folder is not on this machine: the staging folder of builds is.
  const path = remote ? tmpdir() : diskPath(dockerRootDir);
  const stats = statfsSync(path);
  checks.push(diskCheck(path, stats.bavail * stats.bsize));

  if (options.json) {
    ctx.out.data(JSON.stringify({ ok: checks.every((c) => c.verdict !== 'fail'), checks }, null, 2));
  } else {
    ctx.out.data(formatChecks(checks));
  }
  return checks;
}
