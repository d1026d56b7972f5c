#!/usr/bin/env node
// Writes the rules the container checks for plain `docker run` users from the
// CLI's own tables (compile first: `npm run compile`). A unit test fails while
// they differ.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const settings = join(root, 'dist', 'package_scripts', 'settings');
const { renderLoaderEnvNames, renderReservedEnvNames } = await import(join(settings, 'env-names.js'));
const { renderSettingRules } = await import(join(settings, 'container-rules.js'));
const runtime = join(root, 'docker', 'common', 'runtime');
writeFileSync(join(runtime, 'tables', 'reserved-env-names'), renderReservedEnvNames());
writeFileSync(join(runtime, 'tables', 'loader-env-names'), renderLoaderEnvNames());
writeFileSync(join(runtime, 'js', 'setting-rules.cjs'), renderSettingRules());
console.log('docker/common/runtime/tables/reserved-env-names and loader-env-names, docker/common/runtime/js/setting-rules.cjs written');
