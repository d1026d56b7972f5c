// @ts-check
// Pinned tool definitions (the rug-pull defence, docs/SECURITY.md): a hash of
// each tool's definition (name, description, input and output schema,
// annotations; canonical JSON, so key order does not matter) is pinned at the
// instance's first start (trust on first use), in the warden's folder, which
// the server's user cannot reach. Later a tool whose definition differs from
// its pin ("changed since pinned"), or that has no pin ("new since pinned"),
// is withheld: tool-policy.mjs's filter leaves it out of every listing and
// refuses a call of it. What was withheld is kept in pending.json beside the
// pins, for `npm run tools` to show and accept (pins-tool.mjs, run as warden).
// The gateway re-reads pins.json when it changes (a stat per listing or call),
// so accepted pins apply without a restart.
// Imports only node built-ins: pins-tool.mjs is shipped beside it, unbundled.
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The warden's folder: the volume NAME-warden (WARDEN_VOLUME_TARGET in package_scripts/docker/names.ts). */
export const WARDEN_DIR = '/var/lib/mcp-sandbox/warden';
export const PINS_FILE = 'pins.json';
export const PENDING_FILE = 'pending.json';

/** The parts of a tool that make its definition: what a client shows its model. */
export const DEFINITION_KEYS = ['name', 'description', 'inputSchema', 'outputSchema', 'annotations'];

/**
 * JSON with object keys sorted at every depth: equal values give equal text.
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A tool's definition: only the keys that make it (a server's _meta or icons do not).
 * @param {any} tool
 * @returns {Record<string, unknown>}
 */
export function definitionOf(tool) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const key of DEFINITION_KEYS) if (tool?.[key] !== undefined) out[key] = tool[key];
  return out;
}

/** @param {any} tool */
export const definitionHash = (tool) =>
  createHash('sha256')
    .update(canonicalJson(definitionOf(tool)))
    .digest('hex');

/**
 * @typedef {{ hash: string, definition: Record<string, unknown>, pinned?: string }} Pin
 * @typedef {{ kind: 'changed' | 'new', hash: string, definition: Record<string, unknown>, seen: string }} Pending
 * @typedef {{ tools: Record<string, Pin> }} PinsFile
 * @typedef {{ tools: Record<string, Pending> }} PendingFile
 */

/**
 * The JSON in a file, `undefined` when it does not exist; throws on anything else.
 * @param {string} path
 */
export function readJson(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text);
}

/**
 * Written whole or not at all (a reader never sees half a file): a temporary file, then rename.
 * @param {string} path @param {unknown} value
 */
export function writeJson(path, value) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The tools of a pins or pending file, `{}` when it has none. @param {any} file */
export const toolsOf = (file) => (file && typeof file.tools === 'object' && file.tools !== null ? file.tools : {});

/** The sentence a withheld tool's refusal and the log give. @param {string} name @param {'changed' | 'new'} kind */
export const withheldReason = (name, kind) =>
  `${kind === 'changed' ? 'its definition changed since it was pinned' : 'it is new since the tools were pinned'}; ` +
  `see the difference with 'npm run tools' and accept it with 'npm run tools -- --accept ${name}'`;

/**
 * The gateway's pins: one per gateway, shared by its sessions.
 * @param {{ dir?: string, log: { info: (l: string) => void, error: (l: string) => void }, now?: () => Date }} options
 */
export function createPins({ dir = WARDEN_DIR, log, now = () => new Date() }) {
  const pinsPath = join(dir, PINS_FILE);
  const pendingPath = join(dir, PENDING_FILE);
  /** false: pins live in memory only (the folder is not writable), for this container's life. */
  let persistent = true;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    persistent = false;
    log.error(
      `tool pins: ${dir} is not writable (${messageOf(e)}): tool definitions are pinned in memory only, until this container stops; ` +
        'mount the volume NAME-warden there to keep them (npm run up does)',
    );
  }
  /** @type {Record<string, Pin>} */
  let pins = {};
  /** stat of the pins file as last read ('' when absent; null before the first read) @type {string | null} */
  let stamp = null;
  /** No pins file at start: the first complete listing is trusted and pinned. */
  let firstUse = false;
  /** @type {Map<string, Pending>} */
  const pending = new Map();
  /** The latest definition each tool had in any session's listing: judges a call made before its session listed. @type {Map<string, string>} */
  const latest = new Map();

  const statStamp = () => {
    try {
      const s = statSync(pinsPath);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return '';
    }
  };

  /** Reads pins.json when it changed since the last read (accepted pins apply without a restart). */
  function refresh() {
    if (!persistent) return;
    const now = statStamp();
    if (now === stamp) return;
    stamp = now;
    try {
      const file = readJson(pinsPath);
      pins = toolsOf(file);
      if (file === undefined) firstUse = true;
    } catch (e) {
      // Unreadable pins trust nothing: every tool is withheld until `npm run tools -- --accept-all` writes them anew.
      pins = {};
      log.error(`tool pins: ${pinsPath} is unreadable (${messageOf(e)}): every tool is withheld until accepted (npm run tools)`);
    }
    let pruned = false;
    for (const [name, p] of pending) {
      if (pins[name]?.hash === p.hash) {
        pending.delete(name);
        pruned = true;
      }
    }
    if (pruned) savePending();
  }

  function savePending() {
    if (!persistent) return;
    try {
      writeJson(pendingPath, { tools: Object.fromEntries(pending) });
    } catch (e) {
      log.error(`tool pins: could not write ${pendingPath} (${messageOf(e)})`);
    }
  }

  function savePins() {
    if (!persistent) return;
    try {
      writeJson(pinsPath, { tools: pins });
      stamp = statStamp();
    } catch (e) {
      persistent = false;
      log.error(`tool pins: could not write ${pinsPath} (${messageOf(e)}): tool definitions are pinned in memory only, until this container stops`);
    }
  }

  refresh();
  if (!persistent) firstUse = true;

  return {
    active: true,
    /**
     * A page of a tools/list answer from a server: pinned when this is the first use,
     * else its changed and new tools are recorded as pending (and logged once).
     * @param {any[]} tools @param {boolean} complete whether it is the listing's last page
     */
    observe(tools, complete) {
      refresh();
      const at = now().toISOString();
      if (firstUse) {
        for (const tool of tools)
          if (typeof tool?.name === 'string') pins[tool.name] = { hash: definitionHash(tool), definition: definitionOf(tool), pinned: at };
        if (complete) {
          firstUse = false;
          savePins();
          log.info(`tool pins: pinned ${Object.keys(pins).length} tool definition(s) on first use (${pinsPath})`);
        }
      }
      let changed = false;
      for (const tool of tools) {
        if (typeof tool?.name !== 'string') continue;
        const hash = definitionHash(tool);
        latest.set(tool.name, hash);
        const pin = pins[tool.name];
        if (pin?.hash === hash) {
          if (pending.delete(tool.name)) changed = true;
          continue;
        }
        if (pending.get(tool.name)?.hash === hash) continue;
        /** @type {'changed' | 'new'} */
        const kind = pin ? 'changed' : 'new';
        pending.set(tool.name, { kind, hash, definition: definitionOf(tool), seen: at });
        changed = true;
        log.error(`tool pins: withheld tool '${tool.name}': ${withheldReason(tool.name, kind)}`);
      }
      if (changed) savePending();
    },
    /**
     * Why this tool is withheld, or undefined when its definition matches its pin.
     * `tool` is its definition as this session last listed it; without one, the latest any session listed;
     * without that either (nothing listed since start), the pin itself.
     * @param {unknown} name @param {any} [tool]
     * @returns {string | undefined}
     */
    withheldBy(name, tool) {
      if (typeof name !== 'string') return 'its name is not a string';
      refresh();
      if (firstUse) return undefined;
      const pin = pins[name];
      if (!pin) return withheldReason(name, 'new');
      const hash = tool ? definitionHash(tool) : latest.get(name);
      // Listed by no session since the gateway started (a client that calls after a restart
      // without listing again): the pin stands. What the client knows of the tool came from a
      // listing this gateway filtered, so it is the pinned definition; a changed one is withheld
      // from the next listing, and from calls once any session has listed it.
      if (hash === undefined) return undefined;
      return hash === pin.hash ? undefined : withheldReason(name, 'changed');
    },
    /** How many tools are withheld as changed or new (for tests and health). */
    get pendingCount() {
      return pending.size;
    },
  };
}

/** @typedef {ReturnType<typeof createPins>} Pins */

/** @param {unknown} e */
const messageOf = (e) => (e instanceof Error ? e.message : String(e));
