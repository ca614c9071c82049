import { defineConfig } from 'vitest/config'

/**
 * `npm run test:unit`: the fast tier. Pure modules and in-memory SQLite, the tests beside the
 * code in src/; no PostgreSQL, no Chromium, no child processes, no build. `npm test` runs
 * everything (vitest.config.ts).
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    testTimeout: 20_000,
    reporters: ['default'],
  },
})
