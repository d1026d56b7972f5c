import { envNameProblem } from './env-names.js';
import { gatewayPrefixes, templateSettingNames } from '../templates/registry.js';
import { ALIASES, settingsSchema } from './schema.js';

/** Every name the env file may hold for this tool (the server's own variables come from MCP_ENV). */
export function knownSettings(): string[] {
  return [...new Set([...Object.keys(settingsSchema.shape), ...templateSettingNames(), ...Object.keys(ALIASES)])];
}

// Names that look like ours: a typo among them is a setting silently not applied.
// NGINX_ is the prefix of an older name (ALIASES), not of a template's settings.
const SHARED_PREFIXES = ['MCP_', 'NPM_MCP', 'NGINX_', 'TLS_', 'PIP_', 'TUNNEL_'];
const looksOurs = (name: string) => [...SHARED_PREFIXES, ...gatewayPrefixes()].some((prefix) => name.startsWith(prefix));

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

export interface UnknownSetting {
  name: string;
  /** The nearest known name, when one is close enough to be the intended one. */
  suggestion?: string;
}

/**
 * Names in the env file that look like settings but are none, with the
 * nearest known name: `MCP_EGRES=open` must not pass unnoticed. Variables
 * listed in MCP_ENV are the server's, and never reported.
 */
export function unknownSettings(names: readonly string[], serverVariables: readonly string[]): UnknownSetting[] {
  const known = knownSettings();
  return names
    .filter((name) => !known.includes(name) && !serverVariables.includes(name) && !name.startsWith('DOTENV_'))
    .map((name) => {
      const [best] = known.map((setting) => ({ known: setting, d: distance(name, setting) })).sort((a, b) => a.d - b.d);
      const close = best && best.d <= Math.max(2, Math.floor(name.length / 4));
      return close ? { name, suggestion: best.known } : looksOurs(name) ? { name } : undefined;
    })
    .filter((u): u is UnknownSetting => u !== undefined);
}

export const describeUnknown = (u: UnknownSetting) =>
  `${u.name} is not a setting${u.suggestion ? ` (did you mean ${u.suggestion}?)` : ''}: ignored. docs/SETTINGS.md lists them; a variable for the server goes in MCP_ENV`;

/**
 * Variables in the env file that reach no one: not a setting, not listed in
 * MCP_ENV, and not a misspelt setting (unknownSettings reports those). A
 * server's token the owner forgot to list would otherwise be dropped in
 * silence, and the server fail later. Only names MCP_ENV could list.
 */
export function unpassedVariables(names: readonly string[], serverVariables: readonly string[]): string[] {
  const misspelt = new Set(unknownSettings(names, serverVariables).map((u) => u.name));
  const known = knownSettings();
  return names.filter(
    (name) =>
      !known.includes(name) && !serverVariables.includes(name) && !name.startsWith('DOTENV_') && !misspelt.has(name) && envNameProblem(name) === undefined,
  );
}

/** The warning for unpassedVariables, with the MCP_ENV line that passes them: names only, never a value. */
export function describeUnpassed(unpassed: readonly string[], serverVariables: readonly string[], envFile: string): string {
  const them = unpassed.length === 1 ? 'it' : 'them';
  return (
    `${unpassed.join(', ')} ${unpassed.length === 1 ? 'is' : 'are'} in ${envFile} but not passed to the MCP server (neither a setting nor listed in MCP_ENV). ` +
    `If the server needs ${them}, set: MCP_ENV=${[...serverVariables, ...unpassed].join(',')}`
  );
}
