// @ts-check
// The session policy, kept free of I/O so it can be tested on its own.
// A session is "idle" while no HTTP request of its client is open: no POST in
// flight and no GET stream. A client that holds its GET stream (the SDK client
// and mcp-remote do) is never idle, however long it stays quiet; a client
// that initialized and walked away, crashed, or lost its connection is.

/** Sessions idle for at least idleMs, oldest first. */
export function expiredSessions(sessions, now, idleMs) {
  return [...sessions].filter((s) => s.open === 0 && now - s.lastActive >= idleMs).sort((a, b) => a.lastActive - b.lastActive);
}

/**
 * Room for one more session: `{}` when below the limit, `{ victim }` (the
 * idle session quiet for the longest) when at it, `{ full: true }` when every
 * session is in use.
 */
export function makeRoom(sessions, max) {
  const all = [...sessions];
  if (all.length < max) return {};
  const idle = all.filter((s) => s.open === 0).sort((a, b) => a.lastActive - b.lastActive);
  return idle.length > 0 ? { victim: idle[0] } : { full: true };
}

/** What Docker's health check and `status` report. */
export function healthOf({ sessions, max, selfCheckDone, lastStart }) {
  const all = [...sessions];
  const idle = all.filter((s) => s.open === 0).length;
  if (!selfCheckDone) return { ok: false, state: 'starting', text: 'starting: the first MCP round trip has not finished' };
  if (lastStart && !lastStart.ok) {
    return { ok: false, state: 'server-failed', text: `MCP server failed: ${lastStart.error}`, lines: lastStart.stderr ?? [] };
  }
  if (all.length >= max && idle === 0) {
    return { ok: false, state: 'full', text: `no session capacity: all ${max} sessions (MCP_MAX_SESSIONS) are in use` };
  }
  return { ok: true, state: 'ok', text: `ok: ${all.length} of ${max} sessions (${idle} idle)` };
}
