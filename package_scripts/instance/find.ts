import { inspectContainersArgs, listInstancesArgs, readPublicUrlArgs } from '../docker/argv.js';
import { engineEndpoint, type DockerEngine } from '../docker/engine.js';
import { StateError } from '../errors.js';
import { tunnelUrl, urlSource } from './endpoint.js';
import { instanceStatus, type ContainerInspect, type InstanceStatus } from './instances.js';

/** Every instance this tool manages (or the one named), found through Docker labels. */
export async function findInstances(docker: DockerEngine, options: { name?: string; now?: Date } = {}): Promise<InstanceStatus[]> {
  const ids = (await docker.run(listInstancesArgs(options.name))).stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse((await docker.run(inspectContainersArgs(ids))).stdout) as ContainerInspect[];
  const tunnelUrls: Record<string, string | undefined> = {};
  for (const container of inspected) {
    const template = container.Config?.Labels?.['io.mcp-sandbox.template'] ?? '';
    if (urlSource(template).kind !== 'tunnel-file' || !container.State?.Running) continue;
    const name = container.Name.replace(/^\//, '');
    // Missing while the tunnel connects: that is a state, not an error.
    const read = await docker.run(readPublicUrlArgs(name), { allowFailure: true });
    tunnelUrls[name] = read.exitCode === 0 ? tunnelUrl(read.stdout) : undefined;
  }
  const now = options.now ?? new Date();
  const { remote } = await engineEndpoint(docker);
  return inspected.map((c) => instanceStatus(c, now, tunnelUrls, remote));
}

/** The one named instance, or a usage error that says how to see which exist. */
export async function requireInstance(docker: DockerEngine, name: string): Promise<InstanceStatus> {
  const [found] = await findInstances(docker, { name });
  if (!found) {
    throw new StateError(`No mcp-sandbox instance named ${name}. \`npm run status\` lists them; \`npm run start -- -d\` starts one`);
  }
  return found;
}
