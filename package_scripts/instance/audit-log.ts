import { verifyAuditFiles, type AuditFile, type ChainReport } from './audit-chain.js';

/**
 * Reading the audit trail the session gateway wrote (`npm run audit`): the
 * files as one exec prints them (docker/argv.ts readAuditArgs), put oldest
 * first, their lines parsed and filtered.
 */

export interface AuditLine {
  seq: number;
  time: string;
  event: string;
  session?: string;
  tool?: string;
  client?: { name?: string; version?: string };
  arguments?: string[];
  outcome?: string;
  durationMs?: number;
  responseBytes?: number;
  reason?: string;
  error?: string;
  [field: string]: unknown;
}

/** The files in `==> NAME <==` sections, oldest first (audit.jsonl.N before .1 before audit.jsonl). */
export function splitAuditFiles(output: string): AuditFile[] {
  const files: AuditFile[] = [];
  for (const row of output.split('\n')) {
    const header = /^==> (audit\.jsonl(?:\.\d+)?) <==$/.exec(row);
    if (header) files.push({ name: header[1]!, text: '' });
    else if (files.length > 0 && row !== '') files.at(-1)!.text += `${row}\n`;
  }
  const age = (name: string) => Number(/\.(\d+)$/.exec(name)?.[1] ?? 0);
  return files.sort((a, b) => age(b.name) - age(a.name));
}

export interface AuditFilter {
  tool?: string;
  session?: string;
  since?: number;
  until?: number;
}

/** The lines that parse, in order, kept by the filter (a session matches by its start, as the log shows 8 characters). */
export function auditLines(files: AuditFile[], filter: AuditFilter = {}): AuditLine[] {
  const lines: AuditLine[] = [];
  for (const file of files) {
    for (const row of file.text.split('\n')) {
      if (row === '') continue;
      let line: AuditLine;
      try {
        line = JSON.parse(row) as AuditLine;
      } catch {
        continue;
      }
      if (filter.tool !== undefined && line.tool !== filter.tool) continue;
      if (filter.session !== undefined && !String(line.session ?? '').startsWith(filter.session)) continue;
      const at = Date.parse(line.time);
      if (filter.since !== undefined && !(at >= filter.since)) continue;
      if (filter.until !== undefined && !(at <= filter.until)) continue;
      lines.push(line);
    }
  }
  return lines;
}

/** One line for people: time, session (8), event, tool, outcome and what else matters. */
export function describeAuditLine(line: AuditLine): string {
  const parts = [line.time, String(line.session ?? '-').slice(0, 8), line.event];
  if (line.event === 'initialize') {
    const client = line.client;
    parts.push(`client ${client?.name ?? '?'} ${client?.version ?? ''}`.trim());
  }
  if (line.tool !== undefined) parts.push(line.tool);
  if (Array.isArray(line.arguments)) parts.push(`(${line.arguments.join(', ')})`);
  if (line.outcome !== undefined) parts.push(line.outcome);
  if (line.durationMs !== undefined) parts.push(`${line.durationMs} ms`);
  if (line.responseBytes !== undefined) parts.push(`${line.responseBytes} B`);
  if (line.reason !== undefined) parts.push(`: ${line.reason}`);
  if (line.error !== undefined) parts.push(`: ${line.error}`);
  return parts.join('  ');
}

/** The verdict of --verify, in lines for people; ok false names every break by file and line. */
export function describeVerification(report: ChainReport): { ok: boolean; lines: string[] } {
  if (report.lines === 0) return { ok: true, lines: ['The audit trail is empty: nothing to verify.'] };
  const span = `lines ${report.firstSeq ?? '?'} to ${report.lastSeq ?? '?'}`;
  const start = report.startsAtGenesis
    ? 'from the first line ever written'
    : `older lines were rotated away (MCP_AUDIT_KEEP); checked from line ${report.firstSeq}`;
  if (report.ok) return { ok: true, lines: [`The audit chain is intact: ${report.lines} lines (${span}), ${start}.`] };
  return {
    ok: false,
    lines: [
      `The audit chain is broken (${report.breaks.length} break${report.breaks.length === 1 ? '' : 's'} in ${report.lines} lines):`,
      ...report.breaks.map((b) => `  ${b.file} line ${b.line}${b.seq !== undefined ? ` (seq ${b.seq})` : ''}: ${b.problem}`),
    ],
  };
}

export { verifyAuditFiles };
