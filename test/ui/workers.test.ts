/**
 * The Workers page in real Chromium: quiet, resume and stop a worker from the page (with the
 * script, stop asks first; without it, plain form posts), a stopping worker no longer steerable,
 * the recently dead with the runs they held and what became of each, hostile names as text, and
 * a viewer without workers:write seeing no buttons.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { createServer, serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import type { Store } from '../../src/store/types.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser, submit } from '../helpers/browser.js'

const HOSTILE = '<img src=x onerror=alert(1)>'
const idle = defineTask({ key: 'idle', run: () => 'ok' })

const run = browserAvailable() ? describe : describe.skip

run('the Workers page in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let engine: Engine
  let store: Store
  let server: RunningServer
  let browser: Browser
  const contexts = new Contexts(() => browser)

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskengine-workers-ui-'))
    store = sqliteStore(join(dir, 'workers.db'))
    engine = createEngine({ tasks: [idle], store, onError: () => undefined })
    server = await serve(engine, { port: 0, onError: () => undefined })
    browser = await launchBrowser()
  }, 60_000)

  afterEach(async () => {
    await contexts.closeAll()
    await engine.stop({ graceMs: 0 })
  })

  afterAll(async () => {
    await contexts.closeAll()
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
    rmSync(dir, { recursive: true, force: true })
  })

  /** The Workers page; `problems` collects page errors, console errors and dialogs not accepted by the test. */
  async function openWorkers(options: Parameters<Browser['newContext']>[0] = {}, accept = false): Promise<{ page: Page; problems: string[] }> {
    const context = await contexts.open({ viewport: { width: 1360, height: 900 }, ...options })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    page.on('dialog', (dialog) => {
      if (accept && dialog.type() === 'confirm') void dialog.accept()
      else {
        problems.push(`${dialog.type()}: ${dialog.message()}`)
        void dialog.dismiss()
      }
    })
    await page.goto(`${server.url}/admin/workers`)
    return { page, problems }
  }

  const row = (page: Page, id: string) => page.locator(`tr[data-worker="${id}"]`)

  it('quiets and resumes this worker from the page, then stops it after asking', async () => {
    await engine.start()
    const id = engine.workerId!
    const { page, problems } = await openWorkers({}, true)
    expect(await row(page, id).locator('[data-state]').textContent()).toBe('active')
    await submit(page, `tr[data-worker="${id}"] button[data-worker-command="quiet"]`)
    expect(await page.locator('.notice').textContent()).toContain(`Worker ${id} quieted`)
    await vi.waitFor(async () => expect((await engine.workers()).find((w) => w.id === id)?.state).toBe('quiet'), PATIENCE)
    await page.reload()
    expect(await row(page, id).locator('[data-state]').textContent()).toBe('quiet')
    expect(await row(page, id).textContent()).toContain('quieted by local')
    await submit(page, `tr[data-worker="${id}"] button[data-worker-command="resume"]`)
    await vi.waitFor(async () => expect((await engine.workers()).find((w) => w.id === id)?.state).toBe('active'), PATIENCE)
    await page.reload()
    await submit(page, `tr[data-worker="${id}"] button[data-worker-command="stop"]`)
    expect(await page.locator('.notice').textContent()).toContain(`Stop requested for worker ${id}`)
    await vi.waitFor(() => expect(engine.started).toBe(false), PATIENCE)
    await page.reload()
    expect(await row(page, id).count()).toBe(0)
    expect(problems).toEqual([])
  })

  it('keeps a worker when the stop is not confirmed, and steers it without the script by plain form posts', async () => {
    await engine.start()
    const id = engine.workerId!
    const { page, problems } = await openWorkers()
    await page.click(`tr[data-worker="${id}"] button[data-worker-command="stop"]`)
    await expect.poll(() => problems.length, PATIENCE).toBe(1)
    expect(problems[0]).toMatch(/^confirm: Stop worker .* Its running handlers get the grace period; the process exits\.$/)
    expect(engine.started).toBe(true)
    const plain = await openWorkers({ javaScriptEnabled: false })
    await submit(plain.page, `tr[data-worker="${id}"] button[data-worker-command="quiet"]`)
    expect(await plain.page.locator('.notice').textContent()).toContain('quieted')
    await vi.waitFor(async () => expect((await engine.workers()).find((w) => w.id === id)?.state).toBe('quiet'), PATIENCE)
    expect(plain.problems).toEqual([])
  })

  it('lists the recently dead with the runs they held and their fate, hostile names as text, and a stopping worker without buttons', async () => {
    const now = Date.now()
    const kept = await engine.enqueue(idle, {}, { label: HOSTILE })
    const base = { pid: 4242, concurrency: 4, busy: 0, queues: null, tasks: ['idle'], startedAt: now - 120_000, observer: false }
    await store.saveWorker({ ...base, id: `dead-${HOSTILE}`, host: HOSTILE, running: [kept.id, 'gone-run'], heartbeatAt: now - 90_000 })
    await store.saveWorker({ ...base, id: 'stopping-1', host: 'far', running: [], heartbeatAt: now, state: 'stopping' })
    await store.commandWorker('stopping-1', { type: 'stop', by: HOSTILE, at: now })
    try {
      const { page, problems } = await openWorkers()
      const dead = page.locator(`tr[data-dead-worker="dead-${HOSTILE}"]`)
      expect(await dead.locator('td').nth(1).textContent()).toBe(HOSTILE)
      expect(await dead.locator(`[data-held-run="${kept.id}"]`).textContent()).toMatch(/idle\s*pending again/)
      expect(await dead.locator(`[data-held-run="${kept.id}"] a`).getAttribute('href')).toBe(`/admin/runs/${kept.id}`)
      expect(await dead.locator('[data-held-run="gone-run"]').textContent()).toContain('no longer stored (retention)')
      const stopping = row(page, 'stopping-1')
      expect(await stopping.locator('[data-state]').textContent()).toBe('stopping')
      expect(await stopping.textContent()).toContain(`stop requested by ${HOSTILE}`)
      expect(await stopping.locator('button').count()).toBe(0)
      expect(await page.locator('img').count()).toBe(0)
      expect(problems).toEqual([])
    } finally {
      await store.removeWorker(`dead-${HOSTILE}`)
      await store.removeWorker('stopping-1')
    }
  })

  it('shows no buttons to a viewer without workers:write, and refuses their post', async () => {
    await engine.start()
    const { app } = createServer(engine, { auth: () => ({ id: 'viewer', permissions: ['workers:read'] }), onError: () => undefined })
    const html = await (await app.request('/admin/workers')).text()
    expect(html).toContain(engine.workerId!)
    expect(html).not.toContain('data-worker-command')
    const refused = await app.request(`/admin/workers/${encodeURIComponent(engine.workerId!)}/quiet`, { method: 'POST', body: new URLSearchParams({ _csrf: 'x' }) })
    expect(refused.status).toBe(403)
    expect((await engine.workers()).find((w) => w.id === engine.workerId)?.state).toBe('active')
  })
})
