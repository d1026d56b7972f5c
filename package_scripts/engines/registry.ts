import { dockerEngine } from './docker.js';
import type { EngineDescriptor, EngineKind, EngineVersion } from './engine.js';
import { podmanEngine } from './podman.js';

/** Asked in this order: the first that recognises the engine's names is it; Docker, last, takes the rest. */
const ENGINES: readonly EngineDescriptor[] = [podmanEngine, dockerEngine];

export function engineOfKind(kind: EngineKind): EngineDescriptor {
  return ENGINES.find((e) => e.kind === kind)!;
}

function componentNames(version: EngineVersion): string {
  return [version.Server?.Platform?.Name ?? '', ...(version.Server?.Components ?? []).map((c) => c.Name ?? '')].join(' ');
}

/** Which engine answered `docker version`. */
export function identifyEngine(version: EngineVersion): EngineDescriptor {
  const names = componentNames(version);
  return ENGINES.find((e) => e.identifies(names))!;
}

/** The engine and its version as doctor shows them (Docker Desktop named as such). */
export function describeEngine(version: EngineVersion, operatingSystem = ''): { kind: string; version: string } {
  const engine = identifyEngine(version);
  const names = componentNames(version);
  const kind = engine === dockerEngine && /docker desktop/i.test(`${names} ${operatingSystem}`) ? 'Docker Desktop' : engine.displayName;
  const component = (version.Server?.Components ?? []).find((c) => engine !== dockerEngine && engine.identifies(c.Name ?? ''));
  return { kind, version: component?.Version || version.Server?.Version || 'unknown' };
}
