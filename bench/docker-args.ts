/**
 * Pure builders of the docker argv the bench runs itself (the product's own
 * containers and images go through the CLI). Arrays only, no shell.
 */

/** Every object the bench creates carries this label, beside its unique name prefix. */
export const BENCH_LABEL = 'io.mcp-sandbox.bench';

export interface BenchNames {
  /** Instance NAME for the product chain (container, image NAME:latest, network, volume). */
  chain: string;
  /** Tag of the product image rebuilt with another NPM_MCP. */
  npmMcpChangeTag: string;
  /** Tag of the same instance built with the Python probe server (MCP_SERVER=./python folder). */
  pythonTag: string;
  supergatewayContainer: string;
  quietSupergatewayContainer: string;
  guideImage: string;
  guideContainer: string;
  network: string;
}

export function benchNames(prefix: string): BenchNames {
  return {
    chain: `${prefix}-chain`,
    npmMcpChangeTag: 'bench-npm-mcp-change',
    pythonTag: 'bench-python',
    supergatewayContainer: `${prefix}-supergateway`,
    quietSupergatewayContainer: `${prefix}-supergateway-quiet`,
    guideImage: `${prefix}-guide:latest`,
    guideContainer: `${prefix}-guide`,
    network: `${prefix}-net`,
  };
}

/** Supergateway's port inside both the product image and the guide image. */
export const SUPERGATEWAY_PORT = 8000;

export const createNetworkArgs = (network: string) => ['network', 'create', '--label', `${BENCH_LABEL}=1`, network];
export const removeNetworkArgs = (network: string) => ['network', 'rm', network];
export const removeContainerArgs = (name: string) => ['rm', '--force', name];
export const removeImageArgs = (image: string) => ['image', 'rm', image];

export function guideBuildArgs(contextDir: string, image: string, baseImage: string): string[] {
  return ['build', '--force-rm', '--label', `${BENCH_LABEL}=1`, '--build-arg', `BASE_IMAGE=${baseImage}`, '--tag', image, contextDir];
}

interface PublishedContainer {
  name: string;
  network: string;
  /** Published on 127.0.0.1 only, for the bench. */
  hostPort: number;
}

/**
 * The product image with its entrypoint replaced by Supergateway itself: the
 * same Supergateway and the same installed server, stateful as the product
 * runs it, but no nginx, no TLS, no token, no firewall, no log filter, no
 * resource limits, and port 8000 published to loopback. Supergateway's default
 * log level (info) writes every message to the container log; `quiet` turns
 * that off, to tell the cost of logging from the cost of the other hops.
 */
export function supergatewayAloneRunArgs(container: PublishedContainer, productImage: string, serverArgs: string, quiet = false): string[] {
  return [
    ...publishedRunArgs(container),
    ...['--user', 'mcp'],
    ...['--entrypoint', 'supergateway'],
    productImage,
    ...['--stdio', `/usr/local/bin/mcp-server ${serverArgs}`],
    ...['--outputTransport', 'streamableHttp'],
    ...['--port', String(SUPERGATEWAY_PORT)],
    '--stateful',
    ...(quiet ? ['--logLevel', 'none'] : []),
  ];
}

/** The guide's runtime image as built from bench/guide-runtime, started by its own command. */
export function guideRunArgs(container: PublishedContainer, guideImage: string): string[] {
  return [...publishedRunArgs(container), guideImage];
}

/** A detached bench container on the bench network, Supergateway's port published on loopback only. */
function publishedRunArgs(container: PublishedContainer): string[] {
  return [
    'run',
    '--detach',
    ...['--name', container.name],
    ...['--label', `${BENCH_LABEL}=1`],
    ...['--network', container.network],
    ...['--publish', `127.0.0.1:${container.hostPort}:${SUPERGATEWAY_PORT}`],
  ];
}

export const startedAtArgs = (name: string) => ['inspect', '--format', '{{.State.StartedAt}}', name];
export const memUsageArgs = (name: string) => ['stats', '--no-stream', '--format', '{{.MemUsage}}', name];
export const imageSizeArgs = (image: string) => ['image', 'inspect', '--format', '{{.Size}}', image];
/** One JSON object per step, newest first, sizes in bytes. */
export const historyArgs = (image: string) => ['history', '--no-trunc', '--human=false', '--format', '{{json .}}', image];
export const serverVersionArgs = () => ['version', '--format', '{{.Server.Version}}'];
