// @ts-check
// The audit trail: one JSON line per event (a client's initialize, each
// tools/call with its outcome, each refusal whatever refused it, each session
// end), hash-chained by the one chain rule (runtime/js/audit-chain.cjs), in
// /var/lib/mcp-sandbox/warden/audit/audit.jsonl: the volume NAME-warden,
// warden's and 0700, out of the servers' reach (docs/SECURITY.md, "The audit
// trail"). Size-capped: past MCP_AUDIT_MAX_SIZE the file becomes audit.jsonl.1
// (older ones shift up, the oldest past MCP_AUDIT_KEEP deleted) and the chain
// continues in the new file. MCP_AUDIT_STDOUT also writes each line to the
// container log ("[audit] {...}") for a log collector.
// Cheap on purpose: a synchronous append per line (the order of the chain is
// the order of the events), no fsync: a crash may lose the last lines the
// kernel had not written, which --verify cannot tell from a cut tail anyway.
// A folder it cannot write (a plain `docker run` without the volume) is logged
// once and the gateway serves on: the audit is a record, not a gate.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import chain from '../../runtime/js/audit-chain.cjs';

const { GENESIS, canonicalJson, sealRecord, sha256, chainTail } = chain;

export const AUDIT_DIR = '/var/lib/mcp-sandbox/warden/audit';
export const AUDIT_FILE = 'audit.jsonl';
/** How much of the current file's end is read at start to find the chain's last line. */
const TAIL_BYTES = 1 << 20;

/**
 * @typedef {{ enabled: boolean, dir: string, instance: string, maxSize: number, keep: number, values: boolean, stdout: boolean }} AuditSettings
 * @typedef {{ tool: unknown, started: number, args: Record<string, unknown> }} OpenCall
 */

/** @param {unknown} e */
const messageOf = (e) => (e instanceof Error ? e.message : String(e));

/**
 * @param {AuditSettings} settings
 * @param {{ log: import('./log.mjs').GatewayLog, now?: () => number, stdout?: { write: (text: string) => unknown } }} io
 */
export function createAudit(settings, { log, now = Date.now, stdout = process.stdout }) {
  const path = join(settings.dir, AUDIT_FILE);
  let prev = GENESIS;
  let seq = 0;
  let size = 0;
  /** @type {number | undefined} */
  let fd;

  function openFile() {
    mkdirSync(settings.dir, { recursive: true, mode: 0o700 });
    let tail;
    for (const name of [path, `${path}.1`]) {
      tail = chainTail(readEnd(name));
      if (tail) break;
    }
    if (tail) ({ hash: prev, seq } = tail);
    fd = openSync(path, 'a', 0o600);
    size = statSync(path).size;
  }

  if (settings.enabled) {
    try {
      openFile();
      log.info(`audit trail: ${path} (line ${seq + 1} next${settings.values ? ', argument values recorded' : ''})`);
    } catch (e) {
      fd = undefined;
      log.error(`audit trail off: cannot write ${path} (${messageOf(e)}); mount the volume NAME-warden at /var/lib/mcp-sandbox/warden (npm run start does)`);
    }
  }

  /** The current file becomes .1, .1 becomes .2, ...; the one past `keep` is deleted. */
  function rotate() {
    if (fd !== undefined) closeSync(fd);
    rmSync(`${path}.${settings.keep}`, { force: true });
    for (let i = settings.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      } catch (e) {
        if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'ENOENT') throw e;
      }
    }
    renameSync(path, `${path}.1`);
    fd = openSync(path, 'a', 0o600);
    size = 0;
  }

  /** Seals the record onto the chain and appends it. @param {Record<string, unknown>} record */
  function write(record) {
    if (!settings.enabled) return;
    const sealed = sealRecord({ v: 1, time: new Date(now()).toISOString(), instance: settings.instance, ...record }, prev, seq + 1);
    const line = `${sealed.line}\n`;
    prev = sealed.hash;
    seq++;
    if (settings.stdout) stdout.write(`[audit] ${line}`);
    if (fd === undefined) return;
    try {
      const bytes = Buffer.byteLength(line);
      if (size > 0 && size + bytes > settings.maxSize) rotate();
      writeSync(/** @type {number} */ (fd), line);
      size += bytes;
    } catch (e) {
      log.error(`audit trail off: writing ${path} failed (${messageOf(e)})`);
      fd = undefined;
    }
  }

  /** Calls sent to a server and not answered yet, by session and request id. @type {Map<string, OpenCall>} */
  const open = new Map();
  /** @param {string} session @param {unknown} id */
  const key = (session, id) => `${session} ${String(id)}`;

  /** What a call's arguments leave in the record: their names and hash; their values only with MCP_AUDIT_ARGUMENTS=values. @param {unknown} args */
  function argumentFields(args) {
    const given = args !== null && typeof args === 'object' && !Array.isArray(args) ? /** @type {Record<string, unknown>} */ (args) : {};
    return {
      arguments: Object.keys(given).sort(),
      argumentsSha256: sha256(canonicalJson(given)),
      ...(settings.values ? { values: given } : {}),
    };
  }

  return {
    /** Whether lines reach a file (false: off, or the folder could not be written). */
    get writing() {
      return fd !== undefined;
    },
    /**
     * A message from a client that reaches the server: an initialize, or a tools/call, whose outcome comes later.
     * @param {string} session @param {any} message
     */
    fromClient(session, message) {
      if (!settings.enabled || message === null || typeof message !== 'object') return;
      if (message.method === 'initialize') {
        const info = message.params?.clientInfo;
        write({
          event: 'initialize',
          session,
          client: { name: String(info?.name ?? ''), version: String(info?.version ?? '') },
          protocolVersion: message.params?.protocolVersion,
        });
      } else if (message.method === 'tools/call' && 'id' in message) {
        open.set(key(session, message.id), { tool: message.params?.name, started: now(), args: message.params?.arguments });
      }
    },
    /**
     * A message from the server: the answer to an open tools/call gets its line (ok, or error for a JSON-RPC error or isError).
     * @param {string} session @param {any} message
     */
    fromServer(session, message) {
      if (!settings.enabled || open.size === 0 || message === null || typeof message !== 'object' || !('id' in message)) return;
      const k = key(session, message.id);
      const call = open.get(k);
      if (!call) return;
      open.delete(k);
      write({
        event: 'tools/call',
        session,
        tool: call.tool,
        ...argumentFields(call.args),
        outcome: 'error' in message || message.result?.isError === true ? 'error' : 'ok',
        ...(message.error ? { error: String(message.error.message ?? '').slice(0, 500) } : {}),
        durationMs: now() - call.started,
        responseBytes: Buffer.byteLength(JSON.stringify(message)),
      });
    },
    /**
     * A request answered by the gateway itself, never reaching the server: the tool policy's (and later the pins') refusals.
     * @param {string} session @param {any} message @param {string} reason
     */
    refused(session, message, reason) {
      write({
        event: 'refusal',
        session,
        method: message?.method,
        ...(message?.method === 'tools/call' ? { tool: message.params?.name, ...argumentFields(message.params?.arguments), outcome: 'refused' } : {}),
        reason,
      });
    },
    /** The session ended: calls still open get their line (outcome error), then the end. @param {string} session @param {string} reason */
    sessionEnded(session, reason) {
      for (const [k, call] of open) {
        if (!k.startsWith(`${session} `)) continue;
        open.delete(k);
        write({
          event: 'tools/call',
          session,
          tool: call.tool,
          ...argumentFields(call.args),
          outcome: 'error',
          error: `unanswered: ${reason}`,
          durationMs: now() - call.started,
          responseBytes: 0,
        });
      }
      write({ event: 'session-end', session, reason });
    },
  };
}

/** @typedef {ReturnType<typeof createAudit>} Audit */

/** The last TAIL_BYTES of a file, '' when there is none. @param {string} name */
function readEnd(name) {
  let text;
  try {
    text = readFileSync(name);
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT') return '';
    throw e;
  }
  return text.subarray(Math.max(0, text.length - TAIL_BYTES)).toString('utf8');
}
