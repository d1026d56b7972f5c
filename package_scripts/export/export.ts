import { readFileSync } from 'node:fs';
import type { CommandContext } from '../context.js';
import { formatCommand, maskSecrets } from '../docker/engine.js';
import { instanceNames } from '../docker/names.js';
import { UsageError } from '../errors.js';
import { oauthResourceUrl } from '../instance/oauth.js';
import { composeEnvFile, composeFile, COMPOSE_HEADER, envFileValueProblem, splitEnv, toYaml, type ComposeInstance } from '../sandbox/compose.js';
import { sandboxProfile } from '../sandbox/profile.js';
import { serverEnvText } from '../sandbox/server-env.js';
import { kubernetesExport } from './export-kubernetes.js';
import type { Settings } from '../settings/load.js';
import { gatewaySecretNames, publishesPort } from '../templates/registry.js';
import { envFilePath, settingsFor } from '../instance/env-file.js';
import { checkOutputDir, writeExport, type ExportFile, type ExportInstance, type RenderedExport } from './export-files.js';

export const EXPORT_FORMATS = ['compose', 'kubernetes'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** The folder to write; without it the files are printed (secrets masked). */
  out?: string;
  /** Where the cluster or Compose pulls the image from (one env file only). */
  image?: string;
  /** A registry prefix: each instance's image becomes REGISTRY/NAME:latest. */
  registry?: string;
  force: boolean;
  /** Run the docker tag and docker push lines instead of only printing them. */
  push: boolean;
  envFiles: readonly string[];
  allowDangerousMounts: boolean;
}

export function secretNamesOf(settings: Settings): string[] {
  return [...gatewaySecretNames(), ...Object.keys(settings.serverEnv)].filter((name, i, all) => all.indexOf(name) === i);
}

const IMAGE_REF =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const REGISTRY = /^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

function imageFor(options: ExportOptions, localImage: string, name: string): string {
  if (options.image) return options.image;
  if (options.registry) return `${options.registry}/${name}:latest`;
  return localImage;
}

function checkOptions(options: ExportOptions): void {
  if (options.image && !IMAGE_REF.test(options.image))
    throw new UsageError(`--image ${options.image} is not an image reference such as registry.example.com/team/mcp-github:1.0`);
  if (options.registry && !REGISTRY.test(options.registry))
    throw new UsageError(`--registry ${options.registry} is not a registry path such as registry.example.com/team`);
  if (options.image && options.registry) throw new UsageError('--image and --registry both name the image: give one of them');
  if (options.image && options.envFiles.length > 1)
    throw new UsageError('--image names one image, but several --env-file were given: use --registry, which names each instance after its NAME');
  if (options.push && !options.image && !options.registry) throw new UsageError('--push needs --image or --registry: the local image has nowhere to go');
}

function checkDistinctNames(all: readonly Settings[]): void {
  const seen = new Map<string, string>();
  for (const settings of all) {
    const other = seen.get(settings.NAME);
    if (other)
      throw new UsageError(
        `${other} and ${settings.envFile} both have NAME=${settings.NAME}; each instance needs its own NAME (its container, network and files are named after it)`,
      );
    seen.set(settings.NAME, settings.envFile);
  }
}

/** Compose reads the env file with python-dotenv (1.29) or its own parser (v2): values must read the same in both. */
function checkComposeValues(instance: ExportInstance): void {
  const { secret } = splitEnv(instance.profile.env, instance.secretNames);
  for (const [name, value] of Object.entries(secret)) {
    const problem = envFileValueProblem(value);
    if (problem) {
      throw new UsageError(
        `${instance.settings.envFile}: the value of ${name} ${problem}, which a Compose env file does not carry unchanged; change the value, or run this instance with npm run start`,
      );
    }
  }
}

/** The seccomp profiles, copied into the export (one file for each distinct source). */
function seccompCopies(instances: readonly ExportInstance[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const { settings } of instances) {
    if (!names.has(settings.seccompProfile)) names.set(settings.seccompProfile, names.size === 0 ? 'seccomp.json' : `${settings.NAME}.seccomp.json`);
  }
  return names;
}

function composeExport(instances: readonly ExportInstance[], out: string | undefined): RenderedExport {
  instances.forEach(checkComposeValues);
  const copies = seccompCopies(instances);
  const composeInstances: ComposeInstance[] = instances.map((instance) => ({
    profile: instance.profile,
    envFile: `${instance.settings.NAME}.env`,
    // docker-compose opens this path itself, from the folder it runs in: an absolute path works from anywhere.
    seccompFile: out ? `${out}/${copies.get(instance.settings.seccompProfile)}` : instance.settings.seccompProfile,
    secretNames: instance.secretNames,
    serverEnvFile: `${instance.settings.NAME}.server-env`,
  }));
  const files: ExportFile[] = [{ name: 'compose.yaml', text: toYaml(composeFile(composeInstances), COMPOSE_HEADER), secret: false }];
  for (const instance of instances) {
    const { secret } = splitEnv(instance.profile.env, instance.secretNames);
    if (Object.keys(secret).length > 0) files.push({ name: `${instance.settings.NAME}.env`, text: composeEnvFile(secret), secret: true });
    const server = instance.profile.serverEnv;
    // Never printed: masking finds the values, not their base64 form.
    if (server) {
      const preview = `(the values of ${Object.keys(server.values).join(', ')} as base64, for the server alone)`;
      files.push({ name: `${instance.settings.NAME}.server-env`, text: serverEnvText(server.values), secret: true, preview });
    }
  }
  for (const [source, name] of copies) files.push({ name, text: readFileSync(source, 'utf8'), secret: false, preview: `(a copy of ${source})` });
  const where = out ?? 'OUT';
  return { files, nextSteps: [`docker-compose -f ${where}/compose.yaml up -d`, `docker-compose -f ${where}/compose.yaml down`] };
}

/** `npm run export`: every setting is checked, and every name resolved, before anything is written. */
export async function exportInstances(ctx: CommandContext, options: ExportOptions): Promise<void> {
  checkOptions(options);
  const out = options.out ? envFilePath(ctx, options.out) : undefined;
  if (out) checkOutputDir(out, options.force);
  const all = options.envFiles.map((envFile) => settingsFor(ctx, { envFile, allowDangerousMounts: options.allowDangerousMounts }));
  checkDistinctNames(all);
  // A pod has no volume that outlives it for the OAuth state, and a cluster reaches it by a name the export cannot know.
  const oauth = options.format === 'kubernetes' ? all.find((s) => s.AUTH === 'oauth') : undefined;
  if (oauth) {
    throw new UsageError(
      `${oauth.envFile}: AUTH=oauth is not exported to Kubernetes yet; export it with --format compose, or with AUTH=bearer (clients send ACCESS_TOKEN)`,
    );
  }
  const instances: ExportInstance[] = [];
  for (const settings of all) {
    const names = instanceNames(settings.NAME);
    // As start decides it (instance/oauth.ts): the exported instance announces the same resource.
    const oauthResource = settings.AUTH === 'oauth' && publishesPort(settings.template) ? oauthResourceUrl(settings) : undefined;
    const profile = sandboxProfile(settings, names, {
      detached: true,
      egress: settings.MCP_EGRESS,
      ...(oauthResource ? { oauthResource } : {}),
    });
    instances.push({
      settings,
      profile: { ...profile, image: imageFor(options, names.image, settings.NAME) },
      localImage: names.image,
      secretNames: secretNamesOf(settings),
    });
  }
  const rendered = options.format === 'compose' ? composeExport(instances, out) : kubernetesExport(instances, out);
  const secrets = all.flatMap((s) => s.secrets);
  const pushes = instances
    .filter((i) => i.profile.image !== i.localImage)
    .flatMap((i) => [
      ['tag', i.localImage, i.profile.image],
      ['push', i.profile.image],
    ]);

  if (out) {
    writeExport(out, rendered.files, options.force);
    const list = rendered.files.map((f) => `  ${f.name}${f.secret ? ' (mode 0600: secrets)' : ''}`);
    ctx.out.success(
      `Wrote ${options.format === 'compose' ? 'a Compose project' : 'a Kubernetes manifest set'} for ${instances.map((i) => i.settings.NAME).join(', ')} to ${out}:`,
    );
    ctx.out.info(list.join('\n'));
  } else {
    for (const file of rendered.files) {
      ctx.out.data(`# ---- ${file.name}${file.secret ? ' (secret values masked; written with mode 0600)' : ''} ----`);
      ctx.out.data(file.preview ?? maskSecrets(file.text, secrets));
    }
    ctx.out.note('A preview: nothing was written. Add --out DIR to write these files.');
  }
  if (pushes.length > 0 && !options.push)
    ctx.out.info(['The image, where it will be pulled from:', ...pushes.map((args) => `  ${formatCommand(args)}`)].join('\n'));
  if (options.push) {
    const docker = ctx.docker(secrets);
    for (const args of pushes) await docker.run(args, { inherit: true });
    ctx.out.success(`Pushed ${instances.map((i) => i.profile.image).join(', ')}.`);
  }
  if (out) ctx.out.info(['Then:', ...rendered.nextSteps.map((s) => `  ${s}`)].join('\n'));
}
