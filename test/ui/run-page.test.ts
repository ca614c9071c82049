/**
 * In real Chromium: errors as pages with the way back (404 at 400 px wide, the links work), the
 * run page's log filter (level, search, attempt; lines arriving live obey it), the live view's
 * Stop button and its stored run (in the runs list while it runs, then its page), and the "My
 * runs" menu (an active run once, with times).
 *
 * The tests share one engine, server and browser; pages are closed after each test, runs left
 * going are cancelled in a `finally`. Waits are on conditions, never on time.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser, submit } from '../helpers/browser.js'
import { runReaches } from '../helpers/runs.js'

vi.setConfig({ expect: { poll: PATIENCE } })

/** Lines at every level over two attempts: the second holds until cancelled, logging a tick now and then. */
const chatty = defineTask({
  key: 'chatty',
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 1 },
  async run(ctx) {
    ctx.log.debug(`debug of attempt ${ctx.attempt}`)
    ctx.log.info(`info of attempt ${ctx.attempt}`)
    ctx.log.warn(`warn of attempt ${ctx.attempt} with a needle`)
    ctx.log.error(`error of attempt ${ctx.attempt}`)
    if (ctx.attempt === 1) throw new Error('first attempt breaks')
    for (let tick = 1; ; tick++) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => (clearTimeout(timer), reject(ctx.signal.reason as Error))
        const timer = setTimeout(() => (ctx.signal.removeEventListener('abort', onAbort), resolve()), 100)
        ctx.signal.addEventListener('abort', onAbort, { once: true })
      })
      ctx.log.info(`tick ${tick}`)
    }
  },
})

/** What the live view's run saw of its signal. */
const stops: string[] = []
const waiter = defineTask({
  key: 'waiter',
  title: 'Waiter',
  run(ctx) {
    ctx.log('waiting to be stopped')
    return new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => {
        stops.push(String((ctx.signal.reason as Error).message))
        reject(ctx.signal.reason as Error)
      }),
    )
  },
})

const run = browserAvailable() ? describe : describe.skip

run('the run page, errors, the live view and my runs in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let engine: Engine
  let server: RunningServer
  let browser: Browser
  const contexts = new Contexts(() => browser)
  const url = (path: string): string => `http://127.0.0.1:${server.port}${path}`

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskengine-run-page-'))
    engine = createEngine({ tasks: [chatty, waiter], store: sqliteStore(join(dir, 'runs.db')), pollIntervalMs: 20 })
    await engine.start({ concurrency: 4 })
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

  /** A page; `problems` collects page errors, console errors (but the 404s and 400s a test asks for) and alerts. */
  async function openPage(width = 1360): Promise<{ page: Page; problems: string[] }> {
    const context = await contexts.open({ viewport: { width, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[04]/.test(message.text())) problems.push(`console: ${message.text()}`)
    })
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`)
      void dialog.accept()
    })
    return { page, problems }
  }

  it('shows an unknown run as a 404 page in the layout at 400 px, whose links lead back', async () => {
    const { page, problems } = await openPage(400)
    const response = await page.goto(url('/admin/runs/no-such-run'))
    expect(response?.status()).toBe(404)
    expect(await page.locator('#error-page h1').textContent()).toBe('404 Not found')
    expect(await page.locator('#error-page [data-part="message"]').textContent()).toBe('unknown run "no-such-run"')
    // Nothing sticks out sideways at 400 px; the script runs under the CSP (the theme switch works).
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400)
    await page.click('#theme-toggle')
    expect(await page.evaluate<string | undefined>('document.documentElement.dataset.theme')).toMatch(/^(light|dark)$/)
    await Promise.all([page.waitForURL(/\/admin\/runs$/), page.click('#error-page [data-back="list"]')])
    expect(await page.locator('h1').first().textContent()).toContain('Runs')

    await page.goto(url('/admin/nowhere/at/all'))
    expect(await page.locator('#error-page').getAttribute('data-status')).toBe('404')
    await Promise.all([page.waitForURL(/\/admin$/), page.click('#error-page [data-back="overview"]')])
    expect(problems).toEqual([])
  })

  it('filters the log by level, text and attempt, and lines arriving live obey the filter', async () => {
    const { id } = await engine.enqueue(chatty, {})
    try {
      await vi.waitFor(async () => expect((await engine.getRun(id))?.attempt).toBe(2), PATIENCE)
      await vi.waitFor(async () => expect((await engine.getLogs(id)).some((l) => l.message === 'tick 1')).toBe(true), PATIENCE)
      const { page, problems } = await openPage()
      await page.goto(url(`/admin/runs/${id}`))
      await page.waitForSelector('#log-filter:not([hidden])')
      const visible = (): Promise<string[]> => page.locator('#run-log .line:visible .msg').allTextContents()
      expect(await page.locator('#run-log .line.attempt-start').count()).toBe(2)

      await page.selectOption('[data-filter="level"]', 'warn')
      await expect.poll(visible).toEqual(['warn of attempt 1 with a needle', 'error of attempt 1', 'warn of attempt 2 with a needle', 'error of attempt 2'])
      expect(await page.locator('#log-filter [data-part="shown"]').textContent()).toMatch(/^4 of \d+ shown$/)

      await page.selectOption('[data-filter="attempt"]', '2')
      await expect.poll(visible).toEqual(['warn of attempt 2 with a needle', 'error of attempt 2'])
      await page.fill('[data-filter="q"]', 'NEEDLE')
      await expect.poll(visible).toEqual(['warn of attempt 2 with a needle'])

      // Ticks keep coming live (info, attempt 2): counted, not shown, until the filter lets them.
      const count = Number(await page.locator('[data-log-count]').textContent())
      await expect.poll(async () => Number(await page.locator('[data-log-count]').textContent())).toBeGreaterThan(count)
      expect(await visible()).toEqual(['warn of attempt 2 with a needle'])
      await page.fill('[data-filter="q"]', 'tick')
      await page.selectOption('[data-filter="level"]', 'debug')
      await expect.poll(async () => (await visible()).length).toBeGreaterThan(1)
      expect((await visible()).every((line) => /^tick \d+$/.test(line))).toBe(true)
      await page.selectOption('[data-filter="attempt"]', '1')
      await expect.poll(visible).toEqual([])
      expect(problems).toEqual([])
    } finally {
      await engine.cancel(id).catch(() => undefined)
    }
  })

  it('stops a live run with the Stop button: the run sees its signal, the page says stopped, no error; the run is stored as it goes', async () => {
    const { page, problems } = await openPage()
    await page.goto(url('/admin/task/waiter'))
    await submit(page, 'button[formaction$="/start"]')
    await page.waitForSelector('#live-log .line')
    // Stored while it runs: the runs list shows it running, started by this caller, with its log line.
    const id = (await page.locator('#live-run').getAttribute('data-run-id'))!
    const list = (await openPage()).page
    await list.goto(url('/admin/runs'))
    expect(await list.locator(`tr[data-run-id="${id}"] [data-cell="status"]`).textContent()).toBe('running')
    expect(await engine.getRun(id)).toMatchObject({ status: 'running', inProcess: true, startedFrom: 'admin-live', createdBy: 'local', task: 'waiter', logCount: 1 })
    await page.click('#live-stop')
    await expect.poll(() => page.locator('#live-status').textContent()).toBe('stopped')
    expect(await page.locator('#live-stopped').isVisible()).toBe(true)
    expect(await page.locator('#live-error').isVisible()).toBe(false)
    expect(await page.locator('#live-stop').isVisible()).toBe(false)
    expect(await page.locator('[data-part="status"]').textContent()).toBe('cancelled')
    expect(stops).toEqual(['cancelled: stopped from the live view'])
    // The run's id is known: the link to its stored page is there with the actions.
    expect(await page.locator('#live-stored').getAttribute('href')).toMatch(/^\/admin\/runs\/[0-9a-f-]{36}$/)
    expect(await page.locator('#live-stored').isVisible()).toBe(true)
    // It leads to the stored run: cancelled, with its log, saying where it ran.
    await page.click('#live-stored')
    await page.waitForSelector('#run-origin')
    expect(page.url()).toBe(url(`/admin/runs/${id}`))
    expect(await page.locator('#run-origin').textContent()).toBe("In-process (not on a worker), started from the admin UI's live view by local")
    expect(await page.locator('#run-page').getAttribute('data-status')).toBe('cancelled')
    expect(await page.locator('#run-log .msg').allTextContents()).toEqual(['waiting to be stopped', expect.stringMatching(/^cancelled after \d+ ms$/)])
    expect(problems).toEqual([])
  })

  it('"My runs" lists an active run once, not again under Recent, each with its time', async () => {
    const { id } = await engine.enqueue(chatty, {}, { createdBy: 'local' })
    try {
      await vi.waitFor(async () => expect((await engine.getRun(id))?.status).toBe('running'), PATIENCE)
      const { page, problems } = await openPage()
      await page.goto(url('/admin/task'))
      await page.click('#my-runs summary')
      await page.waitForSelector(`[data-list="active"] a[href$="/runs/${id}"]`)
      expect(await page.locator(`[data-list="recent"] a[href$="/runs/${id}"]`).count()).toBe(0)
      expect(await page.locator(`[data-list="active"] a[href$="/runs/${id}"] time`).textContent()).toMatch(/ago$|^just now$/)
      expect(problems).toEqual([])
    } finally {
      await engine.cancel(id).catch(() => undefined)
      await runReaches(engine, id, 'cancelled', PATIENCE.timeout)
    }
  })
})
