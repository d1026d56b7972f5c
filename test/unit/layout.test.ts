import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/unit/: the project is three folders up.
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the root Dockerfile is an exact copy of docker/nginx/Dockerfile (plain `docker build .` works)', () => {
  const root = readFileSync(join(projectDir, 'Dockerfile'), 'utf8');
  const nginx = readFileSync(join(projectDir, 'docker', 'nginx', 'Dockerfile'), 'utf8');
  assert.ok(nginx.includes('FROM ${BASE_IMAGE}'));
  assert.equal(root, nginx);
});

test('Supergateway is pinned to 4.0.0 with a lockfile', () => {
  const manifest = JSON.parse(readFileSync(join(projectDir, 'docker', 'common', 'supergateway', 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(projectDir, 'docker', 'common', 'supergateway', 'package-lock.json'), 'utf8'));
  assert.equal(manifest.dependencies.supergateway, '4.0.0');
  assert.equal(lock.packages['node_modules/supergateway'].version, '4.0.0');
});
