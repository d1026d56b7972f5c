/**
 * DOCKER_HOST and DOCKER_CONTEXT as values: the docker CLI's own rules, so a
 * wrong one is exit 2 before any docker command. Which engine is then chosen
 * is docker/target.ts's.
 */

/** What the docker CLI accepts in DOCKER_HOST (a bare host:port means tcp). */
export const DOCKER_HOST_SCHEMES = ['unix', 'tcp', 'ssh', 'npipe'] as const;

/** The setting's problem, worded for the user, or undefined when the docker CLI would accept it. */
export function dockerHostIssue(value: string, setting = 'DOCKER_HOST'): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1];
  if (scheme === undefined) {
    if (/^[A-Za-z0-9.-]+:\d{1,5}$/.test(value) || /^\[[0-9A-Fa-f:]+\]:\d{1,5}$/.test(value)) return undefined;
    return `${setting}=${value} is not an engine address: use ssh://user@host, tcp://host:2376 or unix:///path/to/docker.sock`;
  }
  if (!(DOCKER_HOST_SCHEMES as readonly string[]).includes(scheme.toLowerCase())) {
    return `${setting}=${value}: the docker CLI does not support ${scheme}://; use ${DOCKER_HOST_SCHEMES.map((s) => `${s}://`).join(', ')} (for a remote machine: ssh://user@host)`;
  }
  if (scheme.toLowerCase() === 'ssh') {
    try {
      const url = new URL(value);
      if (!url.hostname) throw new Error('no host');
      if (url.pathname !== '' && url.pathname !== '/') return `${setting}=${value}: an ssh:// address takes no path; use ssh://user@host[:port]`;
    } catch {
      return `${setting}=${value} is not a valid ssh:// address; use ssh://user@host[:port]`;
    }
  }
  return undefined;
}

/** Docker's own rule for context names. */
export function dockerContextIssue(value: string, setting = 'DOCKER_CONTEXT'): string | undefined {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/.test(value) ? undefined : `${setting}=${value} is not a Docker context name: \`docker context ls\` lists them`;
}
