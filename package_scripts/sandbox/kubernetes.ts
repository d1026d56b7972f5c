import { Document, isMap } from 'yaml';
import { GATEWAY_PORT, LABEL_INSTANCE } from '../docker/names.js';
import { IMAGE_HEALTHCHECK } from '../docker/healthcheck.js';
import { acceptRules, networkRules } from './firewall.js';
import { namePorts } from '../settings/egress.js';
import type { SandboxProfile } from './profile.js';

/**
 * The sandbox profile rendered as a namespace-scoped Kubernetes set: a
 * Deployment, a Secret, a Service (a published port only) and a NetworkPolicy. Pure:
 * objects in, objects out; kubernetesYaml adds the comments.
 */

export interface KubernetesInstance {
  profile: SandboxProfile;
  template: string;
  /** nginx: the Service's port (HOST_PORT); tunnels have no Service. */
  servicePort?: number;
  /** The seccomp profile's path under the kubelet's seccomp root (/var/lib/kubelet/seccomp). */
  seccompLocalhostProfile: string;
  secretNames: readonly string[];
}

type Obj = Record<string, unknown>;

/**
 * The pod's volumes: the tmpfs mounts, then the state volumes, each named
 * after the instance. A cluster keeps volume names inside the pod, but
 * `podman kube play` makes a named volume of each emptyDir: plain names
 * (tmp, state-0) would be one volume shared by every instance played there.
 */
export function kubernetesVolumeNames(profile: SandboxProfile): string[] {
  const slug = (target: string) => target.replace(/^\/+/, '').replace(/[^a-z0-9]+/g, '-');
  return [...profile.tmpfs.map((t) => `${profile.container}-${slug(t.target)}`), ...profile.volumes.map((v) => v.name)];
}

/** Docker sizes (binary units: 64m is 64 MiB) as Kubernetes quantities. */
export function quantity(size: string): string {
  const match = /^(\d+(?:\.\d+)?)([bkmg]?)$/i.exec(size);
  if (!match) throw new Error(`quantity: ${size} is not a Docker size`);
  const unit = { '': '', b: '', k: 'Ki', m: 'Mi', g: 'Gi' }[match[2]!.toLowerCase()]!;
  return `${match[1]}${unit}`;
}

export const secretName = (profile: SandboxProfile) => `${profile.container}-env`;
const selector = (profile: SandboxProfile) => ({ [LABEL_INSTANCE]: profile.container });

/**
 * MCP_ENV's values still travel as the container's environment here, from the
 * Secret (envFrom): Podman 4.3's `kube play` cannot mount a Secret as a volume
 * (it crashes), and it is the only player the export is tested with. A cluster's
 * exec therefore still sees them (docs/SECURITY.md, issue 27 item 6).
 */
function envOf(profile: SandboxProfile, secretNames: readonly string[]) {
  const all = { ...profile.env, ...(profile.serverEnv?.values ?? {}) };
  const inline = Object.entries(all).filter(([name]) => !secretNames.includes(name));
  const secret = Object.entries(all).filter(([name]) => secretNames.includes(name));
  return { inline: inline.map(([name, value]) => ({ name, value })), secret: Object.fromEntries(secret) };
}

/** The Secret: the variables whose values are secrets, referenced by name from the Deployment. */
export function kubernetesSecret(instance: KubernetesInstance): Obj | undefined {
  const { secret } = envOf(instance.profile, instance.secretNames);
  if (Object.keys(secret).length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName(instance.profile), labels: { ...instance.profile.labels } },
    type: 'Opaque',
    stringData: secret,
  };
}

/**
 * The Secret's data as Podman 4.3 reads a Secret for env and envFrom: a JSON
 * object of base64 values, made with `podman secret create NAME FILE`. (4.3
 * stores a played `kind: Secret` as YAML, which its own env code cannot read;
 * 4.4 reads both.) Same name, same variables as the Kubernetes Secret.
 */
export function podmanSecretJson(instance: KubernetesInstance): string | undefined {
  const { secret } = envOf(instance.profile, instance.secretNames);
  if (Object.keys(secret).length === 0) return undefined;
  const data = Object.fromEntries(Object.entries(secret).map(([name, value]) => [name, Buffer.from(value, 'utf8').toString('base64')]));
  return `${JSON.stringify(data, null, 2)}\n`;
}

function probe() {
  const h = IMAGE_HEALTHCHECK;
  return {
    exec: { command: [...h.command] },
    initialDelaySeconds: h.startPeriodSeconds,
    periodSeconds: h.intervalSeconds,
    timeoutSeconds: h.timeoutSeconds,
    failureThreshold: h.retries,
  };
}

export function kubernetesDeployment(instance: KubernetesInstance): Obj {
  const { profile } = instance;
  const { inline, secret } = envOf(profile, instance.secretNames);
  const names = kubernetesVolumeNames(profile);
  // The state volumes live as long as the pod; MCP_DATA (persistent) is a claim that outlives it.
  const emptyDirs: Array<{ name: string; mountPath: string; source: Obj }> = [
    ...profile.tmpfs.map((t, i) => ({ name: names[i]!, mountPath: t.target, source: { emptyDir: { medium: 'Memory', sizeLimit: quantity(t.size) } } })),
    ...profile.volumes.map((v, i) => ({
      name: names[profile.tmpfs.length + i]!,
      mountPath: v.target,
      source: v.persistent ? { persistentVolumeClaim: { claimName: v.name } } : { emptyDir: {} },
    })),
  ];
  const limits = { cpu: profile.limits.cpus, memory: quantity(profile.limits.memory) };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: profile.container, labels: { ...profile.labels } },
    spec: {
      replicas: 1,
      // One instance at a time, as with docker: its sessions live in its one server process.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector(profile) },
      template: {
        metadata: { labels: { ...profile.labels } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            {
              name: 'sandbox',
              image: profile.image,
              imagePullPolicy: 'IfNotPresent',
              ...(profile.publish
                ? { ports: [{ name: 'https', containerPort: profile.publish.containerPort, hostIP: profile.publish.hostAddress, protocol: 'TCP' }] }
                : {}),
              env: inline,
              ...(Object.keys(secret).length > 0 ? { envFrom: [{ secretRef: { name: secretName(profile) } }] } : {}),
              securityContext: {
                capabilities: { drop: [...profile.capabilities.drop], add: [...profile.capabilities.add] },
                readOnlyRootFilesystem: profile.readOnlyRoot,
                allowPrivilegeEscalation: !profile.noNewPrivileges,
                seccompProfile: { type: 'Localhost', localhostProfile: instance.seccompLocalhostProfile },
              },
              resources: { limits, requests: { ...limits } },
              readinessProbe: probe(),
              livenessProbe: probe(),
              volumeMounts: emptyDirs.map(({ name, mountPath }) => ({ name, mountPath })),
            },
          ],
          volumes: emptyDirs.map(({ name, source }) => ({ name, ...source })),
        },
      },
    },
  };
}

/** A published port only: the gateway's port inside the cluster. Tunnels dial out and have none. */
export function kubernetesService(instance: KubernetesInstance): Obj | undefined {
  const { profile } = instance;
  if (!profile.publish || instance.servicePort === undefined) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: profile.container, labels: { ...profile.labels } },
    spec: {
      type: 'ClusterIP',
      selector: selector(profile),
      ports: [{ name: 'https', port: instance.servicePort, targetPort: profile.publish.containerPort, protocol: 'TCP' }],
    },
  };
}

/**
 * The second layer: ingress to the gateway port only (none for tunnels), and
 * egress as MCP_EGRESS says. A tunnel's agent must dial out, so a tunnel pod's
 * egress stays open and the container's own firewall limits the server's user.
 */
export function kubernetesNetworkPolicy(instance: KubernetesInstance): Obj {
  const { profile } = instance;
  const ingress = profile.publish ? [{ ports: [{ protocol: 'TCP', port: GATEWAY_PORT }] }] : [];
  let egress: Obj[];
  // learn is open but for the recording (the container's enforcer does it).
  if (!profile.publish || profile.egress.mode === 'open' || profile.egress.mode === 'learn') egress = [{}];
  else if (profile.egress.mode === 'none') egress = [];
  else {
    egress = networkRules(profile.egress).map((rule) => ({
      to: [{ ipBlock: { cidr: `${rule.address}/${rule.prefix}` } }],
      ...(rule.port ? { ports: acceptRules([rule]).map((r) => ({ protocol: r.protocol!.toUpperCase(), port: r.port })) } : {}),
    }));
    // Names: a NetworkPolicy cannot say them, so the enforcer in the pod's
    // container checks them (the same image and entrypoint); the policy lets
    // its name ports and its DNS out, anywhere (docs/DEPLOY.md).
    const ports = namePorts(profile.egress);
    if (ports.length > 0) {
      egress.push({ ports: ports.map((port) => ({ protocol: 'TCP', port })) });
      egress.push({
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      });
    }
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: profile.container, labels: { ...profile.labels } },
    spec: { podSelector: { matchLabels: selector(profile) }, policyTypes: ['Ingress', 'Egress'], ingress, egress },
  };
}

/** What a claim asks for when nothing says more: enough for a server's files; edit it before applying for more. */
export const DATA_CLAIM_SIZE = '1Gi';

/** One claim per persistent volume (MCP_DATA's NAME-data, the warden's NAME-warden), named like the Docker volume; deleting the Deployment keeps it. */
export function kubernetesClaims(instance: KubernetesInstance): Obj[] {
  return instance.profile.volumes
    .filter((v) => v.persistent)
    .map((v) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: v.name, labels: { ...instance.profile.labels } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: DATA_CLAIM_SIZE } } },
    }));
}

/** Every object of one instance, in the order they are applied (the Secret apart: it goes to its own 0600 file). */
export function kubernetesObjects(instance: KubernetesInstance): Obj[] {
  return [...kubernetesClaims(instance), kubernetesDeployment(instance), kubernetesService(instance), kubernetesNetworkPolicy(instance)].filter(
    (o): o is Obj => o !== undefined,
  );
}

const SECCOMP_COMMENT = [
  ' Localhost: the shipped profile, placed on every node under the kubelet seccomp root',
  ' (/var/lib/kubelet/seccomp/<localhostProfile>). Where a cluster cannot load a node file,',
  ' use { type: RuntimeDefault } instead: the runtime default profile, broader than ours.',
].join('\n');

const HOST_IP_COMMENT = [
  ' hostIP, without a hostPort, is for `podman kube play`: Podman 4.x publishes every containerPort',
  ' on the host, and here only on BIND_ADDRESS. A cluster publishes nothing without a hostPort',
  ' (kubectl warns "hostIP set without hostPort"); the Service below is the way in.',
].join('\n');

const NOT_IN_KUBERNETES = [
  ' Kubernetes has no per-pod field for the pids limit (set podPidsLimit on the kubelet) nor for',
  ' ulimit core=0, and emptyDir cannot be mounted noexec: those three hold under Docker and Compose only.',
].join('\n');

const CLAIM_COMMENT = [
  ' Kept when the Deployment is deleted or replaced (kubectl delete pvc deletes it): NAME-data holds the',
  " server's MCP_DATA, NAME-warden the audit trail and the tool pins. The cluster's default StorageClass",
  " provides it; set the size needed. The container's entrypoint hands a new volume to its user (the server's",
  " uid 10002, or warden's 10004) at its first start.",
].join('\n');

function comment(doc: Document, path: readonly (string | number)[], text: string): void {
  const node = doc.getIn(path, true);
  if (isMap(node)) node.commentBefore = text;
}

/** Several objects as one multi-document YAML (1.1-safe strings), with the comments that say what holds where. */
export function kubernetesYaml(objects: readonly Obj[], header?: string): string {
  const docs = objects.map((object) => {
    const doc = new Document(object, { version: '1.1' });
    if (object.kind === 'Deployment') {
      comment(doc, ['spec', 'template', 'spec', 'containers', 0, 'securityContext', 'seccompProfile'], SECCOMP_COMMENT);
      comment(doc, ['spec', 'template', 'spec', 'containers', 0, 'resources'], NOT_IN_KUBERNETES);
      comment(doc, ['spec', 'template', 'spec', 'containers', 0, 'ports', 0], HOST_IP_COMMENT);
    }
    if (object.kind === 'PersistentVolumeClaim') comment(doc, ['spec', 'resources'], CLAIM_COMMENT);
    return doc.toString({ lineWidth: 0 });
  });
  const text = docs.join('---\n');
  return header ? `${header.replace(/^/gm, '#')}\n${text}` : text;
}
