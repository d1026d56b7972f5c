import { dirname, join } from 'node:path';
import type { CommandContext } from '../context.js';
import type { Settings } from '../settings/load.js';
import { publishesPort } from '../templates/registry.js';
import { ensureCa, ensureInstanceCertificate, findCa, hasOpenssl, instanceCertificatePaths } from './ca.js';
import { systemTrusts } from './trust-state.js';

/** The folder beside the env file where an instance's saved certificate and its CA-signed pair are kept. */
export const instanceDir = (settings: Pick<Settings, 'envFile' | 'NAME'>) => join(dirname(settings.envFile), '.mcp-sandbox', settings.NAME);

/**
 * A published port without CERT_FILE/KEY_FILE: the instance's certificate signed by the
 * local CA on the host (made at the first start), handed to the container as
 * CERT_FILE/KEY_FILE would be. Without openssl on the host the gateway makes
 * a self-signed certificate as before, and start says so.
 */
export async function withLocalCaCertificate(ctx: CommandContext, settings: Settings, options: { dryRun: boolean }): Promise<Settings> {
  if (!publishesPort(settings.template) || settings.tlsFiles) return settings;
  const tlsHostnames = settings.gatewayEnv.TLS_HOSTNAMES ?? '';
  if (options.dryRun) {
    // Nothing is made by a dry run: the mounts are shown as start would make them.
    const paths = instanceCertificatePaths(instanceDir(settings));
    return { ...settings, tlsFiles: { certFile: paths.certFile, keyFile: paths.keyFile, fingerprint: '', selfSigned: false, issuer: 'the local CA' } };
  }
  if (!findCa(ctx.hostEnv) && !(await hasOpenssl())) {
    ctx.out.warn(
      'openssl is not on PATH: no local CA, the gateway makes a self-signed certificate (install openssl to get a certificate `npm run trust` can make trusted)',
    );
    return settings;
  }
  const { ca, created } = await ensureCa(ctx.hostEnv, tlsHostnames);
  if (created) ctx.out.info(`Made the local CA ${ca.paths.cert} (key mode 0600, never leaves this machine); npm run trust adds it to the trust store.`);
  const leaf = await ensureInstanceCertificate(ca, instanceDir(settings), tlsHostnames);
  if (leaf.issued) ctx.out.info(`Signed a new certificate for ${settings.NAME} with the local CA.`);
  return {
    ...settings,
    tlsFiles: {
      certFile: leaf.certFile,
      keyFile: leaf.keyFile,
      fingerprint: leaf.fingerprint,
      selfSigned: false,
      issuer: ca.certificate.subject.replace(/\n/g, ', '),
      localCa: { caFile: ca.paths.cert, trusted: await systemTrusts(ca, ctx.hostEnv) },
    },
  };
}
