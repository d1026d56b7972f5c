import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { publishesPort } from '../templates/registry.js';
import {
  kubernetesObjects,
  kubernetesSecret,
  kubernetesVolumeNames,
  kubernetesYaml,
  podmanSecretJson,
  secretName,
  type KubernetesInstance,
} from '../sandbox/kubernetes.js';
import type { ExportFile, ExportInstance, RenderedExport } from './export-files.js';

/** A Kubernetes object name (DNS-1123 label): NAME names the Deployment, the Service and the policy. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Settings that only make sense on this machine are refused for a cluster, with the way out. */
function checkForCluster({ settings, profile }: ExportInstance): void {
  const file = settings.envFile;
  if (!DNS_LABEL.test(settings.NAME)) {
    throw new UsageError(`${file}: NAME=${settings.NAME} cannot name Kubernetes objects; use lowercase letters, digits and "-" only (no "." or "_")`);
  }
  const tooLong = kubernetesVolumeNames(profile).find((name) => !DNS_LABEL.test(name));
  if (tooLong) {
    throw new UsageError(
      `${file}: NAME=${settings.NAME} is too long for Kubernetes: the pod's volume ${tooLong} must have at most 63 characters; choose a shorter NAME`,
    );
  }
  if (settings.tlsFiles) {
    throw new UsageError(
      `${file}: CERT_FILE and KEY_FILE name files on this machine, which a cluster cannot see; leave them empty (the gateway makes its own certificate) to export for Kubernetes`,
    );
  }
  if (settings.mounts.length > 0) {
    throw new UsageError(`${file}: MCP_MOUNTS binds folders of this machine, which a cluster's nodes do not have; leave it empty to export for Kubernetes`);
  }
  if (settings.networks.length > 0) {
    throw new UsageError(
      `${file}: MCP_NETWORKS joins engine networks, which a cluster does not have (a pod reaches a database by its Service name); leave it empty to export for Kubernetes and allow the Service in MCP_EGRESS`,
    );
  }
}

/** Where the kubelet finds a seccomp profile, under its seccomp root; the export holds it under seccomp/ in the same layout. */
export const SECCOMP_DIR = 'mcp-sandbox';

export function kubernetesExport(instances: readonly ExportInstance[], out: string | undefined): RenderedExport {
  instances.forEach(checkForCluster);
  const copies = new Map<string, string>();
  for (const { settings } of instances) {
    if (!copies.has(settings.seccompProfile)) copies.set(settings.seccompProfile, copies.size === 0 ? 'seccomp.json' : `${settings.NAME}.seccomp.json`);
  }
  const k8s: KubernetesInstance[] = instances.map(({ settings, profile, secretNames }) => ({
    profile,
    template: settings.template,
    ...(publishesPort(settings.template) ? { servicePort: settings.HOST_PORT } : {}),
    seccompLocalhostProfile: `${SECCOMP_DIR}/${copies.get(settings.seccompProfile)}`,
    secretNames,
  }));
  const header = [
    ' Written by `npm run export -- --format kubernetes`: the sandbox of `npm run start -- -d` for a cluster.',
    ' The variables with secret values are in the Secrets of the *.secret.yaml files (mode 0600), referenced by name.',
    ' The NetworkPolicy holds only where the network plugin enforces NetworkPolicies.',
  ].join('\n');
  const where = out ?? 'OUT';
  const files: ExportFile[] = [{ name: 'kubernetes.yaml', text: kubernetesYaml(k8s.flatMap(kubernetesObjects), header), secret: false }];
  for (const instance of k8s) {
    const secret = kubernetesSecret(instance);
    if (secret) files.push({ name: `${instance.profile.container}.secret.yaml`, text: kubernetesYaml([secret]), secret: true });
  }
  // Podman 4.3 cannot read a played Secret (kubernetes.ts, podmanSecretJson): the same values in its own form.
  const podmanSecrets: string[] = [];
  for (const instance of k8s) {
    const json = podmanSecretJson(instance);
    if (!json) continue;
    const name = `${instance.profile.container}.podman-secret.json`;
    files.push({ name, text: json, secret: true, preview: `(the values of ${secretName(instance.profile)} as base64, for podman secret create)` });
    podmanSecrets.push(`podman secret create ${secretName(instance.profile)} ${where}/${name}`);
  }
  for (const [source, name] of copies) {
    files.push({ name: `seccomp/${SECCOMP_DIR}/${name}`, text: readFileSync(source, 'utf8'), secret: false, preview: `(a copy of ${source})` });
  }
  return {
    files,
    nextSteps: [
      `on every node: cp -r ${where}/seccomp/${SECCOMP_DIR} /var/lib/kubelet/seccomp/`,
      ...files.filter((f) => f.name.endsWith('.secret.yaml')).map((f) => `kubectl apply -f ${where}/${f.name}`),
      `kubectl apply -f ${where}/kubernetes.yaml`,
      'or, on this machine with Podman (docs/DEPLOY.md):',
      ...podmanSecrets,
      `podman kube play ${where}/kubernetes.yaml`,
    ],
  };
}
