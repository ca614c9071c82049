/**
 * History in real Chromium: the range switch is links (the page it leads to keeps its range as
 * it refreshes live), and a task's metrics fit 400 px in light and dark (screenshots:
 * /tmp/history-task-400-*.png).
 */
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser } from '../helpers/browser.js'

vi.setConfig({ expect: { poll: PATIENCE } })

const work = defineTask({ key: 'work', fields: [{ key: 'fail', type: 'bool', default: false }], maxAttempts: 1, run: (ctx) => (ctx.args.fail ? Promise.reject(new Error('no')) : 'done') })

const run = browserAvailable() ? describe : describe.skip

run('history in Chromium', { timeout: 60_000 }, () => {
  let engine: Engine
  let server: RunningServer
  let browser: Browser
  const contexts = new Contexts(() => browser)

  beforeAll(async () => {
    engine = createEngine({ tasks: [work], pollIntervalMs: 20 })
    await engine.start()
    server = await serve(engine, { port: 0 })
    browser = await launchBrowser()
  })
  afterEach(() => contexts.closeAll())
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
  })

  it('switches ranges by links and keeps the range through live refreshes', async () => {
    const page = await (await contexts.open({ viewport: { width: 1366, height: 900 } })).newPage()
    await page.goto(`${server.url}/admin`)
    await page.waitForSelector('#live-state[data-state="live"]')
    await page.click('.range-switch [data-range="7d"]')
    await page.waitForURL(/\/admin\?range=7d$/)
    await expect.poll(() => page.locator('[data-live-region="chart"] h2').textContent()).toBe('Last 7 days')
    expect(await page.locator('.range-switch [aria-current="true"]').textContent()).toBe('7 d')
    // A run finishing refreshes the regions in place: still the week, now counting it.
    await engine.enqueue(work, { fail: true })
    await expect.poll(() => page.locator('[data-live-region="summary"]').textContent()).toMatch(/finished in the last 7 days, 1 failed \(\d+(\.\d)?%\)\./)
    expect(await page.locator('[data-live-region="chart"] h2').textContent()).toBe('Last 7 days')
  })

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`shows a task's metrics within 400 px (${colorScheme})`, async () => {
      const runs = await engine.enqueueMany(work, [{}, {}, { fail: true }])
      for (const r of runs) await expect.poll(async () => (await engine.getRun(r.id))?.finishedAt !== null).toBe(true)
      const page = await (await contexts.open({ viewport: { width: 400, height: 860 }, colorScheme })).newPage()
      await page.goto(`${server.url}/admin/task/work?range=24h`)
      await page.waitForSelector('.task-metrics [data-metric="failure-rate"]')
      expect(await page.locator('.task-metrics h2').textContent()).toBe('Last 24 hours')
      expect(await page.locator('[data-metric="duration"]').textContent()).toMatch(/^p50 \d+ ms · p95 \d+ ms · max \d+ ms$/)
      const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
      expect(overflow).toBe(0)
      await page.screenshot({ path: `/tmp/history-task-400-${colorScheme}.png`, fullPage: true })
    })
  }
})
