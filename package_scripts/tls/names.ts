import { BlockList, isIP } from 'node:net';

/**
 * The names of the local CA and of the certificates it signs, as pure
 * functions: which names an instance's certificate carries, which names the
 * CA's X.509 name constraints permit, and the OpenSSL configuration text for
 * both. Everything that touches files or runs openssl is in tls/ca.ts.
 */

/** One subjectAltName entry: a DNS name or an IP address (IPv4 or IPv6). */
export type SanEntry = { kind: 'DNS'; value: string } | { kind: 'IP'; value: string };

/** What every instance's certificate names: the loopback names a local client uses. */
export const LOOPBACK_SANS: readonly SanEntry[] = [
  { kind: 'DNS', value: 'localhost' },
  { kind: 'IP', value: '127.0.0.1' },
  { kind: 'IP', value: '::1' },
];

/**
 * What the CA may sign whatever the user adds: localhost and every name under
 * it (RFC 6761 keeps .localhost on the loopback), 127.0.0.0/8 and ::1.
 */
export interface Constraints {
  /** DNS constraints in RFC 5280 form: `name` matches it and every name below it; `.name` only the names below. */
  dns: string[];
  /** Address ranges as CIDR (`127.0.0.0/8`, `::1/128`). */
  ip: string[];
}

export const LOOPBACK_CONSTRAINTS: Constraints = { dns: ['localhost', '.localhost'], ip: ['127.0.0.0/8', '::1/128'] };

/** TLS_HOSTNAMES (`DNS:name,IP:address`, already validated by the settings schema) as entries, names lower-cased. */
export function parseTlsHostnames(value: string): SanEntry[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [kind, ...rest] = entry.split(':');
      const name = rest.join(':');
      return kind === 'IP' ? { kind: 'IP' as const, value: name } : { kind: 'DNS' as const, value: name.toLowerCase() };
    });
}

function sameEntry(a: SanEntry, b: SanEntry): boolean {
  return a.kind === b.kind && a.value === b.value;
}

/** An instance's names: loopback first, then TLS_HOSTNAMES, each once. */
export function instanceSans(tlsHostnames: string): SanEntry[] {
  const all: SanEntry[] = [];
  for (const entry of [...LOOPBACK_SANS, ...parseTlsHostnames(tlsHostnames)]) {
    if (!all.some((e) => sameEntry(e, entry))) all.push(entry);
  }
  return all;
}

/** The subjectAltName value as OpenSSL writes and reads it: `DNS:localhost,IP:127.0.0.1,...`. */
export function sanText(sans: readonly SanEntry[]): string {
  return sans.map((s) => `${s.kind}:${s.value}`).join(',');
}

/** The CA's constraints for the names the user adds at its creation: each DNS name (and what is below it), each address alone. */
export function constraintsFor(tlsHostnames: string): Constraints {
  const constraints: Constraints = { dns: [...LOOPBACK_CONSTRAINTS.dns], ip: [...LOOPBACK_CONSTRAINTS.ip] };
  for (const entry of parseTlsHostnames(tlsHostnames)) {
    if (isPermitted(entry, constraints)) continue;
    if (entry.kind === 'DNS') constraints.dns.push(entry.value);
    else constraints.ip.push(`${entry.value}/${isIP(entry.value) === 6 ? 128 : 32}`);
  }
  return constraints;
}

/** RFC 5280 section 4.2.1.10 as OpenSSL applies it, for the names this tool writes. */
export function isPermitted(entry: SanEntry, constraints: Constraints): boolean {
  if (entry.kind === 'DNS') {
    const name = entry.value.toLowerCase();
    return constraints.dns.some((c) => (c.startsWith('.') ? name.endsWith(c) : name === c || name.endsWith(`.${c}`)));
  }
  const family = isIP(entry.value);
  if (family === 0) return false;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  return constraints.ip.some((cidr) => {
    const [network, prefix] = cidr.split('/');
    if (isIP(network!) !== family) return false;
    const list = new BlockList();
    list.addSubnet(network!, Number(prefix), type);
    return list.check(entry.value, type);
  });
}

/** The entries of `sans` the constraints do not permit (empty: the CA may sign them all). */
export function notPermitted(sans: readonly SanEntry[], constraints: Constraints): SanEntry[] {
  return sans.filter((s) => !isPermitted(s, constraints));
}

/** A CIDR as OpenSSL's name-constraint syntax wants it: address/netmask. */
export function cidrToMask(cidr: string): string {
  const [network, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  if (isIP(network!) === 4) {
    const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return `${network}/${[24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 1) {
    const ones = Math.max(0, Math.min(16, prefix - i * 16));
    groups.push((ones === 0 ? 0 : (0xffff << (16 - ones)) & 0xffff).toString(16));
  }
  return `${network}/${groups.join(':')}`;
}

/** What `openssl req` needs of a configuration when -subj gives the whole subject. */
export const REQ_CONFIG = '[ req ]\ndistinguished_name = dn\n[ dn ]';

/**
 * The CA's extensions: a CA that signs no other CA (pathlen 0), for TLS
 * servers only (extendedKeyUsage, which OpenSSL, NSS and Windows apply to the
 * chain), and the critical name constraints that keep a stolen key from
 * speaking for any other site.
 */
export function caExtensionsConfig(constraints: Constraints): string {
  const permitted = [
    ...constraints.dns.map((name, i) => `permitted;DNS.${i} = ${name}`),
    ...constraints.ip.map((cidr, i) => `permitted;IP.${i} = ${cidrToMask(cidr)}`),
  ];
  return [
    REQ_CONFIG,
    '[ ca_ext ]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'nameConstraints = critical, @constraints',
    '[ constraints ]',
    ...permitted,
    '',
  ].join('\n');
}

/** An instance's certificate: a TLS server, for exactly these names. */
export function leafExtensionsConfig(sans: readonly SanEntry[]): string {
  return [
    '[ leaf_ext ]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
    `subjectAltName = ${sanText(sans)}`,
    '',
  ].join('\n');
}
