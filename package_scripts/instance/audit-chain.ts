import { createRequire } from 'node:module';

/**
 * The audit trail's chain rule: a thin wrapper over the session gateway's own
 * (docker/common/runtime/js/audit-chain.cjs), which sealed the lines this
 * checks. One rule, two runtimes: test/unit/audit-chain.test.ts runs both.
 */

export interface AuditFile {
  /** The file's name, for messages (audit.jsonl, audit.jsonl.1, ...). */
  name: string;
  text: string;
}
export interface ChainBreak {
  file: string;
  /** 1-based line number within the file. */
  line: number;
  /** The line's own sequence number, when it has one. */
  seq?: number;
  problem: string;
}
export interface ChainReport {
  ok: boolean;
  lines: number;
  firstSeq?: number;
  lastSeq?: number;
  lastHash?: string;
  /** Whether the first line is the chain's very first (false: older files were rotated away). */
  startsAtGenesis: boolean;
  breaks: ChainBreak[];
}

interface Chain {
  GENESIS: string;
  canonicalJson(value: unknown): string;
  sha256(text: string): string;
  sealRecord(record: Record<string, unknown>, prev: string, seq: number): { line: string; hash: string };
  verifyFiles(files: AuditFile[]): ChainReport;
  chainTail(text: string): { hash: string; seq: number } | undefined;
}

const chain = createRequire(import.meta.url)('../../../docker/common/runtime/js/audit-chain.cjs') as Chain;

export const GENESIS = chain.GENESIS;
/** JSON with every object's keys sorted: the text a record is hashed as. */
export const canonicalJson = (value: unknown): string => chain.canonicalJson(value);
/** The line for a record after the line hashed `prev` (the gateway's writer does this in the container). */
export const sealRecord = (record: Record<string, unknown>, prev: string, seq: number) => chain.sealRecord(record, prev, seq);

/** Checks the files, oldest first: every break, named by file and line. */
export function verifyAuditFiles(files: AuditFile[]): ChainReport {
  return chain.verifyFiles(files);
}
