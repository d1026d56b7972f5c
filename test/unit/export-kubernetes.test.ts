import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import {
  kubernetesDeployment,
  kubernetesNetworkPolicy,
  kubernetesObjects,
  kubernetesSecret,
  kubernetesService,
  kubernetesYaml,
  podmanSecretJson,
  quantity,
  type KubernetesInstance,
} from '../../package_scripts/sandbox/kubernetes.js';
import type { ExportInstance } from '../../package_scripts/export/export-files.js';
import { instanceOf, NGROK_TOKEN, settingsOf, TOKEN } from './export-fixture.js';
import { HEALTHCHECK_COMMAND } from './expected.js';

const k8sOf = (instance: ExportInstance): KubernetesInstance => ({
  profile: instance.profile,
  template: instance.settings.template,
  ...(instance.settings.template === 'nginx' ? { servicePort: instance.settings.HOST_PORT } : {}),
  seccompLocalhostProfile: 'mcp-sandbox/seccomp.json',
  secretNames: instance.secretNames,
});
const of = (raw: Record<string, string> = {}) => k8sOf(instanceOf(settingsOf({ NAME: 'k8s', ...raw })));
const container = (deployment: any) => deployment.spec.template.spec.containers[0];

/** Each object through the kubernetes-models schema of its kind. */
function assertValid(object: any): void {
  const model = { Deployment, NetworkPolicy, PersistentVolumeClaim, Secret, Service }[object.kind as string];
  assert.ok(model, object.kind);
  new (model as any)(object).validate();
}

describe('export --format kubernetes: the sandbox profile as a manifest set', () => {
  it("the container's securityContext: every capability dropped but the entrypoint's, read-only root, no escalation, the shipped seccomp profile", () => {
    assert.deepEqual(container(kubernetesDeployment(of())).securityContext, {
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_ADMIN', 'SETGID', 'SETPCAP', 'SETUID'] },
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'Localhost', localhostProfile: 'mcp-sandbox/seccomp.json' },
    });
  });

  it('tmpfs as memory-backed emptyDirs with their sizes, limits as quantities, probes that run the image healthcheck', () => {
    const deployment: any = kubernetesDeployment(of({ MCP_MEMORY: '768m', MCP_CPUS: '0.5' }));
    const c = container(deployment);
    // Named after the instance: `podman kube play` makes a host-wide named volume of each emptyDir.
    assert.deepEqual(deployment.spec.template.spec.volumes, [
      { name: 'k8s-tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'k8s-run', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'k8s-tls', emptyDir: {} },
      { name: 'k8s-warden', persistentVolumeClaim: { claimName: 'k8s-warden' } },
    ]);
    assert.deepEqual(c.volumeMounts, [
      { name: 'k8s-tmp', mountPath: '/tmp' },
      { name: 'k8s-run', mountPath: '/run' },
      { name: 'k8s-tls', mountPath: '/var/lib/mcp-sandbox/tls' },
      { name: 'k8s-warden', mountPath: '/var/lib/mcp-sandbox/warden' },
    ]);
    assert.deepEqual(c.resources, { limits: { cpu: '0.5', memory: '768Mi' }, requests: { cpu: '0.5', memory: '768Mi' } });
    // MCP_TMP_SIZE sizes /tmp's emptyDir (a browser needs more than 64m; it counts against the memory limit there too).
    const sized: any = kubernetesDeployment(of({ MCP_MEMORY: '2g', MCP_TMP_SIZE: '512m' }));
    assert.deepEqual(sized.spec.template.spec.volumes.slice(0, 2), [
      { name: 'k8s-tmp', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } },
      { name: 'k8s-run', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    ]);
    const probe = {
      exec: {
        command: HEALTHCHECK_COMMAND,
      },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    };
    assert.deepEqual([c.readinessProbe, c.livenessProbe], [probe, probe]);
    assert.equal(deployment.spec.template.spec.automountServiceAccountToken, false);
  });

  it('secrets only in the Secret, referenced by name; the rest inline', () => {
    const instance = of({ MCP_ENV: 'API_KEY', API_KEY: 'k3y-value' });
    const c = container(kubernetesDeployment(instance));
    assert.deepEqual(c.envFrom, [{ secretRef: { name: 'k8s-env' } }]);
    assert.ok(!JSON.stringify(kubernetesDeployment(instance)).includes(TOKEN));
    assert.ok(!c.env.some((e: { name: string }) => ['ACCESS_TOKEN', 'API_KEY'].includes(e.name)));
    assert.deepEqual(kubernetesSecret(instance), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'k8s-env', labels: { 'io.mcp-sandbox.instance': 'k8s', 'io.mcp-sandbox.template': 'nginx' } },
      type: 'Opaque',
      stringData: { ACCESS_TOKEN: TOKEN, API_KEY: 'k3y-value' },
    });
  });

  it("Podman's form of the Secret: a JSON object of base64 values, the same variables", () => {
    const instance = of({ MCP_ENV: 'API_KEY', API_KEY: "k3y-välue $x'" });
    assert.deepEqual(JSON.parse(podmanSecretJson(instance)!), {
      ACCESS_TOKEN: Buffer.from(TOKEN).toString('base64'),
      API_KEY: Buffer.from("k3y-välue $x'", 'utf8').toString('base64'),
    });
    const decoded = Object.fromEntries(
      Object.entries(JSON.parse(podmanSecretJson(instance)!) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
    assert.deepEqual(decoded, (kubernetesSecret(instance) as any).stringData);
    // Control: no secret variable, no Secret in either form.
    const none = { ...instance, secretNames: [] };
    assert.deepEqual([kubernetesSecret(none), podmanSecretJson(none)], [undefined, undefined]);
  });

  it('nginx: a Service on HOST_PORT to the gateway port; a tunnel: no Service and no container port', () => {
    assert.deepEqual((kubernetesService(of({ HOST_PORT: '9443' })) as any).spec, {
      type: 'ClusterIP',
      selector: { 'io.mcp-sandbox.instance': 'k8s' },
      ports: [{ name: 'https', port: 9443, targetPort: 8443, protocol: 'TCP' }],
    });
    const tunnel = of({ TEMPLATE: 'ngrok', NGROK_AUTHTOKEN: NGROK_TOKEN });
    // hostIP without hostPort: inert on a cluster; Podman 4.x publishes the port on BIND_ADDRESS only.
    assert.deepEqual(container(kubernetesDeployment(of({ BIND_ADDRESS: '127.0.0.2' }))).ports, [
      { name: 'https', containerPort: 8443, hostIP: '127.0.0.2', protocol: 'TCP' },
    ]);
    assert.equal(kubernetesService(tunnel), undefined);
    assert.equal(container(kubernetesDeployment(tunnel)).ports, undefined);
    assert.deepEqual(
      kubernetesObjects(tunnel).map((o) => o.kind),
      ['PersistentVolumeClaim', 'Deployment', 'NetworkPolicy'],
    );
  });

  it('the NetworkPolicy, checked as data: ingress to 8443 only; egress none, address rules as ipBlocks with ports, name ports and DNS for the enforcer in the pod, or open', () => {
    const spec = (raw: Record<string, string>) => (kubernetesNetworkPolicy(of(raw)) as any).spec;
    const base = { podSelector: { matchLabels: { 'io.mcp-sandbox.instance': 'k8s' } }, policyTypes: ['Ingress', 'Egress'] };
    const ingress = [{ ports: [{ protocol: 'TCP', port: 8443 }] }];
    assert.deepEqual(spec({}), { ...base, ingress, egress: [] });
    assert.deepEqual(spec({ MCP_EGRESS: 'open' }), { ...base, ingress, egress: [{}] });
    assert.deepEqual(spec({ MCP_EGRESS: 'learn' }), { ...base, ingress, egress: [{}] });
    // Addresses only: no name port, no DNS (the server gets no resolution).
    assert.deepEqual(spec({ MCP_EGRESS: '10.1.2.0/24,198.51.100.7:5432' }), {
      ...base,
      ingress,
      egress: [
        { to: [{ ipBlock: { cidr: '10.1.2.0/24' } }] },
        {
          to: [{ ipBlock: { cidr: '198.51.100.7/32' } }],
          ports: [
            { protocol: 'TCP', port: 5432 },
            { protocol: 'UDP', port: 5432 },
          ],
        },
      ],
    });
    // Names: a NetworkPolicy cannot say them; the enforcer in the container checks them, the policy lets its ports and DNS out.
    assert.deepEqual(spec({ MCP_EGRESS: 'api.example.com,*.cdn.example.com:8443,10.1.2.0/24' }), {
      ...base,
      ingress,
      egress: [
        { to: [{ ipBlock: { cidr: '10.1.2.0/24' } }] },
        {
          ports: [
            { protocol: 'TCP', port: 80 },
            { protocol: 'TCP', port: 443 },
            { protocol: 'TCP', port: 8443 },
          ],
        },
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    // A tunnel: nothing comes in; its agent dials out, so the pod's egress is open (the container's firewall holds the server).
    assert.deepEqual(spec({ TEMPLATE: 'ngrok', NGROK_AUTHTOKEN: NGROK_TOKEN }), { ...base, ingress: [], egress: [{}] });
  });

  it('the Deployment hands the container MCP_EGRESS as written (canonical), names included, and no hostAliases', () => {
    const deployment: any = kubernetesDeployment(of({ MCP_EGRESS: 'A.example.com:443,b.example.com,10.1.2.0/24' }));
    const env = container(deployment).env as Array<{ name: string; value: string }>;
    assert.equal(env.find((e) => e.name === 'MCP_EGRESS')!.value, 'a.example.com:443,b.example.com,10.1.2.0/24');
    assert.equal(deployment.spec.template.spec.hostAliases, undefined);
  });

  it('quantities: Docker sizes are binary units', () => {
    assert.deepEqual(['64m', '1g', '1.5g', '512k', '1048576'].map(quantity), ['64Mi', '1Gi', '1.5Gi', '512Ki', '1048576']);
  });

  it('every template and setting combination validates against the Kubernetes schemas (kubernetes-models)', () => {
    const cases: Array<Record<string, string>> = [
      {},
      { TEMPLATE: 'ngrok', NGROK_AUTHTOKEN: NGROK_TOKEN },
      { TEMPLATE: 'pinggy', PINGGY_ACCESS_TOKEN: 'pinggyTok3n' },
      { MCP_EGRESS: 'api.example.com:443,10.0.0.0/8,[2001:db8::/32]:5432' },
      { MCP_EGRESS: 'open', MCP_ENV: 'K', K: 'v4lue', MCP_MEMORY: '1.5g', MCP_CPUS: '2' },
    ];
    for (const raw of cases) {
      const instance = of(raw);
      const objects = [...kubernetesObjects(instance), kubernetesSecret(instance)!];
      objects.forEach(assertValid);
      // The YAML reads back as the same objects, comments aside.
      const docs = parseAllDocuments(kubernetesYaml(objects, ' header'), { version: '1.1' }) as any[];
      assert.deepEqual(
        docs.map((d) => d.toJS()),
        JSON.parse(JSON.stringify(objects)),
      );
    }
    // A positive control: the schema refuses a malformed policy.
    assert.throws(() =>
      assertValid({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'x' },
        spec: { podSelector: {}, egress: [{ to: [{ ipBlock: {} }] }] },
      }),
    );
  });

  it('the seccomp comment names the RuntimeDefault fallback', () => {
    assert.match(kubernetesYaml(kubernetesObjects(of())), /# .*RuntimeDefault/);
  });
});
