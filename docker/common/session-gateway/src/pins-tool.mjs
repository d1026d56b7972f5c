#!/usr/bin/env node
// @ts-check
// `npm run tools` inside the container, run as warden (docker exec --user warden):
// the host never writes the warden's volume itself.
//   pins-tool.mjs show                  the pins and what is withheld, as JSON
//   pins-tool.mjs accept NAME...        pin these withheld tools' new definitions
//   pins-tool.mjs accept-all            pin every withheld tool's new definition
// The running gateway sees the new pins.json at its next listing or call (pins.mjs).
import { join } from 'node:path';
import { PENDING_FILE, PINS_FILE, WARDEN_DIR, readJson, toolsOf, writeJson } from './pins.mjs';

/**
 * What `show` prints and `accept` works on: pending entries already matching their pin are gone.
 * @param {string} dir
 */
export function readState(dir) {
  const pinsFile = readJson(join(dir, PINS_FILE));
  /** @type {Record<string, import('./pins.mjs').Pin>} */
  const pinned = toolsOf(pinsFile);
  /** @type {Record<string, import('./pins.mjs').Pending>} */
  const pending = Object.fromEntries(Object.entries(toolsOf(readJson(join(dir, PENDING_FILE)))).filter(([name, p]) => pinned[name]?.hash !== p.hash));
  return { pinnedYet: pinsFile !== undefined, pinned, pending };
}

/**
 * Moves the named pending definitions (all when `names` is undefined) into the pins.
 * @param {string} dir @param {string[] | undefined} names @param {Date} [at]
 * @returns {{ accepted: string[] } | { unknown: string[] }}
 */
export function accept(dir, names, at = new Date()) {
  const { pinned, pending } = readState(dir);
  const chosen = names ?? Object.keys(pending);
  const unknown = chosen.filter((n) => !(n in pending));
  if (unknown.length > 0) return { unknown };
  for (const name of chosen) pinned[name] = { hash: pending[name].hash, definition: pending[name].definition, pinned: at.toISOString() };
  writeJson(join(dir, PINS_FILE), { tools: pinned });
  for (const name of chosen) delete pending[name];
  writeJson(join(dir, PENDING_FILE), { tools: pending });
  return { accepted: chosen };
}

/** @param {string[]} argv @param {string} dir */
export function run(argv, dir) {
  const [command, ...names] = argv;
  if (command === 'show') return { code: 0, out: readState(dir) };
  if (command === 'accept' || command === 'accept-all') {
    if (command === 'accept' && names.length === 0) return { code: 2, out: { error: 'accept needs tool names' } };
    const result = accept(dir, command === 'accept-all' ? undefined : names);
    if ('unknown' in result) return { code: 2, out: { error: `not withheld: ${result.unknown.join(', ')}`, unknown: result.unknown } };
    return { code: 0, out: result };
  }
  return { code: 2, out: { error: `unknown command '${command ?? ''}': show, accept NAME..., accept-all` } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let result;
  try {
    result = run(process.argv.slice(2), process.env.PINS_DIR || WARDEN_DIR);
  } catch (e) {
    result = { code: 1, out: { error: e instanceof Error ? e.message : String(e) } };
  }
  process.stdout.write(`${JSON.stringify(result.out)}\n`);
  process.exitCode = result.code;
}
