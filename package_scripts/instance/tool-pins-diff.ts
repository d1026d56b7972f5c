/**
 * What changed in a tool's definition since it was pinned, for a person: the
 * description as a word diff ([-removed-] {+added+}, as `git diff --word-diff`
 * writes it), schema and annotation changes summarised by property.
 */

type Json = unknown;
export type ToolDefinition = { name?: string; description?: string; inputSchema?: Json; outputSchema?: Json; annotations?: Json };

/** Key order does not matter (the gateway hashes the same way, pins.mjs). */
export function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, Json>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Beyond this many words on a side, the description is shown whole, old and new (the word diff is quadratic). */
const WORD_DIFF_LIMIT = 1500;

/** A word diff of two texts: unchanged words as they are, removed as [-...-], added as {+...+}. */
export function wordDiff(before: string, after: string): string {
  // Words, runs of space and punctuation marks are tokens of their own: "back" and "back." share "back".
  const tokens = (text: string) => text.split(/(\s+|[^\w\s])/).filter((w) => w !== '');
  const [a, b] = [tokens(before), tokens(after)];
  if (a.length > WORD_DIFF_LIMIT || b.length > WORD_DIFF_LIMIT) return `[-${before}-]\n{+${after}+}`;
  // Longest common subsequence, table from the end.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    if (removed.length > 0) out.push(`[-${removed.join('')}-]`);
    if (added.length > 0) out.push(`{+${added.join('')}+}`);
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      flush();
      out.push(a[i]!);
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) added.push(b[j++]!);
    else removed.push(a[i++]!);
  }
  flush();
  return out.join('');
}

const propertiesOf = (schema: Json): Record<string, Json> => {
  const props = (schema as { properties?: unknown } | undefined)?.properties;
  return props && typeof props === 'object' ? (props as Record<string, Json>) : {};
};
const requiredOf = (schema: Json): string[] => {
  const r = (schema as { required?: unknown } | undefined)?.required;
  return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
};

/** One line per change of a schema: properties added, removed or changed, required ones, and anything else. */
export function schemaChanges(label: string, before: Json, after: Json): string[] {
  if (canonical(before) === canonical(after)) return [];
  if (before === undefined) return [`${label}: added`];
  if (after === undefined) return [`${label}: removed`];
  const lines: string[] = [];
  const [pa, pb] = [propertiesOf(before), propertiesOf(after)];
  const added = Object.keys(pb).filter((k) => !(k in pa));
  const removed = Object.keys(pa).filter((k) => !(k in pb));
  const changed = Object.keys(pb).filter((k) => k in pa && canonical(pa[k]) !== canonical(pb[k]));
  if (added.length > 0) lines.push(`${label}: new propert${added.length === 1 ? 'y' : 'ies'} ${added.join(', ')}`);
  if (removed.length > 0) lines.push(`${label}: propert${removed.length === 1 ? 'y' : 'ies'} removed: ${removed.join(', ')}`);
  for (const k of changed) lines.push(`${label}: property ${k} changed: ${canonical(pa[k])} -> ${canonical(pb[k])}`);
  const [ra, rb] = [requiredOf(before), requiredOf(after)];
  const nowRequired = rb.filter((k) => !ra.includes(k));
  const noLonger = ra.filter((k) => !rb.includes(k));
  if (nowRequired.length > 0) lines.push(`${label}: now required: ${nowRequired.join(', ')}`);
  if (noLonger.length > 0) lines.push(`${label}: no longer required: ${noLonger.join(', ')}`);
  const rest = (s: Json) => canonical({ ...(s as object), properties: undefined, required: undefined });
  if (rest(before) !== rest(after)) lines.push(`${label}: changed outside its properties`);
  return lines;
}

/** The lines that say how a pinned definition and a new one differ. */
export function definitionDiff(pinned: ToolDefinition, current: ToolDefinition): string[] {
  const lines: string[] = [];
  if ((pinned.description ?? '') !== (current.description ?? ''))
    lines.push('description:', ...indent(wordDiff(pinned.description ?? '', current.description ?? '')));
  lines.push(...schemaChanges('input schema', pinned.inputSchema, current.inputSchema));
  lines.push(...schemaChanges('output schema', pinned.outputSchema, current.outputSchema));
  if (canonical(pinned.annotations) !== canonical(current.annotations)) {
    const a = (pinned.annotations ?? {}) as Record<string, Json>;
    const b = (current.annotations ?? {}) as Record<string, Json>;
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      if (canonical(a[k]) !== canonical(b[k]))
        lines.push(`annotation ${k}: ${a[k] === undefined ? '(none)' : canonical(a[k])} -> ${b[k] === undefined ? '(none)' : canonical(b[k])}`);
  }
  return lines;
}

const indent = (text: string) => text.split('\n').map((l) => `    ${l}`);
