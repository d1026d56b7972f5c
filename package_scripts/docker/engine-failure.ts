import { endpointOf, sshDestination, type EngineSelection } from './target.js';

/** How the docker client itself reports an engine it could not reach or select (ssh failures come wrapped in "error during connect"). */
const DOCKER_CLIENT_FAILURE =
  /error during connect|Cannot connect to the Docker daemon|connection helper|dial-stdio|context not found|context "[^"]*" does not exist|Current context "[^"]*" is not found|permission denied while trying to connect to the Docker daemon socket|docker\.sock: connect/i;

/**
 * What a docker client's stderr means when the engine could not be reached,
 * worded for the selection in force (the setting and where it was set) with
 * the fix. Undefined: not a reachability failure.
 */
export function engineFailure(stderr: string, selection: EngineSelection): string | undefined {
  // Only the docker client's own words count: `docker exec` passes on its command's stderr,
  // and a probe's "Connection refused" inside the container says nothing about the engine.
  if (!DOCKER_CLIENT_FAILURE.test(stderr)) return undefined;
  const chosen = selection.variable
    ? `${selection.variable}=${selection.value} (${selection.source.replace(/^(DOCKER_HOST|DOCKER_CONTEXT) /, '')})`
    : selection.source;
  const sshLine = /stderr=([^\n]*(?:\n(?!\s*$)[^\n]*)*)/.exec(stderr)?.[1]?.trim();
  const remote = selection.variable === 'DOCKER_HOST' ? endpointOf(selection.value!).remote : undefined;
  const target = remote ? sshDestination(remote) : 'USER@HOST';
  const port = remote?.sshPort ? ` -p ${remote.sshPort}` : '';

  if (/context "[^"]*": context not found|context "[^"]*" does not exist|Current context "[^"]*" is not found/i.test(stderr)) {
    return `${chosen} names no Docker context. \`docker context ls\` lists them; \`docker context create NAME --docker host=ssh://user@host\` makes one (or set DOCKER_HOST=ssh://user@host instead)`;
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/i.test(stderr)) {
    return `The SSH host key of the engine's machine is not trusted: ${chosen}. Compare the key's fingerprint with the machine's own (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` there), then trust it once with \`ssh${port} ${target} true\` (answer yes), so that ~/.ssh/known_hosts holds it. Nothing was built or started`;
  }
  if (/Permission denied \(|Too many authentication failures/i.test(stderr)) {
    return `SSH refused the login for ${chosen}${sshLine ? ` (${sshLine})` : ''}. Load your key (\`ssh-add\`) or name it in ~/.ssh/config (IdentityFile); \`ssh${port} ${target} docker version\` must answer without a password prompt`;
  }
  if (
    /ssh: (connect to host|Could not resolve hostname)|Connection (refused|timed out)|No route to host|Name or service not known|Network is unreachable|Operation timed out/i.test(
      stderr,
    )
  ) {
    return `The engine selected by ${chosen} is not reachable${sshLine ? ` (${sshLine})` : ''}. Check the host name and port, that the machine is up and that its sshd (or engine) listens; \`ssh${port} ${target} docker version\` must answer. Nothing was built or started`;
  }
  if (/docker: (command )?not found|dial-stdio.*(not found|unknown command)/i.test(stderr)) {
    return `The machine selected by ${chosen} has no docker command for the ssh user. Install Docker there (Debian: apt-get install docker.io), and check that \`ssh ${target} docker version\` answers`;
  }
  if (/permission denied while trying to connect to the Docker daemon socket/i.test(stderr)) {
    return `The engine selected by ${chosen} refuses this user. On that machine add the ssh user to the docker group (\`sudo usermod -aG docker USER\`, then log in again) or use ssh://root@host`;
  }
  if (/error during connect|Cannot connect to the Docker daemon/i.test(stderr)) {
    // A socket on this machine: the fix is starting the engine here, as without DOCKER_HOST.
    if (selection.variable === 'DOCKER_HOST' && /^unix:\/\//.test(selection.value ?? '')) {
      return `The Docker engine at ${chosen} is not reachable. Start Docker (Docker Desktop, or \`sudo systemctl start docker\`) or fix DOCKER_HOST, and retry; \`docker info\` should answer`;
    }
    return `The engine selected by ${chosen} is not reachable. Check that Docker runs there; \`docker info\` with the same setting must answer`;
  }
  return undefined;
}
