import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientSnippets, nodeTrustEnv, shellLine, type Endpoint } from '../../package_scripts/clients/clients.js';
import {
  caExtensionsConfig,
  cidrToMask,
  constraintsFor,
  instanceSans,
  isPermitted,
  LOOPBACK_CONSTRAINTS,
  notPermitted,
  parseTlsHostnames,
  sanText,
} from '../../package_scripts/tls/names.js';
import { trustPlan, trustQueryArgv, untrustPlan, type TrustTarget } from '../../package_scripts/tls/trust-plan.js';
import { localCaCheck } from '../../package_scripts/doctor/checks.js';
import { bundleHolds } from '../../package_scripts/tls/trust-state.js';

const CA = '/home/ada/.config/mcp-sandbox/ca/ca.pem';
const base: TrustTarget = { platform: 'linux', caFile: CA, caId: '0123456789abcdef', home: '/home/ada' };

describe('names an instance certificate carries and the CA may sign', () => {
  it('loopback first, then TLS_HOSTNAMES, each once, DNS names lower-cased', () => {
    assert.deepEqual(parseTlsHostnames(' DNS:Box.Example , IP:192.168.1.5,,'), [
      { kind: 'DNS', value: 'box.example' },
      { kind: 'IP', value: '192.168.1.5' },
    ]);
    assert.equal(sanText(instanceSans('DNS:box.example,DNS:localhost,IP:127.0.0.1')), 'DNS:localhost,IP:127.0.0.1,IP:::1,DNS:box.example');
  });

  it('the constraints: loopback names and ranges, plus each added name (below-names included) and each added address alone', () => {
    assert.deepEqual(constraintsFor(''), LOOPBACK_CONSTRAINTS);
    assert.deepEqual(constraintsFor('DNS:box.example,IP:192.168.1.5,IP:fd00::7,DNS:app.localhost,IP:127.0.0.2'), {
      dns: ['localhost', '.localhost', 'box.example'],
      ip: ['127.0.0.0/8', '::1/128', '192.168.1.5/32', 'fd00::7/128'],
    });
  });

  it('RFC 5280 matching: a name and what is below it; addresses by range and family', () => {
    const c = constraintsFor('DNS:box.example,IP:192.168.1.5');
    const permitted = (kind: 'DNS' | 'IP', value: string) => isPermitted({ kind, value }, c);
    assert.equal(permitted('DNS', 'localhost'), true);
    assert.equal(permitted('DNS', 'mcp.localhost'), true);
    assert.equal(permitted('DNS', 'box.example'), true);
    assert.equal(permitted('DNS', 'a.box.example'), true);
    assert.equal(permitted('DNS', 'notbox.example'), false, 'a suffix that is not at a label boundary');
    assert.equal(permitted('DNS', 'example.com'), false);
    assert.equal(permitted('DNS', 'localhost.evil.com'), false);
    assert.equal(permitted('IP', '127.8.9.10'), true);
    assert.equal(permitted('IP', '::1'), true);
    assert.equal(permitted('IP', '192.168.1.5'), true);
    assert.equal(permitted('IP', '192.168.1.6'), false);
    assert.equal(permitted('IP', '::2'), false);
    assert.deepEqual(notPermitted(instanceSans('DNS:other.example,IP:10.0.0.1'), c), [
      { kind: 'DNS', value: 'other.example' },
      { kind: 'IP', value: '10.0.0.1' },
    ]);
  });

  it("OpenSSL's name-constraint syntax: address/netmask", () => {
    assert.equal(cidrToMask('127.0.0.0/8'), '127.0.0.0/255.0.0.0');
    assert.equal(cidrToMask('192.168.1.5/32'), '192.168.1.5/255.255.255.255');
    assert.equal(cidrToMask('::1/128'), '::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    assert.equal(cidrToMask('fd00::/8'), 'fd00::/ff00:0:0:0:0:0:0:0');
    assert.deepEqual(caExtensionsConfig(LOOPBACK_CONSTRAINTS).split('\n').slice(-7), [
      'nameConstraints = critical, @constraints',
      '[ constraints ]',
      'permitted;DNS.0 = localhost',
      'permitted;DNS.1 = .localhost',
      'permitted;IP.0 = 127.0.0.0/255.0.0.0',
      'permitted;IP.1 = ::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      '',
    ]);
  });
});

describe('trust store commands per platform', () => {
  it('Debian/Ubuntu as a user: sudo for the system store, certutil for each NSS database', () => {
    const target: TrustTarget = {
      ...base,
      linuxStore: 'debian',
      sudo: true,
      nssCertutil: true,
      nssDbs: ['/home/ada/.pki/nssdb', '/home/ada/.mozilla/firefox/x1.default-release'],
    };
    assert.deepEqual(trustPlan(target), {
      steps: [
        { store: 'system store', argv: ['sudo', 'install', '-m', '0644', CA, '/usr/local/share/ca-certificates/mcp-sandbox-0123456789abcdef.crt'] },
        { store: 'system store', argv: ['sudo', 'update-ca-certificates'] },
        {
          store: 'NSS database /home/ada/.pki/nssdb',
          argv: ['certutil', '-d', 'sql:/home/ada/.pki/nssdb', '-A', '-t', 'C,,', '-n', 'mcp-sandbox local CA 0123456789abcdef', '-i', CA],
        },
        {
          store: 'NSS database /home/ada/.mozilla/firefox/x1.default-release',
          argv: [
            'certutil',
            '-d',
            'sql:/home/ada/.mozilla/firefox/x1.default-release',
            '-A',
            '-t',
            'C,,',
            '-n',
            'mcp-sandbox local CA 0123456789abcdef',
            '-i',
            CA,
          ],
        },
      ],
      notes: [],
    });
    assert.deepEqual(untrustPlan(target), {
      steps: [
        { store: 'system store', argv: ['sudo', 'rm', '-f', '/usr/local/share/ca-certificates/mcp-sandbox-0123456789abcdef.crt'] },
        { store: 'system store', argv: ['sudo', 'update-ca-certificates', '--fresh'] },
        {
          store: 'NSS database /home/ada/.pki/nssdb',
          argv: ['certutil', '-d', 'sql:/home/ada/.pki/nssdb', '-D', '-n', 'mcp-sandbox local CA 0123456789abcdef'],
        },
        {
          store: 'NSS database /home/ada/.mozilla/firefox/x1.default-release',
          argv: ['certutil', '-d', 'sql:/home/ada/.mozilla/firefox/x1.default-release', '-D', '-n', 'mcp-sandbox local CA 0123456789abcdef'],
        },
      ],
      notes: [],
    });
  });

  it('p11-kit (Fedora, Arch) as root: trust anchor, no sudo; NSS databases without certutil become a note', () => {
    const target: TrustTarget = { ...base, linuxStore: 'p11-kit', sudo: false, nssCertutil: false, nssDbs: ['/home/ada/.pki/nssdb'] };
    const plan = trustPlan(target);
    assert.deepEqual(plan.steps, [{ store: 'system store', argv: ['trust', 'anchor', '--store', CA] }]);
    assert.equal(plan.notes.length, 1);
    assert.match(plan.notes[0]!, /libnss3-tools/);
    assert.deepEqual(untrustPlan(target).steps, [{ store: 'system store', argv: ['trust', 'anchor', '--remove', CA] }]);
  });

  it('Linux without a store tool: nothing to run, and it says so', () => {
    const plan = trustPlan({ ...base, linuxStore: 'none', nssDbs: [] });
    assert.deepEqual(plan.steps, []);
    assert.match(plan.notes[0]!, /by hand/);
  });

  it('macOS: the login keychain, removed by trust setting and by SHA-1', () => {
    const target: TrustTarget = { ...base, platform: 'darwin', home: '/Users/ada', caFile: '/Users/ada/ca.pem', sha1: 'AB12' };
    assert.deepEqual(trustPlan(target), {
      steps: [
        {
          store: 'login keychain',
          argv: ['security', 'add-trusted-cert', '-r', 'trustRoot', '-k', '/Users/ada/Library/Keychains/login.keychain-db', '/Users/ada/ca.pem'],
        },
      ],
      notes: [],
    });
    assert.deepEqual(untrustPlan(target).steps, [
      { store: 'login keychain', argv: ['security', 'remove-trusted-cert', '/Users/ada/ca.pem'] },
      { store: 'login keychain', argv: ['security', 'delete-certificate', '-Z', 'AB12', '/Users/ada/Library/Keychains/login.keychain-db'] },
    ]);
    assert.deepEqual(trustQueryArgv(target), ['security', 'verify-cert', '-c', '/Users/ada/ca.pem', '-p', 'ssl']);
  });

  it("Windows: the current user's Root store, removed by serial number", () => {
    const target: TrustTarget = { ...base, platform: 'win32', caFile: 'C:\\Users\\ada\\ca.pem', serial: '7F00' };
    assert.deepEqual(trustPlan(target).steps, [
      { store: "current user's Root store", argv: ['certutil', '-user', '-addstore', 'Root', 'C:\\Users\\ada\\ca.pem'] },
    ]);
    assert.deepEqual(untrustPlan(target).steps, [{ store: "current user's Root store", argv: ['certutil', '-user', '-delstore', 'Root', '7F00'] }]);
    assert.deepEqual(trustQueryArgv(target), ['certutil', '-user', '-verifystore', 'Root', '7F00']);
  });
});

describe('whether the CA is trusted, and what clients are told', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBAAAA\nBBBBCCCC\n-----END CERTIFICATE-----\n';

  it('a bundle holds the CA whatever its line length', () => {
    assert.equal(bundleHolds(`other\n-----BEGIN CERTIFICATE-----\nMIIBAAAABBBB\nCCCC\n-----END CERTIFICATE-----\n`, pem), true);
    assert.equal(bundleHolds('-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n', pem), false);
  });

  it('doctor: not made yet passes, made but untrusted warns with the fix, trusted passes', () => {
    assert.equal(localCaCheck({}).verdict, 'pass');
    const untrusted = localCaCheck({ caFile: CA, trusted: false, dns: ['localhost', '.localhost'], ip: ['127.0.0.0/8'] });
    assert.equal(untrusted.verdict, 'warn');
    assert.match(untrusted.fix!, /npm run trust/);
    assert.match(untrusted.detail, /permits localhost, \.localhost, 127\.0\.0\.0\/8/);
    assert.equal(localCaCheck({ caFile: CA, trusted: true }).verdict, 'pass');
  });

  it('connect: NODE_EXTRA_CA_CERTS while the CA is not trusted, NODE_USE_SYSTEM_CA=1 once it is', () => {
    const endpoint: Endpoint = { serverName: 'mcp', url: 'https://127.0.0.1:8443/mcp', authorization: 'Bearer x' };
    assert.deepEqual(nodeTrustEnv({ ...endpoint, caFile: CA }), { NODE_EXTRA_CA_CERTS: CA });
    assert.deepEqual(nodeTrustEnv({ ...endpoint, systemCa: true }), { NODE_USE_SYSTEM_CA: '1' });
    assert.equal(shellLine(['npx', 'x'], { NODE_USE_SYSTEM_CA: '1' }), 'NODE_USE_SYSTEM_CA=1 npx x');
    const trusted = clientSnippets({ ...endpoint, systemCa: true });
    const rendered = JSON.stringify(trusted);
    assert.ok(!rendered.includes('NODE_EXTRA_CA_CERTS'), rendered);
    const desktop = trusted.find((s) => s.client === 'claude-desktop')!.config as { mcpServers: Record<string, { env: Record<string, string> }> };
    assert.deepEqual(desktop.mcpServers.mcp!.env, { AUTH_HEADER: 'Bearer x', NODE_USE_SYSTEM_CA: '1' });
    assert.deepEqual(trusted.find((s) => s.client === 'vscode')!.notes, [], 'VS Code reads the system store itself');
  });
});
