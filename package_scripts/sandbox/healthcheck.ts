/**
 * The image's HEALTHCHECK (Dockerfile), as data: `docker run` inherits it from
 * the image, exports write it out (Compose healthcheck, Kubernetes probes).
 * test/unit/export-compose.test.ts holds it equal to the Dockerfile's line.
 */
export const IMAGE_HEALTHCHECK = {
  command: ['/opt/sandbox/bin/healthcheck'],
  intervalSeconds: 10,
  timeoutSeconds: 5,
  startPeriodSeconds: 10,
  retries: 3,
} as const;
