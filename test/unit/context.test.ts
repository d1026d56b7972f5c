import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { stageBuildContext } from '../../package_scripts/docker/context.js';
import { resolveSettings } from '../../package_scripts/settings/load.js';
import { makeProjectDir } from './project-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'mcp-context-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

it('stages the Dockerfile, docker/ and build-extra/ with the CA bundle, but no node_modules and no .env', async () => {
  const project = join(root, 'project');
  for (const dir of ['docker/ngrok/gateway/node_modules/@ngrok/ngrok', 'build-extra/ca', 'build-extra/server'])
    mkdirSync(join(project, dir), { recursive: true });
  writeFileSync(join(project, 'Dockerfile'), 'FROM scratch\n');
  makeProjectDir(project);
  writeFileSync(join(project, 'docker/ngrok/gateway/package-lock.json'), '{}');
  writeFileSync(join(project, 'docker/ngrok/gateway/node_modules/@ngrok/ngrok/index.js'), 'stale');
  const envFile = join(project, '.env');
  writeFileSync(envFile, 'ACCESS_TOKEN=x\n');
  const ca = join(root, 'ca.pem');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
  const settings = resolveSettings({ ACCESS_TOKEN: 'ab'.repeat(32), EXTRA_CA_CERT: ca }, envFile, { hostEnv: { HOME: root }, projectDir: project });

  const staged = await stageBuildContext(settings, project);
  try {
    assert.ok(existsSync(join(staged.dir, 'Dockerfile')));
    assert.ok(existsSync(join(staged.dir, 'docker/ngrok/gateway/package-lock.json')));
    assert.ok(!existsSync(join(staged.dir, 'docker/ngrok/gateway/node_modules')), 'a local node_modules stays out');
    assert.ok(existsSync(join(staged.dir, 'build-extra/ca/extra-ca.crt')));
    assert.ok(!existsSync(join(staged.dir, '.env')));
    assert.equal(staged.serverSpec, settings.server.display);
  } finally {
    staged.dispose();
  }
  assert.ok(!existsSync(staged.dir), 'dispose removes the staged folder');
});
