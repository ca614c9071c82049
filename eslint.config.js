// @ts-check
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// The comparison suites and the bench entry import the peers that `npm run bench` installs into
// bench/peers/node_modules (tsconfig.json leaves them out): they are linted against the bench
// build's program once the peers are there, and skipped on a fresh clone.
const benchPeerFiles = ['bench/run.ts', 'bench/peers/**/*.ts']
const benchPeersInstalled = existsSync(join(import.meta.dirname, 'bench/peers/node_modules/.package-lock.json'))

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'data/', 'test-results/', 'coverage/', 'test/fixtures/', 'bench/tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Promises the engine forgets are bugs: runs that never settle, rejections nobody sees.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  benchPeersInstalled
    ? { files: benchPeerFiles, languageOptions: { parserOptions: { projectService: false, project: './tsconfig.bench.json' } } }
    : { ignores: benchPeerFiles },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    // The admin UI's browser script: TypeScript for the browser, checked against its own program
    // (tsconfig.client.json, with the DOM). Browsers load these modules one by one from the
    // server, which serves client/ and shared/ only: no Node modules, no packages, and nothing
    // but types from the server's code (type imports compile away).
    files: ['src/server/admin/client/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.client.json' } },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'The browser has no Node modules.' },
            { regex: '^(?![.]|node:)', message: 'No packages: the browser loads only what the server serves (there is no bundler).' },
            { regex: '^\\.\\./\\.\\./', allowTypeImports: true, message: 'Only types from the server\'s code: the browser loads client/ and shared/ only.' },
          ],
        },
      ],
    },
  },
  {
    // Shared by the server-rendered views and the browser, which loads it as it is: pure, no imports.
    files: ['src/server/admin/shared/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./)', message: 'shared/ runs in the browser too: import only other shared/ modules.' }] }] },
  },
  { files: ['scripts/*.mjs', 'bench/peers/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
)
