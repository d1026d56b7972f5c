#!/usr/bin/env node
// Writes the rules the container checks for plain `docker run` users from the
// CLI's own tables (compile first: `npm run compile`). A unit test fails while
// they differ.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderLoaderEnvNames, renderReservedEnvNames } = await import(join(root, 'dist', 'package_scripts', 'settings', 'env-names.js'));
writeFileSync(join(root, 'docker', 'common', 'runtime', 'tables', 'reserved-env-names'), renderReservedEnvNames());
writeFileSync(join(root, 'docker', 'common', 'runtime', 'tables', 'loader-env-names'), renderLoaderEnvNames());
console.log('docker/common/runtime/tables/reserved-env-names and loader-env-names written');
