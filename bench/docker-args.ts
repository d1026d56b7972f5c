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
  /** The product image plus Supergateway (bench/supergateway/Dockerfile): the reference. */
  supergatewayImage: string;
  supergatewayContainer: string;
  quietSupergatewayContainer: string;
  /** The session gateway alone in the product image, its port published (the floor's second step). */
  floorContainer: string;
  guideImage: string;
  guideContainer: string;
  /** The local HTTPS server the egress scenario fetches from, on `network`. */
  egressTarget: string;
  network: string;
}

export function benchNames(prefix: string): BenchNames {
  return {
    chain: `${prefix}-chain`,
    npmMcpChangeTag: 'bench-npm-mcp-change',
    pythonTag: 'bench-python',
    supergatewayImage: `${prefix}-supergateway:latest`,
    supergatewayContainer: `${prefix}-supergateway`,
    quietSupergatewayContainer: `${prefix}-supergateway-quiet`,
    floorContainer: `${prefix}-floor`,
    guideImage: `${prefix}-guide:latest`,
    guideContainer: `${prefix}-guide`,
    egressTarget: `${prefix}-egress-target`,
    network: `${prefix}-net`,
  };
}

/** Supergateway's port inside the reference image and the guide image (and the session gateway's in the product). */
export const SUPERGATEWAY_PORT = 8000;

export const createNetworkArgs = (network: string) => ['network', 'create', '--label', `${BENCH_LABEL}=1`, network];
export const removeNetworkArgs = (network: string) => ['network', 'rm', network];
export const removeContainerArgs = (name: string) => ['rm', '--force', name];
export const removeImageArgs = (image: string) => ['image', 'rm', image];

export function guideBuildArgs(contextDir: string, image: string, baseImage: string): string[] {
  return ['build', '--force-rm', '--label', `${BENCH_LABEL}=1`, '--build-arg', `BASE_IMAGE=${baseImage}`, '--tag', image, contextDir];
}

/** bench/supergateway/Dockerfile, built FROM the product image (the reference carries what the product does not). */
export function supergatewayBuildArgs(contextDir: string, image: string, productImage: string): string[] {
  return ['build', '--force-rm', '--label', `${BENCH_LABEL}=1`, '--build-arg', `PRODUCT_IMAGE=${productImage}`, '--tag', image, contextDir];
}

interface PublishedContainer {
  name: string;
  network: string;
  /** Published on 127.0.0.1 only, for the bench. */
  hostPort: number;
}

/**
 * The reference image (the product image plus Supergateway) with Supergateway
 * as its entrypoint: the same installed server, stateful as the product
 * runs it, but no nginx, no TLS, no token, no firewall, no log filter, no
 * resource limits, and port 8000 published to loopback. Supergateway's default
 * log level (info) writes every message to the container log; `quiet` turns
 * that off, to tell the cost of logging from the cost of the other hops.
 */
export function supergatewayAloneRunArgs(container: PublishedContainer, referenceImage: string, serverArgs: string, quiet = false): string[] {
  return [
    ...publishedRunArgs(container),
    ...['--user', 'mcp'],
    ...['--entrypoint', 'supergateway'],
    referenceImage,
    ...['--stdio', `/usr/local/bin/mcp-server ${serverArgs}`],
    ...['--outputTransport', 'streamableHttp'],
    ...['--port', String(SUPERGATEWAY_PORT)],
    '--stateful',
    ...(quiet ? ['--logLevel', 'none'] : []),
  ];
}

/**
 * Loaded before the gateway's bundle in the floor container: the session
 * gateway binds 127.0.0.1 only (in the product, nginx or a tunnel agent is its
 * only client), which a published port cannot reach; this turns that one
 * address into 0.0.0.0 and changes nothing else. A data: URL, so no file
 * crosses into the container.
 */
export const LISTEN_ON_ALL = `data:text/javascript,${encodeURIComponent(
  "import http from 'node:http'; const listen = http.Server.prototype.listen; " +
    "http.Server.prototype.listen = function (port, host, ...rest) { return listen.call(this, port, host === '127.0.0.1' ? '0.0.0.0' : host, ...rest); };",
)}`;

/**
 * The floor's second step: the product image's session gateway bundle run
 * directly, as "mcp" (the user it drops to in the product), with the chain's
 * server arguments and log level, and the chain's default limits (MCP_CPUS=1,
 * MCP_MEMORY=1g), so that the step from here to the chain is nginx, TLS and
 * the sandbox's hardening. No nginx, no TLS, no firewall; port published on loopback.
 */
export function floorContainerRunArgs(container: PublishedContainer, productImage: string, serverArgs: string): string[] {
  return [
    ...publishedRunArgs(container),
    ...['--user', 'mcp'],
    ...['--cpus', '1', '--memory', '1g'],
    ...['--env', `NPM_MCP_ARGS=${serverArgs}`, '--env', 'LOG_LEVEL=info', '--env', `GATEWAY_PORT=${SUPERGATEWAY_PORT}`],
    ...['--entrypoint', 'node'],
    productImage,
    ...['--import', LISTEN_ON_ALL, '/opt/session-gateway/gateway.mjs'],
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
