import { remoteReach } from '../instance/endpoint.js';
import type { Check } from './checks.js';
import type { EngineEndpoint, RemoteHost } from '../docker/target.js';

/**
 * `npm run doctor`'s verdicts for an engine on another machine (DOCKER_HOST=ssh://...
 * or a context pointing there), as pure functions like checks.ts.
 */

/** The engine line says which engine answered, and who chose it. */
export function withEngineSource(check: Check, endpoint: EngineEndpoint | undefined, source: string): Check {
  if (!endpoint?.remote) return check;
  return { ...check, detail: `${check.detail} at ${endpoint.address}, another machine (${source})` };
}

/** A remote engine that did not answer: the fix is the SSH access or the setting, not starting Docker here. */
export function remoteEngineFailure(message: string): Check {
  return {
    name: 'engine',
    verdict: 'fail',
    detail: message,
    fix: 'Fix the SSH access or the setting named above (docs/REMOTE.md, "Setting up SSH access"); `docker info` with the same DOCKER_HOST or context must answer',
  };
}

/** The port is published on the remote machine: nothing to probe here. */
export function remotePortCheck(port: number, bindAddress: string, remote: RemoteHost): Check {
  const reach = remoteReach(bindAddress, port, remote);
  return {
    name: 'port',
    verdict: 'pass',
    detail: reach.sshForward
      ? `${bindAddress}:${port} on ${remote.hostname} (its loopback): clients here use \`${reach.sshForward}\``
      : `${bindAddress}:${port} on ${remote.hostname}; the engine there checks it at start`,
  };
}

/** CERT_FILE and KEY_FILE are this machine's files: a remote engine cannot mount them (start refuses them). */
export function remoteCertificateCheck(certFile: string, address: string): Check {
  return {
    name: 'certificate',
    verdict: 'fail',
    detail: `CERT_FILE ${certFile} is a file on this machine; the remote engine (${address}) cannot mount it`,
    fix: 'Leave CERT_FILE and KEY_FILE empty (the self-signed certificate names the remote host), or use a local engine',
  };
}

/** The base image must be on the remote engine, or pullable there. */
export function remoteBaseImageCheck(image: string, present: boolean, address: string): Check {
  if (present) return { name: 'base image', verdict: 'pass', detail: `${image} is on the remote engine (${address})` };
  return {
    name: 'base image',
    verdict: 'warn',
    detail: `${image} is not on the remote engine (${address}); \`npm run build\` there pulls it from its registry`,
    fix: `Without a registry on the remote, load it from this machine: docker save ${image} | docker -H ${address} load`,
  };
}
