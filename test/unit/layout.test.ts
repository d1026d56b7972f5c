import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { missingTemplateFiles, TEMPLATE_FILES } from '../../package_scripts/templates/files.js';
import { templateNames } from '../../package_scripts/templates/registry.js';

// Compiled to dist/test/unit/: the project is three folders up.
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('one Dockerfile at the root serves every template (plain `docker build .` is nginx)', () => {
  const dockerfile = readFileSync(join(projectDir, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /^ARG TEMPLATE=nginx$/m);
  assert.match(dockerfile, /^COPY docker\/\$\{TEMPLATE\}\/gateway\/ /m);
  const others = readdirSync(join(projectDir, 'docker'), { recursive: true }).filter((f) => String(f).endsWith('Dockerfile'));
  assert.deepEqual(others, []);
});

test('every folder under docker/ but common/ is a registered template, and every template has a folder', () => {
  const folders = readdirSync(join(projectDir, 'docker'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'common')
    .map((entry) => entry.name);
  assert.deepEqual(folders.sort(), templateNames().sort());
});

test('every template folder holds every file of the one list (templates/files.ts), the hooks executable', () => {
  for (const template of templateNames()) assert.deepEqual(missingTemplateFiles(projectDir, template), [], `docker/${template}/`);
  // The list is the set the image reads: docker/common/ runs these hooks and reads these files.
  assert.deepEqual(
    TEMPLATE_FILES.map((f) => f.path),
    ['packages', 'gateway/prepare', 'gateway/run', 'gateway/healthcheck', 'gateway/keep-env', 'gateway/auth-mode'],
  );
  const common = readdirSync(join(projectDir, 'docker', 'common'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.parentPath.includes('node_modules'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
  for (const file of TEMPLATE_FILES.filter((f) => f.path.startsWith('gateway/'))) {
    assert.ok(common.includes(`/opt/sandbox/${file.path}`), `docker/common/ uses ${file.path}`);
  }
});

test('a template folder that lacks a file of the list is found out, each file named (the check can fail)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-template-files-'));
  try {
    mkdirSync(join(dir, 'docker', 'half', 'gateway'), { recursive: true });
    writeFileSync(join(dir, 'docker', 'half', 'packages'), '');
    writeFileSync(join(dir, 'docker', 'half', 'gateway', 'run'), '#!/bin/sh\n', { mode: 0o644 });
    assert.deepEqual(
      missingTemplateFiles(dir, 'half').map((line) => line.split(/[ :]/)[0]),
      ['gateway/prepare', 'gateway/run', 'gateway/healthcheck', 'gateway/keep-env', 'gateway/auth-mode'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Supergateway 4.0.0 and the esbuild that bundles it are pinned exactly, with a lockfile', () => {
  // The bench's reference only (bench/supergateway/Dockerfile); the product image does not carry it.
  const manifest = JSON.parse(readFileSync(join(projectDir, 'bench', 'supergateway', 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(projectDir, 'bench', 'supergateway', 'package-lock.json'), 'utf8'));
  assert.equal(manifest.dependencies.supergateway, '4.0.0');
  assert.equal(lock.packages['node_modules/supergateway'].version, '4.0.0');
  assert.match(manifest.devDependencies.esbuild, /^\d+\.\d+\.\d+$/);
  assert.equal(lock.packages['node_modules/esbuild'].version, manifest.devDependencies.esbuild);
});

test('the ngrok SDK is pinned exactly, with a lockfile', () => {
  const gateway = join(projectDir, 'docker', 'ngrok', 'gateway');
  const manifest = JSON.parse(readFileSync(join(gateway, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(gateway, 'package-lock.json'), 'utf8'));
  assert.equal(manifest.dependencies['@ngrok/ngrok'], '1.7.0');
  assert.equal(lock.packages['node_modules/@ngrok/ngrok'].version, '1.7.0');
  assert.equal(lock.packages['node_modules/@ngrok/ngrok-linux-x64-gnu'].version, '1.7.0');
});

test('`npm run cli` lists every npm script a user runs', async () => {
  const { COMMANDS } = await import('../../package_scripts/program.js');
  const scripts = Object.keys(JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')).scripts as Record<string, string>);
  const userScripts = scripts.filter((name) => !['prepare', 'compile'].includes(name) && !name.startsWith('test') && !name.startsWith('lint'));
  assert.deepEqual(COMMANDS.map(([command]) => command.replace('npm run ', '')).sort(), userScripts.sort());
});

/** Every .ts file under package_scripts/, as a path relative to it. */
function sourceFiles(): string[] {
  return readdirSync(join(projectDir, 'package_scripts'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .sort();
}

/** The relative imports of every .ts file under package_scripts/, as [file, imported file], both relative to package_scripts/. */
function importsOf(files: readonly string[]): Array<[string, string]> {
  return files.flatMap((file) =>
    [...readFileSync(join(projectDir, 'package_scripts', file), 'utf8').matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)].map((m): [string, string] => [
      file,
      posix.normalize(posix.join(posix.dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
    ]),
  );
}

/** A room: the folder a file is in, or the file itself at the top of package_scripts/. */
const roomOf = (file: string) => (file.includes('/') ? `${file.split('/')[0]}/` : file);

/** The floors written in docs/ARCHITECTURE.md ("### Floors"), as room → floor. */
function documentedFloors(): Map<string, number> {
  const doc = readFileSync(join(projectDir, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const block = /### Floors\n[\s\S]*?```\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const floors = new Map<string, number>();
  for (const line of block.split('\n')) {
    const match = /^\s*(\d+)\s+(.+)$/.exec(line);
    if (match) for (const room of match[2]!.trim().split(/\s+/)) floors.set(room, Number(match[1]));
  }
  return floors;
}

/** Imports that do not go to a lower floor (or stay in their room), as "file -> file (floor -> floor)". */
function floorViolations(imports: ReadonlyArray<[string, string]>, floors: ReadonlyMap<string, number>): string[] {
  return imports
    .filter(([from, to]) => roomOf(from) !== roomOf(to) && !(floors.get(roomOf(to))! < floors.get(roomOf(from))!))
    .map(([from, to]) => `${from} -> ${to} (floor ${floors.get(roomOf(from))} -> ${floors.get(roomOf(to))})`);
}

test('every room of package_scripts/ stands on a floor of docs/ARCHITECTURE.md, and every floor names rooms that exist', () => {
  const floors = documentedFloors();
  const rooms = [...new Set(sourceFiles().map(roomOf))].sort();
  assert.ok(floors.size >= 10, 'the floors are read from the document');
  assert.deepEqual(rooms, [...floors.keys()].sort());
});

test('no arrow runs back up: every import goes to a lower floor or stays in its room', () => {
  const imports = importsOf(sourceFiles());
  assert.ok(imports.length > 100, 'the check sees the imports');
  assert.deepEqual(floorViolations(imports, documentedFloors()), []);
});

test('the floor check finds an arrow up, and one between rooms of one floor (it can fail)', () => {
  const floors = documentedFloors();
  assert.deepEqual(
    floorViolations(
      [
        ['tls/ca.ts', 'instance/env-file.ts'],
        ['templates/nginx.ts', 'engines/docker.ts'],
        ['start/start-instance.ts', 'export/export-files.ts'],
        ['start/start-instance.ts', 'tls/ca.ts'],
        ['export/export.ts', 'export/export-files.ts'],
      ],
      floors,
    ),
    [
      'tls/ca.ts -> instance/env-file.ts (floor 7 -> 8)',
      'templates/nginx.ts -> engines/docker.ts (floor 2 -> 2)',
      'start/start-instance.ts -> export/export-files.ts (floor 9 -> 9)',
    ],
  );
});

test('no command imports another command (shared work lives in the use-case rooms below)', () => {
  const commandToCommand = importsOf(sourceFiles()).filter(([from, to]) => from.startsWith('commands/') && to.startsWith('commands/'));
  assert.deepEqual(commandToCommand, []);
  // The check sees imports at all: every command imports its context type.
  assert.ok(importsOf(sourceFiles()).some(([from, to]) => from.startsWith('commands/') && to === 'context.ts'));
});

test('program.ts loads command modules lazily: no static import of commands/, each one behind import()', () => {
  const program = readFileSync(join(projectDir, 'package_scripts', 'program.ts'), 'utf8');
  assert.doesNotMatch(program, /^import [^;]* from '\.\/commands\//m);
  const lazy = [...program.matchAll(/import\('\.\/commands\/([\w-]+)\.js'\)/g)].map((m) => `${m[1]}.ts`).sort();
  const files = readdirSync(join(projectDir, 'package_scripts', 'commands'))
    .filter((f) => f.endsWith('.ts'))
    .sort();
  assert.deepEqual(lazy, files);
});
