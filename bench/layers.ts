import type { ImageLayer } from './types.js';

/** One line of `docker history --format '{{json .}}' --human=false --no-trunc`. */
export interface HistoryEntry {
  ID: string;
  CreatedBy: string;
  Size: string;
}

export function parseHistory(jsonLines: string): HistoryEntry[] {
  return jsonLines
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as HistoryEntry);
}

/** The steps our Dockerfile added on top of the base, in build order (oldest first). */
export function ourSteps(image: readonly HistoryEntry[], base: readonly HistoryEntry[]): HistoryEntry[] {
  if (image.length < base.length) throw new Error('the image has fewer history entries than its base: wrong base image?');
  return image.slice(0, image.length - base.length).reverse();
}

export function layerSizes(steps: readonly HistoryEntry[]): ImageLayer[] {
  return steps
    .map((s) => ({ createdBy: s.CreatedBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, '').trim(), sizeBytes: Number(s.Size) }))
    .filter((l) => l.sizeBytes > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes);
}

// A step that runs something (RUN); metadata and COPY steps are "#(nop)".
const runs = (step: HistoryEntry) => !step.CreatedBy.includes('#(nop)');

export interface LayerReuse {
  osLayerReused: boolean;
  gatewayLayerReused: boolean;
  reusedSteps: number;
  totalSteps: number;
}

/**
 * Which steps of `changed` came from the build cache of `original`: a cached
 * step keeps its intermediate image ID. The OS step is the RUN that calls
 * setup-os, the session gateway's the COPY of its bundle into /opt/session-gateway;
 * a step that cannot be found counts as not reused.
 */
export function compareLayers(original: readonly HistoryEntry[], changed: readonly HistoryEntry[]): LayerReuse {
  const originalIds = new Set(original.map((s) => s.ID).filter((id) => id.startsWith('sha256:')));
  const reused = (step: HistoryEntry | undefined) => step !== undefined && originalIds.has(step.ID);
  const osStep = changed.find((s) => runs(s) && s.CreatedBy.includes('setup-os'));
  const gatewaySteps = changed.filter((s) => s.CreatedBy.includes('/opt/session-gateway'));
  let reusedSteps = 0;
  for (const step of changed) if (reused(step)) reusedSteps += 1;
  return {
    osLayerReused: reused(osStep),
    gatewayLayerReused: gatewaySteps.length > 0 && gatewaySteps.every(reused),
    reusedSteps,
    totalSteps: changed.length,
  };
}
