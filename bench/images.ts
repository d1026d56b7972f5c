/** Image size, layer reuse and rebuild times of the product image, built through the CLI. */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guideBuildArgs, historyArgs, imageSizeArgs, removeContainerArgs, supergatewayBuildArgs } from './docker-args.js';
import { compareLayers, layerSizes, ourSteps, parseHistory } from './layers.js';
import { cli, docker, dockerQuiet, projectDir, timeCommand } from './run.js';
import { percentile } from './stats.js';
import type { CliResult, ImageResult } from './types.js';

export interface ImagePlan {
  envFile: string;
  /** The same settings with only NPM_MCP changed. */
  changedEnvFile: string;
  changedNpmMcp: string;
  /** The same settings with a Python server (MCP_SERVER), built under pythonTag. */
  pythonEnvFile: string;
  pythonServer: string;
  pythonTag: string;
  pythonImage: string;
  image: string;
  changedTag: string;
  changedImage: string;
  baseImage: string;
}

const history = async (image: string) => parseHistory((await docker(historyArgs(image))).stdout);

export async function measureImage(plan: ImagePlan): Promise<ImageResult> {
  const first = await cli(['build', '--env-file', plan.envFile]);
  const warm = await cli(['build', '--env-file', plan.envFile]);
  const changed = await cli(['build', '--env-file', plan.changedEnvFile, '--tag', plan.changedTag]);
  const python = await cli(['build', '--env-file', plan.pythonEnvFile, '--tag', plan.pythonTag]);

  const [imageBytes, baseBytes, pythonBytes, npmProbeBytes] = await Promise.all(
    [plan.image, plan.baseImage, plan.pythonImage, plan.changedImage].map(async (image) => Number((await docker(imageSizeArgs(image))).stdout)),
  );
  const [imageHistory, baseHistory, changedHistory] = await Promise.all([history(plan.image), history(plan.baseImage), history(plan.changedImage)]);
  const ours = ourSteps(imageHistory, baseHistory);
  const reuse = compareLayers(ours, ourSteps(changedHistory, baseHistory));
  return {
    image: plan.image,
    baseImage: plan.baseImage,
    imageBytes: imageBytes!,
    baseBytes: baseBytes!,
    ourLayersBytes: imageBytes! - baseBytes!,
    layers: layerSizes(ours),
    firstBuildMs: first.ms,
    warmRebuildMs: warm.ms,
    npmMcpChange: { npmMcp: plan.changedNpmMcp, rebuildMs: changed.ms, ...reuse },
    python: { server: plan.pythonServer, imageBytes: pythonBytes!, overNpmBytes: pythonBytes! - npmProbeBytes!, buildMs: python.ms },
  };
}

/** Builds bench/guide-runtime with the machine's CA bundle for npm (public data) beside it. */
export async function buildGuideImage(image: string, baseImage: string, caBundle: string | undefined): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-bench-guide-'));
  try {
    for (const file of ['Dockerfile', 'package.json', 'package-lock.json']) copyFileSync(join(projectDir, 'bench', 'guide-runtime', file), join(dir, file));
    if (caBundle) copyFileSync(caBundle, join(dir, 'build-ca.crt'));
    else writeFileSync(join(dir, 'build-ca.crt'), '');
    return (await docker(guideBuildArgs(dir, image, baseImage), 15 * 60_000)).ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** bench/supergateway on top of the product image: the reference, with the product image's own CA helper. */
export async function buildSupergatewayReference(image: string, productImage: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-bench-supergateway-'));
  try {
    for (const file of ['Dockerfile', 'package.json', 'package-lock.json', 'bundle'])
      copyFileSync(join(projectDir, 'bench', 'supergateway', file), join(dir, file));
    return (await docker(supergatewayBuildArgs(dir, image, productImage), 15 * 60_000)).ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Copies the session gateway's bundle out of the product image (for the floor on the host) into `file`. */
export async function copyGatewayBundle(productImage: string, container: string, file: string): Promise<void> {
  await dockerQuiet(removeContainerArgs(container));
  try {
    await docker(['create', '--name', container, productImage]);
    await docker(['cp', `${container}:/opt/session-gateway/gateway.mjs`, file]);
  } finally {
    await dockerQuiet(removeContainerArgs(container));
  }
}

const median = async (repeats: number, run: () => Promise<number>) => {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i += 1) samples.push(await run());
  return percentile(samples, 50);
};

export async function measureCli(repeats: number): Promise<CliResult> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return {
    bareNodeMs: await median(repeats, () => timeCommand(process.execPath, ['-e', ''])),
    cliMs: await median(repeats, () => timeCommand(process.execPath, ['--', join(projectDir, 'dist', 'package_scripts', 'main.js'), 'cli'])),
    helpMs: await median(repeats, () => timeCommand(process.execPath, ['--', join(projectDir, 'dist', 'package_scripts', 'main.js'), 'start', '-h'])),
    npmRunCliMs: await median(repeats, () => timeCommand(npm, ['run', '--silent', 'cli'])),
  };
}
