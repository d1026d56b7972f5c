/**
 * What one MCP round trip found (instance/readiness.ts makes them): the
 * types the readiness probe and the CommandContext (context.ts, where tests
 * inject a probe) share, below both.
 */

export interface ProbeResult {
  protocolVersion: string;
  serverName?: string;
  tools: string[];
  toolsListed: boolean;
  ms: number;
}

export interface ProbeOutcome {
  ok: boolean;
  /** Where the round trip went: the client's endpoint, or the container's loopback. */
  path: 'endpoint' | 'internal';
  result?: ProbeResult;
  error?: string;
  /** The MCP server's own stderr lines, when it failed. */
  serverLines: string[];
  /** Worth another try (the endpoint is not up yet), as opposed to a failed server. */
  retryable: boolean;
  /** The endpoint answered HTTP (whatever the status): it is reachable from here. */
  httpAnswered?: boolean;
}

export interface EndpointProbeTarget {
  url: string;
  /** The whole Authorization header. */
  authorization: string;
  /** SHA-256 fingerprint of the saved certificate the endpoint must present. */
  fingerprint?: string;
  timeoutSeconds: number;
}
