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
  rootlessCannotPublishPrivileged: false,
};
