/**
 * The runs list in real Chromium: a bulk cancel of 20,000 runs by filter (preview, confirm, the
 * job's progress live, the count in the store), "Took" filled in by live updates, a bad filter
 * shown as an error, and the status column in view at 400 px.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js'
import { newRun } from '../../src/store/testing/fixtures.js'
import { Contexts, PATIENCE, browserAvailable, hasHeld, launchBrowser, submit, watchFor } from '../helpers/browser.js'

vi.setConfig({ expect: { poll: PATIENCE } })

/** Runs of `gate` end when the test says so. */
const gates = new Map<string, () => void>()
const gate = defineTask({
  key: 'gate',
  fields: [{ key: 'name', type: 'string', required: true }],
  run: (ctx) => new Promise<string>((resolve) => gates.set(ctx.args.name, () => resolve(ctx.args.name))),
})
const target = defineTask({ key: 'bulk-target', run: () => 'never runs here' })

describe.runIf(browserAvailable())('runs list in Chromium', () => {
  let store: SqliteStore
  let engine: Engine
  let server: RunningServer
  let browser: Browser
  const contexts = new Contexts(() => browser)

  beforeAll(async () => {
    store = sqliteStore(':memory:')
    engine = createEngine({ store, tasks: [gate, target], pollIntervalMs: 20 })
    server = await serve(engine, { port: 0, onError: () => undefined })
    browser = await launchBrowser()
  })
  afterEach(() => contexts.closeAll())
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
  })

  const open = async (path: string, width = 1366): Promise<Page> => {
    const context = await contexts.open({ viewport: { width, height: 900 } })
    const page = await context.newPage()
    await page.goto(`${server.url}${path}`)
    return page
  }

  it('cancels all 20,000 runs matching a filter: preview, confirm, progress shown live, counts in the store', async () => {
    // Enqueued fast, through the store's batch insert (the worker serves no task of these).
    const rows = Array.from({ length: 20_000 }, () => newRun({ task: 'bulk-target', label: 'mistake', runAt: Date.now() + 3_600_000, createdAt: Date.now() }))
    for (let i = 0; i < rows.length; i += 5000) await store.insertRuns(rows.slice(i, i + 5000))
    const kept = await engine.enqueueMany(target, [{}, {}, {}], { label: 'keep', delayMs: 3_600_000 })
    const context = await contexts.open({ viewport: { width: 1366, height: 900 } })
    // In the page (no DOM types here): the job's page showed a count part-way.
    await watchFor(context, 'partial', () => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null; getAttribute(n: string): string | null } | null } }).document
      const done = Number((doc.querySelector('[data-part="done"]')?.textContent ?? '0').replaceAll(',', ''))
      return doc.querySelector('#bulk-job')?.getAttribute('data-state') === 'running' && done > 0 && done < 20_000
    })
    const page = await context.newPage()
    // What the job's page hears on the stream, and how often it reads the job itself.
    const bulkFrames: string[] = []
    page.on('websocket', (socket) => socket.on('framereceived', ({ payload }) => void (String(payload).includes('"type":"bulk"') && bulkFrames.push(String(payload)))))
    let polls = 0
    page.on('request', (request) => void (/\/admin\/runs\/bulk\/[^/?]+\?format=json$/.test(request.url()) && polls++))
    await page.goto(`${server.url}/admin/runs?task=bulk-target&label=mistake`)
    // The list counts at most 10,000 matches; the bulk preview counts them all.
    await expect.poll(() => page.textContent('.page-head .sub')).toBe('10,000+ matching')
    expect(await page.textContent('#bulk-all strong')).toBe('10,000+')
    await submit(page, '[data-bulk-all="cancel"]')
    expect(await page.textContent('#bulk-title')).toContain('Cancel all 20,000 matching runs?')
    expect(await page.locator('.bulk-sample tbody tr').count()).toBe(10)
    expect((await engine.listRuns({ status: 'cancelled' })).total).toBe(0)
    const started = Date.now()
    await submit(page, '#bulk-confirm button[type="submit"]')
    expect(page.url()).toMatch(/\/admin\/runs\/bulk\/[0-9a-f-]{36}$/)
    await expect.poll(() => page.getAttribute('#bulk-job', 'data-state'), { timeout: 120_000, interval: 50 }).toBe('finished')
    const tookMs = Date.now() - started
    expect(await page.textContent('[data-part="done"]')).toBe('20,000')
    expect(await page.textContent('[data-part="skipped"]')).toBe('0')
    expect(await page.locator('#bulk-cancel').count()).toBe(0)
    // Seen part-way, not only at the end: the page followed the job.
    expect(await hasHeld(page, 'partial')).toBe(true)
    // Followed on the stream, batch by batch (500 runs each), not by polling.
    expect(bulkFrames.length).toBeGreaterThanOrEqual(3)
    expect(bulkFrames.at(-1)).toContain('"state":"finished"')
    expect(polls).toBeLessThanOrEqual(1)
    expect((await engine.listRuns({ task: 'bulk-target', label: 'mistake', status: 'cancelled', count: true, pageSize: 1 })).total).toBe(20_000)
    for (const run of kept) expect((await engine.getRun(run.id))?.status).toBe('pending')
    console.info(`bulk cancel of 20,000 runs in Chromium: ${tookMs} ms from confirm to finished`)
  }, 180_000)

  it('reads a bulk job\'s progress every half second while the stream is down, and shows it ending', async () => {
    const context = await contexts.open({ viewport: { width: 1366, height: 900 } })
    // The stream is down for this page: every connection closes at once.
    await context.routeWebSocket(/\/api\/stream$/, (socket) => socket.close())
    const job = await store.insertBulkJob({ id: `fallback-${Date.now()}`, action: 'cancel', filter: { task: 'nothing-here' }, upTo: null, total: 0, createdBy: null, now: Date.now() })
    // Held by an engine elsewhere for an hour: this server never works it (nor ends it early).
    await store.claimBulkJob(job.id, 'engine-elsewhere', Date.now(), 3_600_000)
    const page = await context.newPage()
    let polls = 0
    page.on('request', (request) => void (request.url().endsWith(`/runs/bulk/${job.id}?format=json`) && polls++))
    await page.goto(`${server.url}/admin/runs/bulk/${job.id}`)
    expect(await page.getAttribute('#bulk-job', 'data-state')).toBe('running')
    await expect.poll(() => polls).toBeGreaterThanOrEqual(2)
    await engine.bulk.cancel(job.id)
    await expect.poll(() => page.getAttribute('#bulk-job', 'data-state')).toBe('cancelled')
    expect(await page.textContent('[data-part="state"]')).toBe('cancelled')
    expect(await page.locator('#bulk-cancel').count()).toBe(0)
  })

  it('fills in Took from live updates, without a reload', async () => {
    await engine.start()
    try {
      const run = await engine.enqueue(gate, { name: 'took' })
      await vi.waitFor(() => expect(gates.has('took')).toBe(true), PATIENCE)
      const page = await open('/admin/runs?task=gate')
      const took = page.locator(`tr[data-run-id="${run.id}"] [data-cell="took"]`)
      expect((await took.textContent())?.trim()).toBe('—')
      // The page follows the stream once its banner counts a run enqueued now; then the run ends.
      await engine.enqueue(gate, { name: 'probe' }, { delayMs: 3_600_000 })
      await expect.poll(() => page.getAttribute('#new-runs', 'data-count')).toBe('1')
      gates.get('took')!()
      await expect.poll(() => page.locator(`tr[data-run-id="${run.id}"] [data-cell="status"]`).textContent()).toBe('succeeded')
      await expect.poll(async () => (await took.textContent())?.trim()).toMatch(/^\d+(\.\d+)? ?(ms|s)$/)
      // And the finished run's bar is gone.
      expect(await page.locator(`tr[data-run-id="${run.id}"] [data-cell="progress"] progress`).count()).toBe(0)
    } finally {
      await engine.stop({ graceMs: 0 })
    }
  })

  it('shows a bad filter value as an error and lists nothing', async () => {
    const page = await open('/admin/runs?status=bogus&task=bulk-target')
    expect(await page.textContent('#filter-error')).toContain('status: expected pending, running, waiting, succeeded, failed, cancelled')
    expect(await page.locator('tr[data-run-id]').count()).toBe(0)
    expect(await page.locator('#bulk-all').count()).toBe(0)
    expect(await page.getAttribute('#f-status', 'aria-invalid')).toBe('true')
    const data = await page.request.get(`${server.url}/admin/runs?status=bogus&format=json`)
    expect(data.status()).toBe(400)
  })

  it('keeps the status column in view at 400 px and the filter row on one line at 1366 px', async () => {
    await engine.enqueue(gate, { name: 'a-rather-long-argument-value-that-would-widen-its-row' }, { delayMs: 3_600_000 })
    const narrow = await open('/admin/runs', 400)
    expect(await narrow.locator('tr[data-run-id]').count()).toBeGreaterThan(3)
    // Every row's status, whatever its task, label, arguments and status.
    const rights = await narrow
      .locator('tr[data-run-id] [data-cell="status"] .status')
      .evaluateAll((nodes) => nodes.map((n) => (n as unknown as { getBoundingClientRect(): { right: number } }).getBoundingClientRect().right))
    // Inside the table's scroll box (which clips), not only the window.
    const box = await narrow.locator('#runs-table').evaluate((n) => (n as unknown as { parentElement: { getBoundingClientRect(): { right: number } } }).parentElement.getBoundingClientRect().right)
    expect(box).toBeLessThanOrEqual(400)
    expect(Math.max(...rights)).toBeLessThanOrEqual(box)
    const wide = await open('/admin/runs', 1366)
    const tops = await wide.locator('.runs-filters > .field, .runs-filters > .filter-buttons').evaluateAll((nodes) => nodes.map((n) => Math.round((n as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect().bottom)))
    expect(new Set(tops).size).toBe(1)
  })
})
