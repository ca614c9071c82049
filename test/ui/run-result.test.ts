/**
 * In real Chromium: the run page's Result section shows a partial result (`ctx.setResult`) live
 * while the run runs, each update as it comes, then the final data merged over it; a failed run's
 * page shows the partial result it kept.
 *
 * One engine, server and browser; pages are closed after each test, runs left going are
 * cancelled in a `finally`. Waits are on conditions, never on time.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser } from '../helpers/browser.js'
import { runReaches } from '../helpers/runs.js'

vi.setConfig({ expect: { poll: PATIENCE } })

/** Steps the test lets the handler take, one at a time. */
const steps: (() => void)[] = []
const step = (): Promise<void> => new Promise((resolve) => steps.push(resolve))
const next = async (): Promise<void> => {
  await vi.waitFor(() => expect(steps.length).toBeGreaterThan(0), PATIENCE)
  steps.shift()!()
}

const copier = defineTask({
  key: 'copier',
  fields: [{ key: 'fail', type: 'bool' }],
  async run(ctx) {
    await step()
    ctx.setResult({ copied: 1 })
    await step()
    ctx.setResult({ copied: 2, skipped: 1 })
    await step()
    if (ctx.args.fail) throw new Error('disk full')
    return { total: 3 }
  },
})

const run = browserAvailable() ? describe : describe.skip

run('partial results on the run page in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let engine: Engine
  let server: RunningServer
  let browser: Browser
  const contexts = new Contexts(() => browser)
  const url = (path: string): string => `http://127.0.0.1:${server.port}${path}`

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskengine-run-result-'))
    engine = createEngine({ tasks: [copier], store: sqliteStore(join(dir, 'runs.db')), pollIntervalMs: 20, progressIntervalMs: 1 })
    await engine.start({ concurrency: 2 })
    server = await serve(engine, { port: 0, onError: () => undefined })
    browser = await launchBrowser()
  }, 60_000)

  afterEach(() => contexts.closeAll())

  afterAll(async () => {
    await contexts.closeAll()
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
    rmSync(dir, { recursive: true, force: true })
  })

  it('shows the partial result as it grows, then the final data merged over it', async () => {
    const { id } = await engine.enqueue(copier, {})
    try {
      await runReaches(engine, id, 'running')
      const page = await (await contexts.open({ viewport: { width: 1360, height: 900 } })).newPage()
      const problems: string[] = []
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      await page.goto(url(`/admin/runs/${id}`))
      const section = page.locator('#run-result')
      expect(await section.locator('[data-result-note]').textContent()).toBe('Not finished yet.')
      expect(await section.locator('[data-result-box]').isHidden()).toBe(true)
      // Live, from the stream's result events: no reload.
      await page.evaluate('window.notReloaded = true')
      await next()
      await vi.waitFor(async () => expect(await page.locator('#run-data').textContent()).toBe('{\n  "copied": 1\n}'), PATIENCE)
      expect(await section.locator('[data-result-note]').textContent()).toBe('Partial result so far.')
      expect(await section.locator('.json').isVisible()).toBe(true)
      expect(await section.locator('.json').textContent()).toContain('copied')
      await next()
      await vi.waitFor(async () => expect(JSON.parse((await page.locator('#run-data').textContent()) ?? '{}')).toEqual({ copied: 2, skipped: 1 }), PATIENCE)
      expect(await page.evaluate('window.notReloaded')).toBe(true)
      // The end reloads the page: the final data, merged, with no note.
      await next()
      await runReaches(engine, id, 'succeeded')
      await vi.waitFor(async () => expect(await page.evaluate('window.notReloaded')).toBeUndefined(), PATIENCE)
      await vi.waitFor(async () => expect(JSON.parse((await page.locator('#run-data').textContent()) ?? '{}')).toEqual({ copied: 2, skipped: 1, total: 3 }), PATIENCE)
      expect(await page.locator('#run-result [data-result-note]').count()).toBe(0)
      expect(problems).toEqual([])
    } finally {
      await engine.cancel(id).catch(() => undefined)
      while (steps.length > 0) steps.shift()!()
    }
  })

  it('shows the partial result a failed run kept, server-rendered', async () => {
    const { id } = await engine.enqueue(copier, { fail: true }, { maxAttempts: 1 })
    try {
      for (let i = 0; i < 3; i++) await next()
      await runReaches(engine, id, 'failed')
      const page = await (await contexts.open({ viewport: { width: 1360, height: 900 }, javaScriptEnabled: false })).newPage()
      await page.goto(url(`/admin/runs/${id}`))
      expect(await page.locator('#run-result [data-result-note]').textContent()).toBe('Partial result: the run failed.')
      expect(JSON.parse((await page.locator('#run-data').textContent()) ?? '{}')).toEqual({ copied: 2, skipped: 1 })
    } finally {
      while (steps.length > 0) steps.shift()!()
    }
  })
})
