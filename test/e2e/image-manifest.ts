/**
 * A manifest of an image's filesystem: for every path, its type, owner, mode
 * and content (sha256) or link target. Read from `docker export` of a created,
 * never started container and parsed here, so nothing inside the image runs
 * while it is measured (a tampered image cannot lie about itself).
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export interface ManifestEntry {
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  uid: number;
  gid: number;
  /** Permission bits with setuid, setgid and sticky (0o7777). */
  mode: number;
  /** sha256 of a file's content, or the target of a link. */
  content: string;
}

export type Manifest = Map<string, ManifestEntry>;

const BLOCK = 512;
const TYPES: Record<string, ManifestEntry['type']> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'dir', '2': 'symlink', '1': 'hardlink' };

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function number(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    // base-256, for values that do not fit in octal
    let value = field[0]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits === '' ? 0 : parseInt(digits, 8);
}

function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(data.subarray(offset, space).toString());
    if (!length) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

const normalize = (path: string) => '/' + path.replace(/^\.?\/+/, '').replace(/\/+$/, '');

/** Parse a tar file (ustar, pax and GNU long names) into a manifest. */
export function manifestOfTar(file: string): Manifest {
  const manifest: Manifest = new Map();
  const fd = openSync(file, 'r');
  const header = Buffer.alloc(BLOCK);
  const chunk = Buffer.alloc(1 << 20);
  let position = 0;
  let pending: { path?: string; linkpath?: string } = {};
  const read = (size: number, onData: (data: Buffer) => void) => {
    let left = size;
    while (left > 0) {
      const got = readSync(fd, chunk, 0, Math.min(left, chunk.length), position);
      if (got === 0) throw new Error(`${file}: truncated tar`);
      onData(chunk.subarray(0, got));
      position += got;
      left -= got;
    }
    position += (BLOCK - (size % BLOCK)) % BLOCK;
  };
  try {
    for (;;) {
      if (readSync(fd, header, 0, BLOCK, position) < BLOCK) break;
      position += BLOCK;
      if (header.every((b) => b === 0)) break;
      const typeflag = String.fromCharCode(header[156]!);
      const size = number(header, 124, 12);
      if (typeflag === 'x' || typeflag === 'L' || typeflag === 'K') {
        const parts: Buffer[] = [];
        read(size, (data) => parts.push(Buffer.from(data)));
        const data = Buffer.concat(parts);
        if (typeflag === 'x') {
          const records = paxRecords(data);
          pending = { path: records.path ?? pending.path, linkpath: records.linkpath ?? pending.linkpath };
        } else if (typeflag === 'L') pending.path = text(data, 0, data.length);
        else pending.linkpath = text(data, 0, data.length);
        continue;
      }
      if (typeflag === 'g') {
        read(size, () => undefined);
        continue;
      }
      const prefix = text(header, 345, 155);
      const name = pending.path ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
      const linkname = pending.linkpath ?? text(header, 157, 100);
      pending = {};
      const type = TYPES[typeflag] ?? 'other';
      const hash = createHash('sha256');
      read(type === 'file' ? size : 0, (data) => hash.update(data));
      manifest.set(normalize(name), {
        type,
        uid: number(header, 108, 8),
        gid: number(header, 116, 8),
        mode: number(header, 100, 8) & 0o7777,
        content: type === 'file' ? hash.digest('hex') : type === 'symlink' || type === 'hardlink' ? linkname : '',
      });
    }
  } finally {
    closeSync(fd);
  }
  return manifest;
}

/** The manifest of IMAGE's filesystem (a container is created for `docker export`, never started). */
export async function imageManifest(image: string): Promise<Manifest> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-sandbox-manifest-'));
  const created = await execa('docker', ['create', image]);
  const id = created.stdout.trim();
  try {
    await execa('docker', ['export', '--output', join(dir, 'rootfs.tar'), id]);
    return manifestOfTar(join(dir, 'rootfs.tar'));
  } finally {
    await execa('docker', ['rm', '-f', id], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  }
}

export const describeEntry = (path: string, e: ManifestEntry | undefined) =>
  e ? `${path} ${e.type} ${e.uid}:${e.gid} ${e.mode.toString(8).padStart(4, '0')} ${e.content}` : `${path} (absent)`;

/** Paths whose entries differ between two manifests, as readable lines. */
export function manifestDifferences(a: Manifest, b: Manifest, include: (path: string) => boolean): string[] {
  const paths = new Set([...a.keys(), ...b.keys()].filter(include));
  return [...paths]
    .filter((path) => describeEntry(path, a.get(path)) !== describeEntry(path, b.get(path)))
    .sort()
    .map((path) => `- ${describeEntry(path, a.get(path))}\n+ ${describeEntry(path, b.get(path))}`);
}
