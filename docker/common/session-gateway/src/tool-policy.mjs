// @ts-check
// The tool policy (MCP_TOOLS, MCP_TOOLS_DENY), applied to JSON-RPC messages
// between a client and its server: every tools/list answer (each page) lists
// only allowed tools, and a tools/call of any other tool is answered here with
// an error naming the setting, never reaching the server. A list_changed
// notification passes: the client's next tools/list is filtered like the first.
// Prompts and resources are not filtered (docs/GUIDE.md, "Limiting and auditing tools").
// The pinned tool definitions (pins.mjs) withhold through the same filter: a
// changed or new tool is left out of listings and its calls refused the same way.
// Pure: the session (sessions.mjs) sends what these functions return.
import rules from '../../runtime/js/setting-rules.cjs';

const { TOOL_PATTERN } = rules;

/** JSON-RPC "invalid params": what MCP answers for an unknown tool. */
export const WITHHELD_CODE = -32602;

/**
 * The entries of MCP_TOOLS or MCP_TOOLS_DENY (the grammar of package_scripts/settings/tools.ts,
 * through the generated TOOL_PATTERN), or a message naming the setting and the bad entry.
 * @param {string} setting
 * @param {string} value
 * @returns {{ entries: string[] } | { issue: string }}
 */
export function parseToolList(setting, value) {
  if (value.trim() === '') return { entries: [] };
  const entries = value.split(',').map((e) => e.trim());
  const bad = entries.find((e) => !TOOL_PATTERN.test(e));
  if (bad === undefined) return { entries };
  return {
    issue:
      `${setting} has ${bad === '' ? 'an empty entry' : `'${bad}', which is not a tool name or pattern`}: ` +
      'give comma-separated tool names of letters, digits and _ - . / :, with * for any run of characters (such as read_*,list_directory)',
  };
}

/** @param {string} pattern a tool name with `*` for any run of characters */
const globRegExp = (pattern) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  );

/**
 * @typedef {{ allow: string[], deny: string[] }} ToolLists
 * @typedef {{ active: boolean, lists: ToolLists, withheldBy: (name: unknown) => string | undefined, unmatched: (names: Iterable<string>) => string[] }} ToolPolicy
 */

/**
 * @param {ToolLists} lists empty allow: every tool; the deny list wins
 * @returns {ToolPolicy}
 */
export function toolPolicy(lists) {
  const allow = lists.allow.map((p) => ({ p, re: globRegExp(p) }));
  const deny = lists.deny.map((p) => ({ p, re: globRegExp(p) }));
  return {
    active: allow.length > 0 || deny.length > 0,
    lists,
    /** Why a tool is withheld (the setting's sentence), or undefined when it is allowed. */
    withheldBy(name) {
      if (typeof name !== 'string') return allow.length > 0 || deny.length > 0 ? 'its name is not a string' : undefined;
      const denied = deny.find(({ re }) => re.test(name));
      if (denied) return `MCP_TOOLS_DENY matches it ('${denied.p}')`;
      if (allow.length > 0 && !allow.some(({ re }) => re.test(name))) return 'MCP_TOOLS does not list it';
      return undefined;
    },
    /** "SETTING 'entry'" for each entry that matches none of these tool names: a typo must not pass silently. */
    unmatched(names) {
      const all = [...names];
      return [
        ...allow.filter(({ re }) => !all.some((n) => re.test(n))).map(({ p }) => `MCP_TOOLS '${p}'`),
        ...deny.filter(({ re }) => !all.some((n) => re.test(n))).map(({ p }) => `MCP_TOOLS_DENY '${p}'`),
      ];
    },
  };
}

/**
 * One session's filter. `fromClient` returns the error response for a call the
 * policy refuses (the caller sends it to the client and nothing to the server),
 * else undefined; `fromServer` returns the message as the client may see it, and
 * the tool names of a complete listing (`listed`, after its last page).
 * With `pins`, a tool is also withheld when its definition differs from its pin
 * (judged by the definition this session's server last listed for it).
 * @param {ToolPolicy} policy
 * @param {import('./pins.mjs').Pins} [pins]
 */
export function toolFilter(policy, pins) {
  /**
   * ids of the client's tools/list requests still unanswered, as strings: the SDK's client
   * matches a response to a request by Number(id), so an answer with id "1" to request 1 must
   * be filtered as well. @type {Set<string>}
   */
  const lists = new Set();
  /** names seen over the pages of the listing in progress @type {string[]} */
  let pages = [];
  /** this session's tools as its server last listed them, by name @type {Map<string, any>} */
  const seen = new Map();
  const active = policy.active || pins !== undefined;
  /** Which guard withholds this tool and why, or undefined. @param {unknown} name @param {any} [tool] */
  const withheld = (name, tool) => {
    const why = policy.withheldBy(name);
    if (why !== undefined) return { by: 'tool policy', why };
    const pinned = pins?.withheldBy(name, tool);
    return pinned === undefined ? undefined : { by: 'pinned tool definitions', why: pinned };
  };
  return {
    /** @param {any} message @returns {object | undefined} */
    fromClient(message) {
      if (!active || message === null || typeof message !== 'object' || !('id' in message)) return undefined;
      if (message.method === 'tools/list') lists.add(String(message.id));
      if (message.method !== 'tools/call') return undefined;
      const name = message.params?.name;
      const found = withheld(name, typeof name === 'string' ? seen.get(name) : undefined);
      if (found === undefined) return undefined;
      return {
        jsonrpc: '2.0',
        id: message.id,
        error: {
          code: WITHHELD_CODE,
          message: `Tool '${String(name)}' is withheld by this sandbox's ${found.by}: ${found.why}`,
          data: { tool: name, withheld: found.why, by: found.by },
        },
      };
    },
    /** @param {any} message @returns {{ message: any, listed?: string[] }} */
    fromServer(message) {
      // A batch (JSON-RPC arrays, which some clients still take): each of its answers is filtered.
      if (Array.isArray(message)) {
        const each = message.map((m) => this.fromServer(m));
        const listed = each.flatMap((e) => e.listed ?? []);
        return { message: each.map((e) => e.message), ...(each.some((e) => e.listed) ? { listed } : {}) };
      }
      if (!active || message === null || typeof message !== 'object' || !('id' in message) || 'method' in message || !lists.has(String(message.id))) {
        return { message };
      }
      lists.delete(String(message.id));
      const tools = message.result?.tools;
      if (!Array.isArray(tools)) return { message };
      pages.push(...tools.map((t) => t?.name).filter((n) => typeof n === 'string'));
      const last = message.result.nextCursor === undefined;
      pins?.observe(tools, last);
      for (const t of tools) if (typeof t?.name === 'string') seen.set(t.name, t);
      const kept = tools.filter((t) => withheld(t?.name, t) === undefined);
      const filtered = { ...message, result: { ...message.result, tools: kept } };
      if (!last) return { message: filtered };
      const listed = pages;
      pages = [];
      return { message: filtered, listed };
    },
  };
}
