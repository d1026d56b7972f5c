/**
 * Loads the egress enforcer's plain JavaScript modules
 * (docker/common/egress-gateway/src) as the image runs them, for the unit
 * tests beside this file.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const egressSourceDir = join(repoRoot, 'docker', 'common', 'egress-gateway', 'src');

export const egressModule = async (file: string) => (await import(pathToFileURL(join(egressSourceDir, file)).href)) as Record<string, any>;

export interface NameRule {
  kind: 'name';
  name: string;
  wildcard: boolean;
  ports: number[];
}
export interface NetworkRule {
  kind: 'network';
  family: 4 | 6;
  address: string;
  prefix: number;
  port?: number;
}
export type EgressRule = NameRule | NetworkRule;
export type EgressSetting = { mode: 'open' | 'none' | 'learn' } | { mode: 'allowlist'; rules: EgressRule[] };

/** The grammar module, typed as the CLI will require it. */
export const grammar = createRequire(import.meta.url)(join(egressSourceDir, 'grammar.cjs')) as {
  DEFAULT_NAME_PORTS: readonly number[];
  SYNTAX: string;
  parseEgress: (value: string) => EgressSetting | { error: string };
  formatEgress: (setting: EgressSetting) => string;
  canonicalName: (name: string) => string | undefined;
  allows: (rules: readonly EgressRule[], name: string, port: number) => boolean;
  allowsName: (rules: readonly EgressRule[], name: string) => boolean;
  allowsAddress: (rules: readonly EgressRule[], ip: string, port: number) => boolean;
  namePorts: (rules: readonly EgressRule[]) => number[];
  portOwner: (rules: readonly EgressRule[], port: number) => string | undefined;
};

/** The rules of an allowlist, or a failed assertion naming the value. */
export function rulesOf(value: string): EgressRule[] {
  const setting = grammar.parseEgress(value);
  if ('error' in setting || setting.mode !== 'allowlist') throw new Error(`expected an allowlist from ${value}: ${JSON.stringify(setting)}`);
  return setting.rules;
}
