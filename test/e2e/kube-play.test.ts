/**
 * `npm run export -- --format kubernetes`, run for real: there is no cluster
 * here, so Podman plays the manifests (`podman kube play`, Podman 4.3 on
 * Debian 12), as docs/DEPLOY.md tells a user to. An MCP SDK client lists and
 * calls tools through TLS and the token; `podman inspect` shows the
 * capabilities, read-only root and limits as exported; `podman kube down`
 * leaves nothing behind. The NetworkPolicy is checked as data
 * (test/unit/export-kubernetes.test.ts).
 *
 * Known gaps of Podman 4.3, stated here and not asserted (docs/DEPLOY.md, "Podman"):
 * - it ignores the container's seccompProfile: the engine's default applies
 *   (scripts/ensure-podman.sh makes that the shipped profile);
 * - it mounts an emptyDir of medium Memory as a volume on disk, without its sizeLimit;
 * - it turns the probes into healthchecks that only systemd runs: none run here;
 * - Kubernetes has no pids limit per pod, so none is set.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { insideAsServerUser, makeTargetCertificates, startNameTarget } from './egress-target.js';
import { assertServesDefaultServer, cli, createInstance, inspect, projectDir, waitFor, type Instance } from './harness.js';

const socket = process.env.MCPS_E2E_PODMAN_SOCKET ?? '/run/podman/podman.sock';
/** The gateway's port in the container: Podman 4.3 publishes each containerPort on the host at the same number, on its hostIP. */
const GATEWAY_PORT = 8443;
const SERVER_SECRET = 'kube-s3cret-value';

const podman = (args: string[]) => execa('podman', args, { reject: false, all: true });

/** `podman inspect NAME`'s object. */
const podmanInspect = (name: string) => inspect(name, podman);

if (!existsSync(socket) || !statSync(socket).isSocket()) {
  test('Podman answers on its socket (the image is built into its store)', () => {
    assert.fail(`No Podman socket at ${socket}. Run \`bash scripts/ensure-podman.sh\` (as root; .ci/run does), or set MCPS_E2E_PODMAN_SOCKET`);
  });
} else {
  describe('export --format kubernetes, played by podman kube play (steps in order, on one instance)', { timeout: 900_000 }, () => {
    let instance: Instance;
    let out: string;
    let manifest: string;
    /** The sandbox container of the played pod, found by its label (Podman names it <pod>-<container>, with no leading "/"). */
    let container: string;
    const secret = () => `${instance.name}-env`;

    before(async () => {
      instance = await createInstance('kube-e2e', { MCP_ENV: 'PROBE_SECRET', PROBE_SECRET: SERVER_SECRET, MCP_MEMORY: '768m', MCP_CPUS: '0.5' });
      out = join(instance.dir, 'k8s');
      manifest = join(out, 'kubernetes.yaml');
      // Whatever an interrupted run left: the pod and the secret are named after the instance.
      await podman(['pod', 'rm', '--force', `${instance.name}-pod-0`]);
      // Podman 4.3 refuses to play a claim whose volume exists (one an earlier run kept): start from none.
      await podman(['volume', 'rm', '--force', `${instance.name}-warden`]);
      await podman(['secret', 'rm', secret()]);
      // Into Podman's image store, through its Docker-compatible socket: `podman kube play` finds it there (imagePullPolicy IfNotPresent).
      const built = await cli(['build', '--env-file', instance.envFile], { env: { DOCKER_HOST: `unix://${socket}` } });
      assert.equal(built.exitCode, 0, built.all);
    });

    after(async () => {
      if (existsSync(manifest)) await podman(['kube', 'down', manifest]);
      await podman(['secret', 'rm', secret()]);
      rmSync(instance.dir, { recursive: true, force: true });
    });

    test('bad input: settings a cluster cannot use exit 2 with the fix named, and nothing is written', async () => {
      // The test CA's leaf, its key 0600 as a user keeps it (a key group or others can read is refused first).
      const fixtures = mkdtempSync(join(tmpdir(), 'kube-e2e-tls-'));
      for (const file of ['leaf.pem', 'leaf-key.pem']) copyFileSync(join(projectDir, 'test', 'fixtures', 'tls', file), join(fixtures, file));
      chmodSync(join(fixtures, 'leaf-key.pem'), 0o600);
      const mine = await createInstance('kube-e2e-cert', { CERT_FILE: join(fixtures, 'leaf.pem'), KEY_FILE: join(fixtures, 'leaf-key.pem') });
      try {
        const refused = await cli(['export', '--format', 'kubernetes', '--env-file', mine.envFile, '--out', join(mine.dir, 'k8s')]);
        assert.equal(refused.exitCode, 2, refused.all);
        assert.match(refused.stderr, /CERT_FILE and KEY_FILE name files on this machine, which a cluster cannot see; leave them empty/);
        assert.equal(existsSync(join(mine.dir, 'k8s')), false, 'nothing written');
        // Control: the same command for Compose, where the files are this machine's, goes through.
        const compose = await cli(['export', '--format', 'compose', '--env-file', mine.envFile, '--out', join(mine.dir, 'compose')]);
        assert.equal(compose.exitCode, 0, compose.all);
      } finally {
        rmSync(mine.dir, { recursive: true, force: true });
      }
    });

    test('the export: the manifests without a secret, the Secret in both forms (0600), the Podman steps printed', async () => {
      const written = await cli(['export', '--format', 'kubernetes', '--env-file', instance.envFile, '--out', out]);
      assert.equal(written.exitCode, 0, written.all);
      const yaml = readFileSync(manifest, 'utf8');
      assert.ok(!yaml.includes(instance.token) && !yaml.includes(SERVER_SECRET), 'no secret in kubernetes.yaml');
      assert.ok(!written.all.includes(instance.token) && !written.all.includes(SERVER_SECRET), 'no secret printed');
      for (const file of [`${instance.name}.secret.yaml`, `${instance.name}.podman-secret.json`])
        assert.equal(statSync(join(out, file)).mode & 0o777, 0o600, file);
      assert.ok(written.all.includes(`podman secret create ${secret()} ${out}/${instance.name}.podman-secret.json`), written.all);
      assert.ok(written.all.includes(`podman kube play ${manifest}`), written.all);
    });

    test('podman secret create, then podman kube play: the pod runs the exported container', async () => {
      // The secret's values reach Podman in a file, never on a command line.
      const created = await podman(['secret', 'create', secret(), join(out, `${instance.name}.podman-secret.json`)]);
      assert.equal(created.exitCode, 0, created.all);
      const played = await podman(['kube', 'play', manifest]);
      assert.equal(played.exitCode, 0, played.all);
      const names = await podman(['ps', '--filter', `label=io.mcp-sandbox.instance=${instance.name}`, '--format', '{{.Names}}']);
      assert.equal(names.exitCode, 0, names.all);
      assert.equal(names.stdout.split('\n').length, 1, names.stdout);
      container = names.stdout.trim();
      assert.match(container, new RegExp(`^${instance.name}-pod-0-sandbox$`));
      // Podman runs no probe without systemd: the image's healthcheck, the probes' command, run by hand until it passes.
      await waitFor(
        'the played container to pass its healthcheck',
        async () => ((await podman(['exec', container, '/opt/sandbox/bin/healthcheck'])).exitCode === 0 ? true : undefined),
        120_000,
      );
    });

    test('an MCP SDK client lists and calls tools through TLS and the token from the Secret; a wrong token is refused', async () => {
      const certificate = (await podman(['exec', container, 'cat', '/run/sandbox/served-cert.pem'])).stdout;
      assert.match(certificate, /BEGIN CERTIFICATE/);
      await assertServesDefaultServer({ ...instance, port: GATEWAY_PORT }, certificate);
    });

    test('podman inspect: capabilities, read-only root, no-new-privileges and limits as exported; the port on loopback only', async () => {
      const deployment = parseAllDocuments(readFileSync(manifest, 'utf8'))
        .map((d) => d.toJS())
        .find((o) => o.kind === 'Deployment');
      const spec = deployment.spec.template.spec.containers[0];
      const c = await podmanInspect(container);
      // Exactly the exported capabilities: NET_RAW, which the engine's default set holds, is gone; NET_ADMIN, which it lacks, is there.
      const exported = (spec.securityContext.capabilities.add as string[]).map((cap) => `CAP_${cap}`).sort();
      assert.deepEqual([...c.EffectiveCaps].sort(), exported);
      assert.deepEqual([...c.BoundingCaps].sort(), exported);
      assert.ok(!c.EffectiveCaps.includes('CAP_NET_RAW') && c.EffectiveCaps.includes('CAP_NET_ADMIN'));
      assert.equal(c.HostConfig.ReadonlyRootfs, true);
      assert.ok((c.HostConfig.SecurityOpt as string[]).includes('no-new-privileges'), c.HostConfig.SecurityOpt);
      // The limits of the env file (not the defaults), as the manifest says them: 768Mi, 0.5 CPU.
      assert.deepEqual(spec.resources.limits, { cpu: '0.5', memory: '768Mi' });
      assert.equal(c.HostConfig.Memory, 768 * 2 ** 20);
      assert.equal(c.HostConfig.NanoCpus, 0.5e9);
      // In the running process: no-new-privileges and a seccomp filter (the engine's default profile: 4.3 ignores seccompProfile).
      const status = (await podman(['exec', container, 'cat', '/proc/1/status'])).stdout;
      assert.match(status, /^NoNewPrivs:\s+1$/m);
      assert.match(status, /^Seccomp:\s+2$/m);
      // Read-only root: a write to / fails; the control beside it, a write to the /tmp volume, works.
      const root = await podman(['exec', container, 'sh', '-c', 'touch /kube-e2e-probe']);
      assert.notEqual(root.exitCode, 0);
      assert.match(root.all, /Read-only file system/);
      assert.equal((await podman(['exec', container, 'sh', '-c', 'touch /tmp/kube-e2e-probe && rm /tmp/kube-e2e-probe'])).exitCode, 0);
      // The volumes are the instance's own (Podman makes a host-wide named volume of each emptyDir).
      const volumes = (c.Mounts as Array<{ Name: string; Destination: string }>).map((m) => `${m.Name}:${m.Destination}`).sort();
      assert.deepEqual(volumes, [
        `${instance.name}-run:/run`,
        `${instance.name}-tls:/var/lib/mcp-sandbox/tls`,
        `${instance.name}-tmp:/tmp`,
        `${instance.name}-warden:/var/lib/mcp-sandbox/warden`,
      ]);
      // The server's secret variable arrived from the Podman secret (compared here, never printed).
      const env = new Map((c.Config.Env as string[]).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      assert.ok(env.get('PROBE_SECRET') === SERVER_SECRET, 'PROBE_SECRET reached the container');
      // Published on BIND_ADDRESS (hostIP) only: the client above came in through it.
      const pod = await podmanInspect(c.Pod);
      const infra = await podmanInspect(pod.InfraContainerID);
      assert.deepEqual(infra.NetworkSettings.Ports[`${GATEWAY_PORT}/tcp`], [{ HostIp: '127.0.0.1', HostPort: String(GATEWAY_PORT) }]);
    });

    test('podman kube down removes the pod, its containers and its volumes but the claim; the secret goes with podman secret rm', async () => {
      const down = await podman(['kube', 'down', manifest]);
      assert.equal(down.exitCode, 0, down.all);
      assert.equal((await podman(['ps', '-a', '-q', '--filter', `label=io.mcp-sandbox.instance=${instance.name}`])).stdout, '');
      assert.equal((await podman(['pod', 'ls', '-q', '--filter', `name=^${instance.name}-pod-0$`])).stdout, '');
      // The warden's claim (audit trail, tool pins) outlives the pod, as a PersistentVolumeClaim does a Deployment.
      const left = (await podman(['volume', 'ls', '-q'])).stdout.split('\n');
      assert.deepEqual(
        ['tmp', 'run', 'tls', 'warden'].filter((v) => left.includes(`${instance.name}-${v}`)),
        ['warden'],
      );
      assert.equal((await podman(['volume', 'rm', `${instance.name}-warden`])).exitCode, 0);
      assert.equal((await podman(['secret', 'rm', secret()])).exitCode, 0);
      assert.notEqual((await podman(['secret', 'inspect', secret()])).exitCode, 0);
    });
  });

  describe('export --format kubernetes with MCP_EGRESS by name: the played pod carries the enforcer', { timeout: 900_000 }, () => {
    // A Podman network of the test's own (its DNS answers the target's aliases); the pod joins it (kube play --network).
    const network = 'mcps-e2e-kube-names-net';
    const target = 'mcps-e2e-kube-names-target';
    let instance: Instance;
    let manifest: string;
    let certs: string;
    let targetAddress: string;
    let container: string;
    const secret = () => `${instance.name}-env`;

    before(async () => {
      certs = await makeTargetCertificates();
      await podman(['rm', '-f', target]);
      await podman(['network', 'rm', '-f', network]);
      assert.equal((await podman(['network', 'create', network])).exitCode, 0);
      targetAddress = await startNameTarget(target, network, certs, 'podman');
      instance = await createInstance('kube-e2e-names', { MCP_EGRESS: 'allowed.test' });
      const out = join(instance.dir, 'k8s');
      manifest = join(out, 'kubernetes.yaml');
      await podman(['pod', 'rm', '--force', `${instance.name}-pod-0`]);
      // Podman 4.3 refuses to play a claim whose volume exists (one an earlier run kept): start from none.
      await podman(['volume', 'rm', '--force', `${instance.name}-warden`]);
      await podman(['secret', 'rm', secret()]);
      const built = await cli(['build', '--env-file', instance.envFile], { env: { DOCKER_HOST: `unix://${socket}` } });
      assert.equal(built.exitCode, 0, built.all);
      const written = await cli(['export', '--format', 'kubernetes', '--env-file', instance.envFile, '--out', out]);
      assert.equal(written.exitCode, 0, written.all);
      assert.equal((await podman(['secret', 'create', secret(), join(out, `${instance.name}.podman-secret.json`)])).exitCode, 0);
      const played = await podman(['kube', 'play', '--network', network, manifest]);
      assert.equal(played.exitCode, 0, played.all);
      container = `${instance.name}-pod-0-sandbox`;
      await waitFor(
        'the played container to pass its healthcheck',
        async () => ((await podman(['exec', container, '/opt/sandbox/bin/healthcheck'])).exitCode === 0 ? true : undefined),
        120_000,
      );
    });

    after(async () => {
      if (manifest && existsSync(manifest)) await podman(['kube', 'down', manifest]);
      if (instance) {
        await podman(['secret', 'rm', secret()]);
        await podman(['volume', 'rm', '--force', `${instance.name}-warden`]);
        rmSync(instance.dir, { recursive: true, force: true });
      }
      await podman(['rm', '-f', target]);
      await podman(['network', 'rm', '-f', network]);
      if (certs) rmSync(certs, { recursive: true, force: true });
    });

    test("the server's user reaches allowed.test over HTTPS (control); other.test on the same address is refused by its TLS name and does not resolve", async () => {
      assert.deepEqual(await insideAsServerUser('podman', container, 'dns', 'allowed.test'), { ok: true, address: targetAddress });
      const allowed = await insideAsServerUser('podman', container, 'https', 'allowed.test', 'allowed.test', 'allowed.test');
      assert.deepEqual([allowed.ok, allowed.status, allowed.sni], [true, 200, 'allowed.test'], JSON.stringify(allowed));
      const other = await insideAsServerUser('podman', container, 'https', targetAddress, 'other.test', 'other.test');
      assert.equal(other.ok, false, JSON.stringify(other));
      assert.deepEqual(await insideAsServerUser('podman', container, 'dns', 'other.test'), { ok: false, code: 'ENOTFOUND' });
      const logs = await podman(['logs', container]);
      assert.match(logs.all, /egress refused: other\.test:443 \(TLS name not in MCP_EGRESS\)/);
    });
  });
}
