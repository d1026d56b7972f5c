import type { EngineDescriptor } from './engine.js';

/** Docker Engine, Docker Desktop: the reference; the profile renders as is. */
export const dockerEngine: EngineDescriptor = {
  kind: 'docker',
  displayName: 'Docker',
  // Anything that is not another engine: Docker names its components "Engine", "containerd"...
  identifies: () => true,
  seccomp: 'per-container',
  extraTmpfsArgs: [],
  extraLimitArgs: [],
  // Docker 20.10 and later resolve host-gateway to the host's address on the default bridge.
  hostAliases: [{ name: 'host.docker.internal', address: 'host-gateway' }],
  rootlessCannotPublishPrivileged: false,
};
