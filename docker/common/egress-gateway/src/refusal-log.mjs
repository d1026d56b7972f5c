// @ts-check
// What the user reads in `npm run logs`: each refused destination at most once
// a minute, in a form that names what to add to MCP_EGRESS, e.g.
//   egress refused: other.example:443 (TLS name not in MCP_EGRESS)
// Allowed connections only at debug. A server that makes up names (a DNS
// tunnel tries a new one per query) would otherwise fill the log, so at most
// maxLinesPerWindow distinct destinations are written per window; the rest
// are counted and summed up in one line when the next window opens.

/**
 * @typedef {{ type: 'refused', name?: string, port?: number, reason: string }} Refusal
 * @typedef {{ type: 'allowed', name: string, port: number, address: string }} Allowance
 * @typedef {{
 *   write: (line: string) => void,
 *   debug?: boolean,
 *   now?: () => number,
 *   windowMs?: number,
 *   maxLinesPerWindow?: number,
 * }} LogOptions
 */

/**
 * The destination as the user would write it: name:port, name (DNS), or "port N" without a name.
 * @param {{ name?: string, port?: number }} event
 */
export function destination({ name, port }) {
  if (name === undefined) return port === undefined ? 'a destination' : `a connection to port ${port}`;
  return port === undefined ? name : `${name}:${port}`;
}

/** @param {LogOptions} options */
export function createRefusalLog({ write, debug = false, now = Date.now, windowMs = 60_000, maxLinesPerWindow = 20 }) {
  /** @type {Map<string, number>} destination → when last written */
  const lastWritten = new Map();
  let windowStart = -Infinity;
  let linesThisWindow = 0;
  let suppressed = 0;

  const openWindow = () => {
    const time = now();
    if (time - windowStart < windowMs) return;
    if (suppressed > 0) write(`egress refused: ${suppressed} more destination(s) in the last minute, not shown one by one`);
    windowStart = time;
    linesThisWindow = 0;
    suppressed = 0;
    for (const [key, when] of lastWritten) if (time - when >= windowMs) lastWritten.delete(key);
  };

  return {
    /** @param {Refusal | Allowance | { type: string }} event */
    report(event) {
      if (event.type === 'allowed') {
        const allowed = /** @type {Allowance} */ (event);
        if (debug) write(`egress allowed: ${destination(allowed)} (${allowed.address})`);
        return;
      }
      if (event.type !== 'refused') return;
      const refusal = /** @type {Refusal} */ (event);
      openWindow();
      const where = destination(refusal);
      const key = `${where} ${refusal.reason}`;
      const last = lastWritten.get(key);
      if (last !== undefined && now() - last < windowMs) return;
      if (linesThisWindow >= maxLinesPerWindow) {
        suppressed += 1;
        return;
      }
      lastWritten.set(key, now());
      linesThisWindow += 1;
      write(`egress refused: ${where} (${refusal.reason})`);
    },
  };
}
