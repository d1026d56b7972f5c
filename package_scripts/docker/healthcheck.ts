/**
 * The image's HEALTHCHECK (Dockerfile), as data: `docker run` inherits it from
 * the image, exports write it out (Compose healthcheck, Kubernetes probes), and
 * `start` runs it through `docker exec`. test/unit/export-compose.test.ts holds
 * it equal to the Dockerfile's line.
 *
 * The engine runs it as root, with the container's capabilities and its whole
 * environment, every interval. It first becomes `nobody` (no capability, no new
 * privileges) and empties its environment: the check reads state only (the
 * session gateway's /healthz, /run/sandbox/auth and public-url) and needs
 * neither root nor any variable, so nothing in the container's environment
 * reaches code that runs as root every 10 s.
 */
export const IMAGE_HEALTHCHECK = {
  command: [
    '/usr/bin/setpriv',
    '--reuid=nobody',
    '--regid=nogroup',
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
    '/usr/bin/env',
    '-i',
    'PATH=/usr/bin:/bin',
    '/opt/sandbox/bin/healthcheck',
  ],
  intervalSeconds: 10,
  timeoutSeconds: 5,
  startPeriodSeconds: 10,
  retries: 3,
} as const;
