/**
 * The pinned tool definitions of a running instance (the session gateway's
 * pins.mjs keeps them in the warden's volume): read and accepted through one
 * `docker exec --user warden` of the pins tool shipped in the image
 * (pins-tool.mjs), so the host never writes the volume itself.
 */
import { toolPinsArgs } from '../docker/argv.js';
import type { DockerEngine } from '../docker/engine.js';
import { StateError } from '../errors.js';
import { definitionDiff, type ToolDefinition } from './tool-pins-diff.js';

export interface Pin {
  hash: string;
  definition: ToolDefinition;
  pinned?: string;
}
export interface PendingTool {
  kind: 'changed' | 'new';
  hash: string;
  definition: ToolDefinition;
  seen?: string;
}
export interface PinState {
  /** false until the gateway pinned its first listing */
  pinnedYet: boolean;
  pinned: Record<string, Pin>;
  /** Tools withheld since they differ from their pin or have none. */
  pending: Record<string, PendingTool>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the pins tool printed, or undefined when it is not a pin state (an image without pins, a stopped container). */
export function parsePinState(stdout: string): PinState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || !isRecord(value.pinned) || !isRecord(value.pending)) return undefined;
  return { pinnedYet: value.pinnedYet === true, pinned: value.pinned as PinState['pinned'], pending: value.pending as PinState['pending'] };
}

/** The pin state of a running container, or undefined when it cannot be read. */
export async function readPinState(docker: DockerEngine, container: string): Promise<PinState | undefined> {
  const read = await docker.run(toolPinsArgs(container, ['show']), { allowFailure: true });
  return read.exitCode === 0 ? parsePinState(read.stdout) : undefined;
}

/** Pins the named withheld tools' new definitions (all of them without names); returns the names accepted. */
export async function acceptPins(docker: DockerEngine, container: string, names: readonly string[] | 'all'): Promise<string[]> {
  const args = names === 'all' ? ['accept-all'] : ['accept', ...names];
  const result = await docker.run(toolPinsArgs(container, args), { allowFailure: true });
  let out: { accepted?: string[]; error?: string } = {};
  try {
    out = JSON.parse(result.stdout) as typeof out;
  } catch {
    // reported below
  }
  if (result.exitCode !== 0 || !Array.isArray(out.accepted)) {
    throw new StateError(
      `Could not accept the tools: ${out.error ?? (result.stderr.trim() || `the pins tool exited ${result.exitCode}`)}`,
      '`npm run tools` lists the withheld tools that can be accepted',
    );
  }
  return out.accepted;
}

/** "2 tools changed since pinned, 1 new", or undefined when nothing is withheld. */
export function pendingSummary(state: PinState): string | undefined {
  const kinds = Object.values(state.pending).map((p) => p.kind);
  const changed = kinds.filter((k) => k === 'changed').length;
  const fresh = kinds.length - changed;
  const parts = [
    ...(changed > 0 ? [`${changed} tool${changed === 1 ? '' : 's'} changed since pinned`] : []),
    ...(fresh > 0 ? [`${fresh} ${changed > 0 ? '' : `tool${fresh === 1 ? '' : 's'} `}new since pinned`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** What `npm run tools` prints: the withheld tools with their diffs, then the pinned ones. */
export function formatPinState(name: string, state: PinState): string {
  if (!state.pinnedYet) return `${name}: no tool is pinned yet (the first listing of its tools will be pinned).`;
  const lines: string[] = [];
  const pending = Object.entries(state.pending).sort(([a], [b]) => a.localeCompare(b));
  for (const [tool, p] of pending) {
    const pin = state.pinned[tool];
    if (p.kind === 'changed' && pin) {
      lines.push(`changed  ${tool}  (withheld: its definition differs from its pin)`);
      lines.push(...definitionDiff(pin.definition, p.definition).map((l) => `  ${l}`));
    } else {
      lines.push(`new      ${tool}  (withheld: it was not there when the tools were pinned)`);
      if (p.definition.description) lines.push(`  description: ${p.definition.description}`);
      const props = Object.keys((p.definition.inputSchema as { properties?: object } | undefined)?.properties ?? {});
      if (props.length > 0) lines.push(`  input: ${props.join(', ')}`);
    }
  }
  const served = Object.keys(state.pinned)
    .filter((t) => !(t in state.pending))
    .sort();
  lines.push(`pinned   ${served.length} tool${served.length === 1 ? '' : 's'} served as pinned${served.length > 0 ? `: ${served.join(', ')}` : ''}`);
  if (pending.length > 0) {
    lines.push('');
    lines.push(`Accept after review: npm run tools -- ${name} --accept ${pending.map(([t]) => t).join(' ')}   (or --accept-all)`);
  }
  return lines.join('\n');
}
