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
const lib = join(root, 'docker', 'common', 'lib');
writeFileSync(join(lib, 'reserved-env-names'), renderReservedEnvNames());
writeFileSync(join(lib, 'loader-env-names'), renderLoaderEnvNames());
writeFileSync(join(lib, 'setting-rules.cjs'), renderSettingRules());
console.log('docker/common/lib/reserved-env-names, loader-env-names and setting-rules.cjs written');
