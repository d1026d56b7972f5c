#!/usr/bin/env node
// Writes profiles/seccomp.json from package_scripts/sandbox/seccomp.ts (compile first:
// `npm run compile`). A unit test fails while the two differ.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderSeccompProfile } = await import(join(root, 'dist', 'package_scripts', 'sandbox', 'seccomp.js'));
writeFileSync(join(root, 'profiles', 'seccomp.json'), renderSeccompProfile());
console.log('profiles/seccomp.json written');
