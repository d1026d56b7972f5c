import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '../errors.js';
import { writeSecretFile } from '../secret-file.js';
import type { Env } from '../settings/load.js';
import {
  REQ_CONFIG,
  caExtensionsConfig,
  constraintsFor,
  instanceSans,
  leafExtensionsConfig,
  notPermitted,
  sanText,
  type Constraints,
  type SanEntry,
} from './names.js';

/**
 * The local CA: made once per user, on the host, with openssl. Its key stays
 * in the user's config folder (0600, folder 0700): never in a build context,
 * an image or a container. It signs each nginx instance's certificate at
 * `start`; the instance gets that certificate and its own key the way it gets
 * CERT_FILE/KEY_FILE (read-only mounts), so the CA key never leaves the host.
 *
 * The key is not encrypted (as mkcert's is not): a passphrase would have to be
 * typed at every start. The name constraints are what limits the damage of a
 * stolen key: it can only speak for loopback names and the user's own names.
 */

/** The CA certificate is valid ten years; an instance's certificate 397 days (what browsers accept) and is renewed when 30 remain. */
const CA_DAYS = 3650;
const LEAF_DAYS = 397;
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export interface CaPaths {
  dir: string;
  cert: string;
  key: string;
  /** The constraints the CA was made with (they are in the certificate too; this is what `start` checks against). */
  meta: string;
}

/** Where the CA lives: MCP_SANDBOX_CA_DIR (tests), else the user's config folder. */
export function caPaths(env: Env, platform: NodeJS.Platform = process.platform): CaPaths {
  const home = env.HOME || env.USERPROFILE || homedir();
  const config =
    platform === 'win32'
      ? env.APPDATA || join(home, 'AppData', 'Roaming')
      : env.XDG_CONFIG_HOME || join(home, platform === 'darwin' ? 'Library/Application Support' : '.config');
  const dir = env.MCP_SANDBOX_CA_DIR || join(config, 'mcp-sandbox', 'ca');
  return { dir, cert: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem'), meta: join(dir, 'ca.json') };
}

export interface LocalCa {
  paths: CaPaths;
  certificate: X509Certificate;
  constraints: Constraints;
  /** Short and stable: names the CA's file in the system store and its NSS nickname. */
  id: string;
  /** The CA's subject CN, as stores show it. */
  commonName: string;
}

export class OpensslMissingError extends Error {
  constructor() {
    super('openssl is not on PATH');
    this.name = 'OpensslMissingError';
  }
}

async function openssl(args: string[]): Promise<string> {
  const result = await execa('openssl', args, { reject: false, stdin: 'ignore' });
  if ((result as { code?: string }).code === 'ENOENT' || (result.failed && result.exitCode === undefined)) throw new OpensslMissingError();
  if (result.exitCode !== 0) throw new UsageError(`openssl ${args[0]} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  return result.stdout;
}

/** Whether the host has openssl (the CA needs it; without it the gateway makes a self-signed certificate, as before). */
export async function hasOpenssl(): Promise<boolean> {
  try {
    await openssl(['version']);
    return true;
  } catch (error) {
    if (error instanceof OpensslMissingError) return false;
    throw error;
  }
}

/** Only the characters a subject value needs (openssl -subj treats / and = specially). */
const subjectSafe = (text: string) => text.replace(/[^A-Za-z0-9._@-]/g, '-').slice(0, 40);

function newEcKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Writes through a temporary name, so a reader never sees half a file; a key (0600) through the one secret-file writer. */
function writeAtomic(file: string, content: string, mode: 0o600 | 0o644): void {
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  if (mode === 0o600) {
    writeSecretFile(temporary, content, { replace: false, existsMessage: `${temporary} exists; remove it and start again` });
  } else {
    writeFileSync(temporary, content, { mode });
    chmodSync(temporary, mode);
  }
  renameSync(temporary, file);
}

function loadCa(paths: CaPaths): LocalCa {
  const certificate = new X509Certificate(readFileSync(paths.cert));
  const constraints = (JSON.parse(readFileSync(paths.meta, 'utf8')) as { constraints: Constraints }).constraints;
  const commonName = /CN=([^\n]*)/.exec(certificate.subject)?.[1] ?? 'mcp-sandbox local CA';
  return { paths, certificate, constraints, id: certificate.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase(), commonName };
}

/** The CA when it has been made, else undefined (nothing is created). */
export function findCa(env: Env): LocalCa | undefined {
  const paths = caPaths(env);
  if (!existsSync(paths.cert) || !existsSync(paths.meta)) return undefined;
  return loadCa(paths);
}

/**
 * The CA, made now when it does not exist. Its name constraints are the
 * loopback names plus `tlsHostnames` as they are now: a name added later
 * is outside them (see ensureInstanceCertificate).
 */
export async function ensureCa(env: Env, tlsHostnames: string): Promise<{ ca: LocalCa; created: boolean }> {
  const existing = findCa(env);
  if (existing) return { ca: existing, created: false };
  const paths = caPaths(env);
  mkdirSync(dirname(paths.dir), { recursive: true, mode: 0o700 });
  // Made in a sibling folder and renamed into place: two starts at once never mix two CAs.
  const staging = mkdtempSync(join(dirname(paths.dir), '.ca-'));
  try {
    chmodSync(staging, 0o700);
    const constraints = constraintsFor(tlsHostnames);
    const user = subjectSafe(env.USER || env.USERNAME || userInfo().username);
    const commonName = `mcp-sandbox local CA ${user}@${subjectSafe(hostname())}`;
    writeAtomic(join(staging, 'ca-key.pem'), newEcKeyPem(), 0o600);
    writeFileSync(join(staging, 'openssl.cnf'), caExtensionsConfig(constraints));
    const pem = await openssl([
      'req',
      '-x509',
      '-new',
      ...['-key', join(staging, 'ca-key.pem')],
      ...['-config', join(staging, 'openssl.cnf')],
      ...['-extensions', 'ca_ext'],
      ...['-subj', `/O=mcp-sandbox/CN=${commonName}`],
      ...['-days', String(CA_DAYS)],
      '-sha256',
      ...['-set_serial', `0x${randomBytes(16).toString('hex')}`],
    ]);
    rmSync(join(staging, 'openssl.cnf'));
    writeFileSync(join(staging, 'ca.pem'), pem, { mode: 0o644 });
    writeFileSync(join(staging, 'ca.json'), `${JSON.stringify({ constraints, created: new Date().toISOString() }, null, 2)}\n`, { mode: 0o644 });
    try {
      renameSync(staging, paths.dir);
    } catch (error) {
      // Another start made it first: use that one.
      if (findCa(env)) return { ca: findCa(env)!, created: false };
      throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { ca: loadCa(paths), created: true };
}

export interface InstanceCertificate {
  /** The instance's certificate followed by the CA's (nginx serves both). */
  certFile: string;
  keyFile: string;
  fingerprint: string;
  /** True when it was signed now (new, renewed, or its names changed). */
  issued: boolean;
}

/** Where an instance's certificate and key are kept: beside the saved cert.pem, in a 0700 folder. */
export function instanceCertificatePaths(instanceDir: string): { dir: string; certFile: string; keyFile: string; sansFile: string } {
  const dir = join(instanceDir, 'tls');
  return { dir, certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), sansFile: join(dir, 'names.txt') };
}

/** The kept certificate, when it can be served again: issued by this CA, for these names, key matching, and not about to expire. */
function reusable(paths: ReturnType<typeof instanceCertificatePaths>, ca: LocalCa, sans: string, now: number): X509Certificate | undefined {
  try {
    if (readFileSync(paths.sansFile, 'utf8').trim() !== sans) return undefined;
    const leaf = new X509Certificate(readFileSync(paths.certFile));
    if (!leaf.checkIssued(ca.certificate) || !leaf.verify(ca.certificate.publicKey)) return undefined;
    if (!leaf.checkPrivateKey(createPrivateKey(readFileSync(paths.keyFile)))) return undefined;
    if (Date.parse(leaf.validTo) - now < RENEW_BEFORE_MS) return undefined;
    return leaf;
  } catch {
    return undefined;
  }
}

/** A clear refusal when TLS_HOSTNAMES names something the CA may not sign. */
export function outsideConstraintsError(outside: readonly SanEntry[], ca: LocalCa): UsageError {
  const names = sanText(outside);
  return new UsageError(
    `TLS_HOSTNAMES names ${names}, which the local CA (${ca.paths.cert}) may not sign: its name constraints allow only ${[...ca.constraints.dns, ...ca.constraints.ip].join(', ')}`,
    [
      'Its constraints are fixed when it is made (from TLS_HOSTNAMES at that time), so that a stolen CA key cannot speak for other names. Either:',
      `  - make a new CA that includes the name: npm run untrust -- --delete (removes the old one from the trust stores and deletes it), then start again and npm run trust; every instance gets a new certificate at its next start;`,
      '  - or bring your own certificate for that name with CERT_FILE and KEY_FILE.',
    ].join('\n'),
  );
}

/**
 * The instance's certificate, kept across restarts in `instanceDir`: reused
 * when still good, else a new key and certificate signed by the CA.
 */
export async function ensureInstanceCertificate(ca: LocalCa, instanceDir: string, tlsHostnames: string, now = Date.now()): Promise<InstanceCertificate> {
  const sansList = instanceSans(tlsHostnames);
  const outside = notPermitted(sansList, ca.constraints);
  if (outside.length > 0) throw outsideConstraintsError(outside, ca);
  const sans = sanText(sansList);
  const paths = instanceCertificatePaths(instanceDir);
  const kept = reusable(paths, ca, sans, now);
  if (kept) return { certFile: paths.certFile, keyFile: paths.keyFile, fingerprint: kept.fingerprint256, issued: false };

  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  const work = mkdtempSync(join(paths.dir, '.issue-'));
  try {
    const key = join(work, 'key.pem');
    writeAtomic(key, newEcKeyPem(), 0o600);
    writeFileSync(join(work, 'openssl.cnf'), `${REQ_CONFIG}\n${leafExtensionsConfig(sansList)}`);
    const csr = await openssl([
      'req',
      '-new',
      ...['-key', key],
      ...['-config', join(work, 'openssl.cnf')],
      ...['-subj', '/O=mcp-sandbox/CN=mcp-sandbox instance'],
    ]);
    writeFileSync(join(work, 'req.csr'), csr);
    const leafPem = await openssl([
      'x509',
      '-req',
      ...['-in', join(work, 'req.csr')],
      ...['-CA', ca.paths.cert],
      ...['-CAkey', ca.paths.key],
      ...['-set_serial', `0x${randomBytes(16).toString('hex')}`],
      ...['-days', String(LEAF_DAYS)],
      '-sha256',
      ...['-extfile', join(work, 'openssl.cnf')],
      ...['-extensions', 'leaf_ext'],
    ]);
    const leaf = new X509Certificate(leafPem);
    // Key first, then certificate, then names: a half-done renewal is never taken as reusable.
    rmSync(paths.sansFile, { force: true });
    renameSync(key, paths.keyFile);
    writeAtomic(paths.certFile, `${leafPem.trim()}\n${readFileSync(ca.paths.cert, 'utf8').trim()}\n`, 0o644);
    writeAtomic(paths.sansFile, `${sans}\n`, 0o644);
    return { certFile: paths.certFile, keyFile: paths.keyFile, fingerprint: leaf.fingerprint256, issued: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Whether `certificate` (an instance's) was issued by this CA. */
export function issuedBy(certificate: X509Certificate, ca: LocalCa): boolean {
  return certificate.checkIssued(ca.certificate) && certificate.verify(ca.certificate.publicKey);
}
