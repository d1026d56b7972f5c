// @ts-check
// The audit trail's chain rule, once: the session gateway's writer
// (session-gateway/src/audit.mjs) seals each line with it, and `npm run audit
// --verify` (package_scripts/audit/chain.ts, a thin wrapper) checks the lines
// with it. A line is the canonical JSON of its record plus `seq` (1, 2, ...
// across every file), `prev` (the hash of the line before; GENESIS for the
// first line ever) and `hash` (SHA-256 of the canonical JSON of everything
// else in the line). An edited line fails its own hash; a removed or moved
// line breaks the next line's `prev` and the `seq` count. Rotation does not cut
// the chain: the first line of a new file carries the last hash of the one
// before. What it cannot see: lines cut from the end (nothing follows them),
// and a writer who recomputes every hash (docs/SECURITY.md, "The audit trail").
'use strict';

const { createHash } = require('node:crypto');

/** The `prev` of the first line ever written. */
const GENESIS = '0'.repeat(64);

/** The fields the chain adds to a record; a record may not carry them itself. */
const CHAIN_FIELDS = ['seq', 'prev', 'hash'];

/**
 * JSON with every object's keys sorted (at any depth) and no spaces: one text
 * per value, whatever order its fields were built in.
 * @param {unknown} value
 * @returns {string}
 */
function canonicalJson(value) {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined, functions and symbols have no JSON: null, as inside arrays.
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = /** @type {Record<string, unknown>} */ (value);
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** @param {string} text */
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/**
 * The line for a record that follows the line hashed `prev` (numbered `seq`).
 * @param {Record<string, unknown>} record
 * @param {string} prev
 * @param {number} seq
 * @returns {{ line: string, hash: string }} the line (without its newline) and its hash, the next line's `prev`
 */
function sealRecord(record, prev, seq) {
  for (const field of CHAIN_FIELDS) if (field in record) throw new Error(`an audit record may not carry '${field}': the chain sets it`);
  const body = { ...record, seq, prev };
  const hash = sha256(canonicalJson(body));
  return { line: canonicalJson({ ...body, hash }), hash };
}

/**
 * @typedef {{ name: string, text: string }} AuditFile
 * @typedef {{ file: string, line: number, seq?: number, problem: string }} ChainBreak
 * @typedef {{ ok: boolean, lines: number, firstSeq?: number, lastSeq?: number, lastHash?: string, startsAtGenesis: boolean, breaks: ChainBreak[] }} ChainReport
 */

/**
 * Checks a sequence of files, oldest first (rotated files before the current
 * one). Every line after the first must follow the line before it; the first
 * must start the chain (seq 1, GENESIS) unless older files were rotated away,
 * which the report says (startsAtGenesis false) but is not a break. After a
 * break the check carries on from the broken line, so one edit is one break.
 * @param {AuditFile[]} files
 * @returns {ChainReport}
 */
function verifyFiles(files) {
  /** @type {ChainBreak[]} */
  const breaks = [];
  /** @type {{ hash: string, seq: number } | undefined} */
  let before;
  let lines = 0;
  /** @type {number | undefined} */
  let firstSeq;
  let startsAtGenesis = false;
  for (const { name, text } of files) {
    const rows = text.split('\n');
    if (rows.at(-1) === '') rows.pop();
    rows.forEach((row, index) => {
      lines++;
      const at = { file: name, line: index + 1 };
      /** @type {any} */
      let record;
      try {
        record = JSON.parse(row);
      } catch {
        breaks.push({ ...at, problem: 'not JSON (a damaged or partly written line)' });
        return;
      }
      if (
        record === null ||
        typeof record !== 'object' ||
        typeof record.hash !== 'string' ||
        typeof record.prev !== 'string' ||
        !Number.isInteger(record.seq)
      ) {
        breaks.push({ ...at, problem: 'not an audit line (no seq, prev or hash)' });
        return;
      }
      const { hash, ...body } = record;
      const where = { ...at, seq: record.seq };
      if (sha256(canonicalJson(body)) !== hash) breaks.push({ ...where, problem: 'edited: its content does not match its hash' });
      if (before === undefined) {
        firstSeq = record.seq;
        startsAtGenesis = record.seq === 1 && record.prev === GENESIS;
        if (!startsAtGenesis && (record.seq === 1 || record.prev === GENESIS))
          breaks.push({ ...where, problem: 'a chain start (seq 1, no line before) that is not one' });
      } else if (record.prev !== before.hash || record.seq !== before.seq + 1) {
        const missing = record.seq - before.seq - 1;
        breaks.push({
          ...where,
          problem:
            record.seq > before.seq + 1
              ? `${missing} line${missing === 1 ? '' : 's'} removed before it (line ${before.seq + 1}${missing > 1 ? ` to ${record.seq - 1}` : ''})`
              : record.seq <= before.seq
                ? `out of order: line ${record.seq} after line ${before.seq}`
                : 'does not follow the line before it (that line was edited or replaced)',
        });
      }
      before = { hash, seq: record.seq };
    });
  }
  return {
    ok: breaks.length === 0,
    lines,
    ...(firstSeq !== undefined ? { firstSeq } : {}),
    ...(before ? { lastSeq: before.seq, lastHash: before.hash } : {}),
    startsAtGenesis,
    breaks,
  };
}

/**
 * Where a writer continues the chain, from the current file's text: the last
 * line's hash and seq, or undefined when the file holds no sealed line (then
 * the writer looks at the newest rotated file, else starts at GENESIS). A
 * damaged last line (a crash mid-write) is skipped over: the next line follows
 * the last good one, and --verify reports the damaged line.
 * @param {string} text
 * @returns {{ hash: string, seq: number } | undefined}
 */
function chainTail(text) {
  const rows = text.split('\n');
  for (let i = rows.length - 1; i >= 0; i--) {
    try {
      const record = JSON.parse(/** @type {string} */ (rows[i]));
      if (record && typeof record.hash === 'string' && Number.isInteger(record.seq)) return { hash: record.hash, seq: record.seq };
    } catch {
      // not a sealed line: look further up
    }
  }
  return undefined;
}

module.exports = { GENESIS, CHAIN_FIELDS, canonicalJson, sha256, sealRecord, verifyFiles, chainTail };
