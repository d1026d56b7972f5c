/**
 * docker/common/runtime/tables/gateway-ports, the one table of the ports a gateway listens
 * on inside the container, read the way the firewall reads it. The firewall's
 * fast tests, the one-source checks and the escape battery use this reader.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './project-fixture.js';

export interface GatewayPort {
  port: number;
  /** published: the engine forwards it from outside; loopback: the container's own processes only. */
  scope: 'published' | 'loopback';
  who: string;
}

export const GATEWAY_PORTS_FILE = join(repoRoot, 'docker', 'common', 'runtime', 'tables', 'gateway-ports');

export function gatewayPorts(): GatewayPort[] {
  return readFileSync(GATEWAY_PORTS_FILE, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [port, scope, ...who] = line.split(/\s+/);
      if (!/^[1-9]\d{0,4}$/.test(port ?? '') || (scope !== 'published' && scope !== 'loopback')) throw new Error(`gateway-ports: bad line '${line}'`);
      return { port: Number(port), scope, who: who.join(' ') };
    });
}
