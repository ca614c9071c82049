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
    // The admin UI's browser script: plain JavaScript with browser globals.
    files: ['src/server/admin/assets/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        localStorage: 'readonly',
        navigator: 'readonly',
        fetch: 'readonly',
        WebSocket: 'readonly',
        HTMLInputElement: 'readonly',
        HTMLTextAreaElement: 'readonly',
        HTMLSelectElement: 'readonly',
        matchMedia: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        clearTimeout: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        DOMParser: 'readonly',
        console: 'readonly',
      },
    },
  },
  { files: ['scripts/*.mjs', 'bench/peers/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
)
