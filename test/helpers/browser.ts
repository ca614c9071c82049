/**
 * Real Chromium for UI tests: Debian's `/usr/bin/chromium` driven by playwright-core (never a
 * downloaded browser). Outside CI a missing browser skips the suite loudly; under CI it fails.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Whether the browser tests can run here; prints why not (and throws under CI). */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true
  const why = `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH).`
  if (process.env.CI === 'true') throw new Error(`${why} The browser tests must run in CI.`)
  console.warn(`\n⚠️  SKIPPING the admin UI browser tests: ${why}\n`)
  return false
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  })
}
