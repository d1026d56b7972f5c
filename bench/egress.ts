/**
 * Egress by name (issue 23), measured: the same HTTPS fetches from inside the
 * chain's instance to a local HTTPS server of the bench's own, once with
 * MCP_EGRESS=open and once with MCP_EGRESS=<its name> (the enforcer in the
 * path: DNS answered by it, the connection redirected to it, the ClientHello
 * read, the name resolved again and dialled). Pure parts: the argv, the
 * programs run in the containers, the summary, the targets and the report.
 */
import { BENCH_LABEL } from './docker-args.js';
import { percentile } from './stats.js';
import type { EgressPhase, EgressResult, TargetVerdict } from './types.js';

/** The local HTTPS server's name on the bench network (a network alias: the engine's DNS answers it). */
export const EGRESS_TARGET_NAME = 'egress-target.bench.test';

export interface EgressPlan {
  /** New connections timed one after another (each: DNS, TCP, TLS with the certificate checked, one small GET). */
  connections: number;
  warmupConnections: number;
  bulkBytes: number;
  bulkRuns: number;
}

export const egressPlan = (quick: boolean): EgressPlan =>
  quick
    ? { connections: 20, warmupConnections: 3, bulkBytes: 4 * 2 ** 20, bulkRuns: 2 }
    : { connections: 300, warmupConnections: 20, bulkBytes: 64 * 2 ** 20, bulkRuns: 5 };

/**
 * The test server: HTTPS on 443, `/` a few bytes, `/bulk` BULK_BYTES of random
 * data (random: nothing on the path compresses it), made once at start.
 */
export const EGRESS_TARGET_SERVER = `
const fs = require('fs'), https = require('https');
const bulk = require('crypto').randomBytes(Number(process.env.BULK_BYTES));
https.createServer({ cert: fs.readFileSync('/certs/cert.pem'), key: fs.readFileSync('/certs/key.pem') }, (req, res) => {
  if (req.url === '/bulk') { res.writeHead(200, { 'content-length': bulk.length }); res.end(bulk); }
  else res.end('ok');
}).listen(443);
`;

export function egressTargetRunArgs(target: { name: string; network: string; certsDir: string; bulkBytes: number }, image: string): string[] {
  return [
    'run',
    '--detach',
    ...['--name', target.name],
    ...['--label', `${BENCH_LABEL}=1`],
    ...['--network', target.network, '--network-alias', EGRESS_TARGET_NAME],
    ...['--env', `BULK_BYTES=${target.bulkBytes}`],
    ...['--volume', `${target.certsDir}:/certs:ro`],
    image,
    ...['node', '-e', EGRESS_TARGET_SERVER],
  ];
}

/**
 * Run inside the instance as "mcp" (the MCP server's user, whose traffic the
 * firewall hands to the enforcer): HOST CONNECTIONS WARMUP BULK_BYTES BULK_RUNS,
 * the test CA in BENCH_CA. Each fetch is a new connection (agent: false) and
 * so a new DNS lookup, as a server that does not pool would do. Prints one JSON
 * line: { connectMs: [...], bulkMs: [...] } or { error }.
 */
export const EGRESS_CLIENT = `
const https = require('https');
const [host, connections, warmup, bulkBytes, bulkRuns] = process.argv.slice(1);
const fetch = (path) => new Promise((resolve, reject) => {
  const start = process.hrtime.bigint();
  const req = https.get({ host, port: 443, path, ca: process.env.BENCH_CA, agent: false }, (res) => {
    let bytes = 0;
    res.on('data', (d) => (bytes += d.length));
    res.on('end', () => res.statusCode === 200 ? resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, bytes }) : reject(new Error('HTTP ' + res.statusCode)));
  });
  req.on('error', reject);
  req.setTimeout(60000, () => req.destroy(new Error('timeout')));
});
(async () => {
  for (let i = 0; i < Number(warmup); i++) await fetch('/');
  const connectMs = [];
  for (let i = 0; i < Number(connections); i++) connectMs.push((await fetch('/')).ms);
  const bulkMs = [];
  for (let i = 0; i < Number(bulkRuns); i++) {
    const r = await fetch('/bulk');
    if (r.bytes !== Number(bulkBytes)) throw new Error('bulk: ' + r.bytes + ' bytes, expected ' + bulkBytes);
    bulkMs.push(r.ms);
  }
  console.log(JSON.stringify({ connectMs, bulkMs }));
})().catch((e) => { console.log(JSON.stringify({ error: e.code || e.message })); process.exit(1); });
`;

export function egressClientExecArgs(container: string, ca: string, plan: EgressPlan): string[] {
  return [
    'exec',
    ...['--user', 'mcp', '--env', `BENCH_CA=${ca}`],
    container,
    ...['node', '-e', EGRESS_CLIENT],
    ...[EGRESS_TARGET_NAME, String(plan.connections), String(plan.warmupConnections), String(plan.bulkBytes), String(plan.bulkRuns)],
  ];
}

/** The enforcer's process (found by its program's path), its VmRSS and VmHWM in kB. */
export const ENFORCER_MEMORY_SCRIPT = `for d in /proc/[0-9]*; do
  if grep -q 'egress-gateway/src/[m]ain.mjs' "$d/cmdline" 2>/dev/null; then grep -E '^(VmRSS|VmHWM):' "$d/status"; fi
done`;

/** `VmRSS:  41234 kB` / `VmHWM: ...` lines (one process) in bytes. */
export function parseEnforcerMemory(text: string): { rssBytes: number; peakRssBytes: number } {
  const field = (name: string) => {
    const found = [...text.matchAll(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'gm'))];
    if (found.length !== 1) throw new Error(`expected one egress enforcer with ${name} in /proc, found ${found.length}: '${text.trim()}'`);
    return Number(found[0]![1]) * 1024;
  };
  return { rssBytes: field('VmRSS'), peakRssBytes: field('VmHWM') };
}

/** What the client printed, checked: the planned number of samples, each a positive time. */
export function parseClientOutput(stdout: string, plan: EgressPlan): { connectMs: number[]; bulkMs: number[] } {
  const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { connectMs?: number[]; bulkMs?: number[]; error?: string };
  if (parsed.error) throw new Error(`the fetch from inside the instance failed: ${parsed.error}`);
  const { connectMs = [], bulkMs = [] } = parsed;
  if (connectMs.length !== plan.connections || bulkMs.length !== plan.bulkRuns)
    throw new Error(`the client returned ${connectMs.length} connections and ${bulkMs.length} bulk runs`);
  if (![...connectMs, ...bulkMs].every((v) => Number.isFinite(v) && v > 0)) throw new Error('the client returned a time that is not a positive number');
  return { connectMs, bulkMs };
}

export function egressPhase(egress: string, samples: { connectMs: number[]; bulkMs: number[] }, bulkBytes: number): EgressPhase {
  const bulkMedianMs = percentile(samples.bulkMs, 50);
  return {
    egress,
    connections: samples.connectMs.length,
    connectP50Ms: percentile(samples.connectMs, 50),
    connectP99Ms: percentile(samples.connectMs, 99),
    bulkBytes,
    bulkRuns: samples.bulkMs.length,
    bulkMedianMs,
    bulkMBps: bulkBytes / 1e6 / (bulkMedianMs / 1000),
  };
}

/** The targets for the enforcer. */
export const EGRESS_LIMITS = {
  /** Issue 23: at most +1 ms p50 per new connection through the enforcer. */
  connectP50OverOpenMs: 1,
  /** Issue 23: bulk download through the enforcer at no less than 0.8x the throughput with open. */
  bulkOverOpen: 0.8,
} as const;

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));

export function egressTargets(egress: EgressResult): TargetVerdict[] {
  const added = egress.named.connectP50Ms - egress.open.connectP50Ms;
  const ratio = egress.named.bulkMBps / egress.open.bulkMBps;
  return [
    {
      id: 'egress-connect-p50',
      target: `a new HTTPS connection through the egress enforcer (MCP_EGRESS=<name>): p50 at most ${EGRESS_LIMITS.connectP50OverOpenMs} ms over MCP_EGRESS=open`,
      measured: `${added >= 0 ? '+' : ''}${fixed(added)} ms (${fixed(egress.named.connectP50Ms)} ms vs ${fixed(egress.open.connectP50Ms)} ms)`,
      pass: added <= EGRESS_LIMITS.connectP50OverOpenMs,
    },
    {
      id: 'egress-bulk',
      target: `bulk download through the egress enforcer >= ${EGRESS_LIMITS.bulkOverOpen}x the throughput with MCP_EGRESS=open`,
      measured: `${fixed(ratio)}x (${fixed(egress.named.bulkMBps, 0)} vs ${fixed(egress.open.bulkMBps, 0)} MB/s)`,
      pass: ratio >= EGRESS_LIMITS.bulkOverOpen,
    },
  ];
}

export function egressSanityProblems(egress: EgressResult): string[] {
  const problems: string[] = [];
  for (const phase of [egress.open, egress.named]) {
    for (const [label, value] of [
      ['connections', phase.connections],
      ['connection p50', phase.connectP50Ms],
      ['bulk MB/s', phase.bulkMBps],
    ] as const) {
      if (!(Number.isFinite(value) && value > 0)) problems.push(`egress ${phase.egress} ${label} is ${value}, expected a number above 0`);
    }
    if (phase.connectP99Ms < phase.connectP50Ms)
      problems.push(`egress ${phase.egress} connection p99 ${phase.connectP99Ms} is below p50 ${phase.connectP50Ms}`);
  }
  if (!(egress.enforcerMemory.rssBytes > 0)) problems.push(`the egress enforcer's RSS is ${egress.enforcerMemory.rssBytes}, expected a number above 0`);
  return problems;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function renderEgress(egress: EgressResult): string {
  const row = (p: EgressPhase) => [
    `MCP_EGRESS=${p.egress}`,
    fixed(p.connectP50Ms),
    fixed(p.connectP99Ms),
    String(p.connections),
    fixed(p.bulkMBps, 0),
    `${p.bulkRuns} x ${mb(p.bulkBytes)}`,
  ];
  const lines = [row(egress.open), row(egress.named)].map((cells) => `| ${cells.join(' | ')} |`);
  const added = egress.named.connectP50Ms - egress.open.connectP50Ms;
  const addedP99 = egress.named.connectP99Ms - egress.open.connectP99Ms;
  return [
    `${egress.description}`,
    '',
    '| Egress | new connection p50 ms | p99 ms | connections | bulk MB/s (median) | bulk runs |',
    '| --- | --- | --- | --- | --- | --- |',
    ...lines,
    '',
    `Added by the enforcer per new connection: ${added >= 0 ? '+' : ''}${fixed(added)} ms p50, ${addedP99 >= 0 ? '+' : ''}${fixed(addedP99)} ms p99; bulk ${fixed(egress.named.bulkMBps / egress.open.bulkMBps)}x open.`,
    `The enforcer's memory (${egress.enforcerMemory.source}): RSS ${mb(egress.enforcerMemory.idleRssBytes)} idle, ${mb(egress.enforcerMemory.rssBytes)} after the load, peak ${mb(egress.enforcerMemory.peakRssBytes)}.`,
  ].join('\n');
}
