#!/usr/bin/env node
// @ts-check
// The egress enforcer as the container runs it (the entrypoint starts it as
// user "egress", before the session gateway): MCP_EGRESS from the environment,
// the engine's resolver from /etc/resolv.conf, refusals on stderr (the
// container's log, `npm run logs`), LOG_LEVEL=debug adds allowed connections.
// It writes into STATE_DIR (/run/sandbox/egress, its own folder):
//   ready    once every listener is up (the entrypoint waits for it; the
//            health check reads the DNS port from it)
//   learned  in learn mode, the MCP_EGRESS line that allows what was reached
//            (`npm run egress-learned` reads it)
// If it dies the firewall's redirect stays: the server's connections are
// refused, never let through, and the watcher stops the container.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { startEnforcer } from './enforcer.mjs';
import { hostAliasesOf } from './host-aliases.mjs';
import { resolverOf } from './resolv-conf.mjs';

const stateDir = process.env.EGRESS_STATE_DIR || '/run/sandbox/egress';
const egress = process.env.MCP_EGRESS ?? '';
const debug = process.env.LOG_LEVEL === 'debug';

/** Written whole or not at all: the readers never see half a file. @param {string} name @param {string} text */
function writeState(name, text) {
  const file = join(stateDir, name);
  writeFileSync(`${file}.tmp`, text);
  // Readable by all (the CLI's docker exec, the health check as nobody): the
  // entrypoint's umask 077 would otherwise make it the enforcer's alone.
  chmodSync(`${file}.tmp`, 0o644);
  renameSync(`${file}.tmp`, file);
}

function hasIpv6Loopback() {
  return Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv6' && a.address === '::1'));
}

const upstream = { host: resolverOf(readFileSync('/etc/resolv.conf', 'utf8')), port: 53 };
const enforcer = await startEnforcer({
  egress,
  upstream,
  // IPv4 to 127.0.0.1, IPv6 to ::1: REDIRECT sends each family to its loopback.
  // ::1 only where the container has it (an engine may turn IPv6 off).
  hosts: hasIpv6Loopback() ? ['127.0.0.1', '::1'] : ['127.0.0.1'],
  write: (line) => process.stderr.write(`[egress] ${line}\n`),
  debug,
  hostAliases: hostAliasesOf(readFileSync('/etc/hosts', 'utf8')),
});

if (enforcer.mode === 'learn') {
  let written = 'MCP_EGRESS=none';
  writeState('learned', `${written}\n`);
  setInterval(() => {
    const line = enforcer.learnedLine() ?? '';
    if (line === written) return;
    writeState('learned', `${line}\n`);
    process.stderr.write(`[egress] learned so far: ${line}\n`);
    written = line;
  }, 1000);
}
writeState('ready', `${enforcer.dnsPort}\n`);
process.stderr.write(`[egress] enforcing MCP_EGRESS=${egress} (resolver ${upstream.host})\n`);

const stop = () => enforcer.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
