import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readCertificateArgs } from '../docker/argv.js';
import type { DockerEngine } from '../docker/engine.js';
import type { Settings } from '../settings/load.js';

/** Where the served certificate is saved: beside the env file, where client configurations point. */
export function certificateFile(settings: Pick<Settings, 'envFile' | 'NAME'>): string {
  return join(dirname(settings.envFile), '.mcp-sandbox', settings.NAME, 'cert.pem');
}

/** The certificate the instance serves (self-signed or CERT_FILE), read through the engine and saved (start and connect). */
export async function saveServedCertificate(docker: DockerEngine, settings: Settings): Promise<{ file: string; certificate: X509Certificate }> {
  const pem = (await docker.run(readCertificateArgs(settings.NAME))).stdout;
  const certificate = new X509Certificate(pem);
  const file = certificateFile(settings);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${pem.trim()}\n`);
  return { file, certificate };
}
