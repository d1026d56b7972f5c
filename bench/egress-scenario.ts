/** The egress scenario's side effects: the test server, two starts of the chain's instance, the fetches inside it. */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { removeContainerArgs } from './docker-args.js';
import {
  EGRESS_TARGET_NAME,
  ENFORCER_MEMORY_SCRIPT,
  egressClientExecArgs,
  egressPhase,
  egressTargetRunArgs,
  parseClientOutput,
  parseEnforcerMemory,
  type EgressPlan,
} from './egress.js';
import { cli, docker, dockerQuiet } from './run.js';
import type { EgressPhase, EgressResult } from './types.js';

export interface EgressScenario {
  /** The chain's instance (its image is built): NAME, and the .env lines every start shares. */
  instance: string;
  baseEnv: readonly string[];
  /** The bench's network, which the instance joins (MCP_NETWORKS) and the test server sits on. */
  network: string;
  targetContainer: string;
  targetImage: string;
  work: string;
}

/** A self-signed certificate for the test server's name, made on the host with openssl; the client trusts it alone. */
async function makeCertificate(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await execa('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'],
    ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    ...['-subj', `/CN=${EGRESS_TARGET_NAME}`, '-addext', `subjectAltName=DNS:${EGRESS_TARGET_NAME}`],
  ]);
  // The test server reads it as the image's user; it guards nothing but this run's test server.
  chmodSync(join(dir, 'key.pem'), 0o644);
  return readFileSync(join(dir, 'cert.pem'), 'utf8');
}

const enforcerMemory = async (instance: string) => parseEnforcerMemory((await docker(['exec', instance, 'sh', '-c', ENFORCER_MEMORY_SCRIPT])).stdout);

export async function egressScenario(scenario: EgressScenario, plan: EgressPlan): Promise<EgressResult> {
  const ca = await makeCertificate(join(scenario.work, 'egress-certs'));
  await dockerQuiet(removeContainerArgs(scenario.targetContainer));
  try {
    await docker(
      egressTargetRunArgs(
        { name: scenario.targetContainer, network: scenario.network, certsDir: join(scenario.work, 'egress-certs'), bulkBytes: plan.bulkBytes },
        scenario.targetImage,
      ),
    );
    // One start per MCP_EGRESS value: its .env differs from the chain's in MCP_EGRESS and MCP_NETWORKS only.
    const run = async (egress: string, around: { before?: () => Promise<void>; after?: () => Promise<void> } = {}): Promise<EgressPhase> => {
      const envFile = join(scenario.work, `egress-${egress === 'open' ? 'open' : 'named'}.env`);
      writeFileSync(envFile, `${[...scenario.baseEnv, `MCP_EGRESS=${egress}`, `MCP_NETWORKS=${scenario.network}`].join('\n')}\n`, { mode: 0o600 });
      await cli(['start', '-d', '--env-file', envFile], 5 * 60_000);
      try {
        await around.before?.();
        const fetched = await docker(egressClientExecArgs(scenario.instance, ca, plan), 10 * 60_000);
        const phase = egressPhase(egress, parseClientOutput(fetched.stdout, plan), plan.bulkBytes);
        await around.after?.();
        return phase;
      } finally {
        await cli(['stop', '--env-file', envFile]);
      }
    };
    const open = await run('open');
    let idleRssBytes = Number.NaN;
    let loaded = { rssBytes: Number.NaN, peakRssBytes: Number.NaN };
    const named = await run(EGRESS_TARGET_NAME, {
      before: async () => {
        idleRssBytes = (await enforcerMemory(scenario.instance)).rssBytes;
      },
      after: async () => {
        loaded = await enforcerMemory(scenario.instance);
      },
    });
    return {
      description: `The chain's instance (the same image and .env) started twice with MCP_NETWORKS=${scenario.network}: MCP_EGRESS=open, then MCP_EGRESS=${EGRESS_TARGET_NAME} (the egress enforcer in the path). Each time \`docker exec --user mcp\` (the MCP server's user, whose traffic the firewall hands to the enforcer) runs Node.js inside the instance: ${plan.warmupConnections} warm-up then ${plan.connections} HTTPS GETs of a few bytes to https://${EGRESS_TARGET_NAME}/, each a new connection (agent: false: its own DNS lookup, TCP and TLS handshake, certificate checked), then ${plan.bulkRuns} downloads of ${plan.bulkBytes / 2 ** 20} MiB of random data. The server: ${scenario.targetImage}, Node.js https on the bench network under that name (a network alias), its own certificate. Times are taken inside the instance (process.hrtime); MCP_CPUS=1 holds the client and the enforcer alike.`,
      open,
      named,
      enforcerMemory: { idleRssBytes, ...loaded, source: 'VmRSS and VmHWM of its process in /proc' },
    };
  } finally {
    await dockerQuiet(removeContainerArgs(scenario.targetContainer));
  }
}
