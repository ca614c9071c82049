/**
 * The run diff in real Chromium: two rows ticked in the runs list and Compare (with the script,
 * which enables the button only for two, and without it), the page showing the differing
 * argument and the added log line with hostile strings as text; a run page's attempts table
 * leading to the diff of two attempts; and the page at 400 px and in dark mode (screenshots).
 *
 * Pages are closed after each test; waits are on conditions, never on time.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine, type Run } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { HOSTILE, SHOTS } from '../helpers/admin-ui.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser } from '../helpers/browser.js'
import { runReaches } from '../helpers/runs.js'

vi.setConfig({ expect: { poll: PATIENCE } })

/** Logs a few lines (one hostile); `flaky` fails its first attempt. */
const report = defineTask({
  key: 'report',
  fields: [
    { key: 'region', type: 'string', required: true },
    { key: 'flaky', type: 'bool', default: false },
  ],
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 1 },
  run(ctx) {
    ctx.log('loading')
    for (let i = 1; i <= 30; i++) ctx.log.debug(`row ${i}`)
    ctx.log(`region ${ctx.args.region}`)
    ctx.log.warn(HOSTILE)
    if (ctx.args.flaky && ctx.attempt === 1) {
      ctx.log.error('upstream down')
      throw new Error(`upstream down ${HOSTILE}`)
    }
    ctx.log('done')
    return { region: ctx.args.region, rows: 30 }
  },
})

describe.runIf(browserAvailable())('run diff in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let engine: Engine
  let server: RunningServer
  let browser: Browser
  let eu: Run
  let us: Run
  const contexts = new Contexts(() => browser)

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'taskengine-run-diff-'))
    engine = createEngine({ tasks: [report], store: sqliteStore(join(dir, 'runs.db')), pollIntervalMs: 20 })
    await engine.start({ concurrency: 2 })
    server = await serve(engine, { port: 0, onError: () => undefined })
    browser = await launchBrowser()
    const first = await engine.enqueue(report, { region: 'eu' })
    eu = await runReaches(engine, first.id, 'succeeded', PATIENCE.timeout)
    const second = await engine.enqueue(report, { region: `us ${HOSTILE}`, flaky: true })
    us = await runReaches(engine, second.id, 'succeeded', PATIENCE.timeout)
  }, 60_000)

  afterEach(() => contexts.closeAll())

  afterAll(async () => {
    await contexts.closeAll()
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
    rmSync(dir, { recursive: true, force: true })
  })

  const open = async (path: string, options: { width?: number; javaScriptEnabled?: boolean; dark?: boolean } = {}): Promise<{ page: Page; problems: string[] }> => {
    const context = await contexts.open({ viewport: { width: options.width ?? 1360, height: 900 }, javaScriptEnabled: options.javaScriptEnabled ?? true, colorScheme: options.dark === true ? 'dark' : 'light' })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`)
      void dialog.dismiss()
    })
    await page.goto(`${server.url}${path}`)
    return { page, problems }
  }

  /** What the diff page must show for eu (A) against us (B): the differing argument, the added log lines, all as text. */
  const expectEuAgainstUs = async (page: Page): Promise<void> => {
    await expect.poll(() => page.url()).toContain(`/admin/runs/diff?a=${eu.id}&b=${us.id}`)
    const region = page.locator('#diff-args [data-path="region"]')
    await expect.poll(() => region.locator('del').textContent()).toBe('"eu"')
    expect(await region.locator('ins').textContent()).toBe(JSON.stringify(`us ${HOSTILE}`))
    const added = page.locator('#log-diff .diff-added .msg')
    expect(await added.allTextContents()).toContain(`added: region us ${HOSTILE}`)
    expect(await page.locator('#log-diff .diff-removed .msg').allTextContents()).toEqual(['removed: region eu'])
    // The 31 unchanged lines before the first change collapse, but for the three next to it.
    expect(await page.locator('#log-diff .diff-skip summary').allTextContents()).toContain('… 28 unchanged lines')
    const differing = await Promise.all((await page.locator('#diff-summary tr.differs').all()).map((row) => row.getAttribute('data-field')))
    expect(differing).toEqual(expect.arrayContaining(['attempt', 'logLines']))
    expect(await page.locator('#diff-summary tr[data-field="task"]').getAttribute('class')).toBeNull()
    // Hostile strings stayed text: no element was made of them.
    expect(await page.locator('img[src="x"]').count()).toBe(0)
  }

  it('compares two runs ticked in the runs list: Compare works for exactly two, and the page shows what differs', async () => {
    const { page, problems } = await open('/admin/runs')
    const compare = page.locator('#compare-selected')
    await expect.poll(() => compare.isDisabled()).toBe(true)
    await page.locator(`tr[data-run-id="${us.id}"] input[name="id"]`).check()
    expect(await compare.isDisabled()).toBe(true)
    await page.locator(`tr[data-run-id="${eu.id}"] input[name="id"]`).check()
    await expect.poll(() => compare.isDisabled()).toBe(false)
    await compare.click()
    await expectEuAgainstUs(page)
    // Swap: B becomes A.
    await page.locator('#diff-swap').click()
    await expect.poll(() => page.url()).toContain(`a=${us.id}&b=${eu.id}`)
    expect(await page.locator('#log-diff .diff-added .msg').allTextContents()).toContain('added: region eu')
    expect(problems).toEqual([])
  })

  it('compares two ticked runs without the script too, and says so when not exactly two are ticked', async () => {
    const { page } = await open('/admin/runs', { javaScriptEnabled: false })
    await page.locator(`tr[data-run-id="${eu.id}"] input[name="id"]`).check()
    await page.locator('#compare-selected').click()
    await expect.poll(() => page.locator('.notice').allTextContents()).toContain('Tick exactly two runs to compare them (1 were ticked).')
    await page.locator(`tr[data-run-id="${eu.id}"] input[name="id"]`).check()
    await page.locator(`tr[data-run-id="${us.id}"] input[name="id"]`).check()
    await page.locator('#compare-selected').click()
    await expectEuAgainstUs(page)
  })

  it("goes from a run page's attempts table to the diff of two attempts", async () => {
    const { page, problems } = await open(`/admin/runs/${us.id}`)
    await page.locator('[data-compare-previous="2"]').click()
    await expect.poll(() => page.url()).toContain(`a=${encodeURIComponent(`${us.id}:1`)}&b=${encodeURIComponent(`${us.id}:2`)}`)
    expect(await page.locator('.diff-side .badge').allTextContents()).toEqual(['attempt 1', 'attempt 2'])
    expect(await page.locator('#diff-summary tr[data-field="status"] td').allTextContents()).toEqual(['retry', 'succeeded'])
    expect(await page.locator('[data-side="a"] .error-card .message').textContent()).toBe(`upstream down ${HOSTILE}`)
    expect(await page.locator('#log-diff .diff-removed .msg').allTextContents()).toEqual(['removed: upstream down'])
    expect(await page.locator('#log-diff .diff-added .msg').allTextContents()).toEqual(['added: done'])
    expect(await page.locator('#diff-args').count()).toBe(0)
    // The form compares any two: here the same attempt twice, which differs in nothing.
    await page.goBack()
    await page.locator('#attempts-compare select[name="a"]').selectOption(`${us.id}:2`)
    await page.locator('#attempts-compare button').click()
    await expect.poll(() => page.locator('#log-diff').textContent()).toContain('No differences in')
    expect(await page.locator('img[src="x"]').count()).toBe(0)
    expect(problems).toEqual([])
  })

  it('reads well at 400 px and in dark mode: nothing wider than the screen (screenshots saved)', async () => {
    for (const [width, dark] of [[1360, false], [1360, true], [400, false], [400, true]] as const) {
      const { page, problems } = await open(`/admin/runs/diff?a=${us.id}:1&b=${eu.id}`, { width, dark })
      await page.locator('#log-diff').waitFor()
      const scrollWidth = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)
      expect(scrollWidth, `${width} px${dark ? ', dark' : ''}`).toBe(width)
      await page.screenshot({ path: join(SHOTS, `run-diff-${width}${dark ? '-dark' : ''}.png`), fullPage: true })
      expect(problems).toEqual([])
    }
  })

  it('shows a bad or unknown side as an error page naming it', async () => {
    const { page } = await open(`/admin/runs/diff?a=${eu.id}&b=${eu.id}:7`)
    expect(await page.locator('main').textContent()).toContain(`b: run "${eu.id}" has no attempt 7 (it has attempt 1)`)
    const { page: missing } = await open(`/admin/runs/diff?a=${eu.id}&b=nope`)
    expect(await missing.locator('main').textContent()).toContain('b: unknown run "nope"')
  })
})
