import { createRequire } from 'node:module';

/**
 * MCP_EGRESS: a thin wrapper over the enforcer's own grammar
 * (docker/common/egress-gateway/src/grammar.cjs), which the container reads the
 * same value with. Names are not resolved here: the container checks them on
 * the name at connection time (docs/design/EGRESS.md).
 */

export interface NameRule {
  kind: 'name';
  /** The domain, without `*.`. */
  name: string;
  /** Every name strictly under `name`, at any depth (not `name` itself). */
  wildcard: boolean;
  ports: number[];
}
export interface NetworkRule {
  kind: 'network';
  family: 4 | 6;
  address: string;
  prefix: number;
  /** TCP and UDP to this port only; every port when absent. */
  port?: number;
}
export type EgressRule = NameRule | NetworkRule;
export type EgressSetting = { mode: 'none' } | { mode: 'open' } | { mode: 'learn' } | { mode: 'allowlist'; rules: EgressRule[] };

interface Grammar {
  SYNTAX: string;
  DEFAULT_NAME_PORTS: readonly number[];
  parseEgress(value: string): EgressSetting | { error: string };
  formatEgress(setting: EgressSetting): string;
  formatRule(rule: EgressRule): string;
  namePorts(rules: readonly EgressRule[]): number[];
}

const grammar = createRequire(import.meta.url)('../../../docker/common/egress-gateway/src/grammar.cjs') as Grammar;

export const EGRESS_SYNTAX = grammar.SYNTAX;
/** The ports a name without a port means (443 and 80). */
export const DEFAULT_NAME_PORTS = grammar.DEFAULT_NAME_PORTS;

/** The setting as data, or the message that names the entry and the fix. */
export function parseEgressSetting(value: string): EgressSetting | { error: string } {
  return grammar.parseEgress(value);
}

/** The setting in its canonical form: what the container receives, and what messages and status show. */
export function describeEgress(setting: EgressSetting): string {
  return grammar.formatEgress(setting);
}

/** The ports name rules use, ascending (the enforcer's listeners). */
export function namePorts(setting: EgressSetting): number[] {
  return setting.mode === 'allowlist' ? grammar.namePorts(setting.rules) : [];
}
