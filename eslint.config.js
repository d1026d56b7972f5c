// ESLint for the whole repository (`npm run lint`): type-aware rules for the
// TypeScript (the CLI, its tests and the bench), plain JavaScript rules for the
// gateways and build scripts that run inside the image. Formatting is
// Prettier's job (`prettier --check .`), so no stylistic rule is enabled here.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '**/node_modules/',
      '**/bundle/',
      'build-extra/',
      'profiles/',
      // Servers the tests run inside the sandbox, some hostile on purpose.
      'test/fixtures/',
      'bench/guide-runtime/',
    ],
  },

  // --- TypeScript: the CLI, the tests, the bench -------------------------------
  {
    files: ['package_scripts/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // One tsconfig, one program: `project` builds it once. (projectService built
      // it a second time partway through here, for a quarter more time.)
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names mark a parameter or binding that is there for its position.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Numbers, booleans and the like in messages are fine; objects still are not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
    },
  },
  {
    // commander hands each action its options as `any`; every command parses
    // them with its own zod schema first thing (rawOptions), so they are checked there.
    files: ['package_scripts/program.ts'],
    rules: { '@typescript-eslint/no-unsafe-argument': 'off', '@typescript-eslint/no-unsafe-member-access': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // node:test's describe/test return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] }] },
      ],
      // Tests drive the gateways' untyped JavaScript and read JSON answers (tool
      // results, docker inspect) as `any`; the assertions on them are the type check.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Fakes implement async interfaces (run, probeEndpoint, connect) without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },

  // --- JavaScript: gateways, build steps and scripts (no type information) -----
  {
    files: ['**/*.mjs', '**/*.cjs', 'eslint.config.js', 'docker/common/runtime/bin/mcp-probe'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
