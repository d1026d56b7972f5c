// @ts-check
// Learn mode (MCP_EGRESS=learn): egress is open, and every destination name the
// server reaches is recorded, so that the user can run the server once and
// then paste the MCP_EGRESS line that allows exactly what was seen. Nothing is
// collapsed: no wildcard is made up from several names, and a name seen on one
// port only is written with that port. A name seen on both 443 and 80 is
// written bare, which means exactly those two ports (grammar.cjs).
import grammar from './grammar.cjs';

const { DEFAULT_NAME_PORTS, canonicalName } = grammar;

export function createLearnRecorder() {
  /** @type {Map<string, Set<number>>} name → ports */
  const seen = new Map();
  return {
    /**
     * @param {string} name as the client sent it @param {number} port
     * @returns {boolean} whether it was recorded (a value that is no host name is not)
     */
    record(name, port) {
      const canonical = canonicalName(name);
      if (canonical === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return false;
      const ports = seen.get(canonical) ?? new Set();
      ports.add(port);
      seen.set(canonical, ports);
      return true;
    },
    /** Every name with its ports, sorted. @returns {{ name: string, ports: number[] }[]} */
    destinations() {
      return [...seen.keys()].sort().map((name) => ({ name, ports: [...(seen.get(name) ?? [])].sort((a, b) => a - b) }));
    },
    /** The MCP_EGRESS line that allows exactly what was seen (none when nothing was). */
    egressLine() {
      const entries = this.destinations().flatMap(({ name, ports }) => {
        const both = ports.length === DEFAULT_NAME_PORTS.length && DEFAULT_NAME_PORTS.every((port) => ports.includes(port));
        return both ? [name] : ports.map((port) => `${name}:${port}`);
      });
      return `MCP_EGRESS=${entries.length === 0 ? 'none' : entries.join(',')}`;
    },
  };
}
