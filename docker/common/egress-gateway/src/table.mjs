#!/usr/bin/env node
// @ts-check
// What the firewall (docker/common/runtime/bin/firewall) installs for one
// MCP_EGRESS value, printed one rule a line for the bash to read, so the
// redirect table and the address rules have one source (enforcer.mjs and
// grammar.cjs):
//   mode allowlist|learn|open|none
//   redirect DESTINATION_PORT LISTEN_PORT      (TCP, for the MCP server's user)
//   dns LISTEN_PORT                            (UDP and TCP 53)
//   resolver ADDRESS                           (the enforcer's upstream, /etc/resolv.conf)
//   address 4|6 ADDRESS/PREFIX PORT|-          (an address rule; - is every port)
// Usage: table.mjs MCP_EGRESS [RESOLV_CONF]. A value the grammar refuses exits 78
// with the grammar's message, before anything is installed.
import { readFileSync } from 'node:fs';
import grammar from './grammar.cjs';
import { redirectTable } from './enforcer.mjs';
import { resolverOf } from './resolv-conf.mjs';

/**
 * @param {string} value
 * @param {string} resolvConf the text of /etc/resolv.conf
 * @returns {string[]}
 */
export function firewallLines(value, resolvConf) {
  const table = redirectTable(value);
  const lines = [`mode ${table.mode}`];
  if (!('redirects' in table)) return lines;
  for (const { destinationPort, listenPort } of table.redirects) lines.push(`redirect ${destinationPort} ${listenPort}`);
  lines.push(`dns ${table.dnsPort}`, `resolver ${resolverOf(resolvConf)}`);
  const setting = grammar.parseEgress(value);
  for (const rule of 'rules' in setting ? setting.rules : []) {
    if (rule.kind === 'network') lines.push(`address ${rule.family} ${rule.address}/${rule.prefix} ${rule.port ?? '-'}`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const lines = firewallLines(process.argv[2] ?? '', readFileSync(process.argv[3] ?? '/etc/resolv.conf', 'utf8'));
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (error) {
    process.stderr.write(`[sandbox] error: ${/** @type {Error} */ (error).message}\n`);
    process.exit(78);
  }
}
