/**
 * The Queues view in real Chromium: every known queue listed (idle ones too), pause and resume
 * and new limits through the API from the page, errors at their fields with nothing changed,
 * the same without the script (form posts), hostile names and group keys as text, and
 * screenshots light and dark, wide and 400 px wide (/tmp/queues-*.png).
 *
 * The tests share one engine (not started: runs stay pending, so depths hold still), server and
 * browser; an `afterEach` puts the limits back, also after a failure.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine, type QueueInfo } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { Contexts, PATIENCE, browserAvailable, launchBrowser, submit } from '../helpers/browser.js'

vi.setConfig({ expect: { poll: PATIENCE } })

const HOSTILE = '<img src=x onerror=alert(1)>'

const send = defineTask({ key: 'send', queue: 'mail', fields: [{ key: 'to', type: 'string', default: 'a@example.com' }], run: () => 'sent' })
const sync = defineTask({
  key: 'sync-tenant',
  fields: [{ key: 'tenant', type: 'string', required: true }],
  limits: { concurrency: 2, rate: { max: 100, perMs: 60_000 }, groupBy: (args) => args.tenant, groupConcurrency: 1 },
  run: () => 'synced',
})
const report = defineTask({ key: 'report', queue: 'reports', run: () => 'reported' })
const tidy = defineTask({ key: 'tidy', run: () => 'tidied' })

const run = browserAvailable() ? describe : describe.skip

run('the Queues view in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let engine: Engine
  let server: RunningServer
  let browser: Browser
  const contexts = new Contexts(() => browser)

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskengine-queues-ui-'))
    const file = join(dir, 'queues.db')
    engine = createEngine({ tasks: [send, sync, report, tidy], queues: { mail: { concurrency: 3, rate: { max: 10, perMs: 1000 } }, bulk: { concurrency: 7 } }, store: sqliteStore(file) })
    for (let i = 0; i < 3; i++) await engine.enqueue(send, { to: `user${i}@example.com` })
    for (const tenant of ['t-1', 't-1', 't-1', 't-2', HOSTILE]) await engine.enqueue(sync, { tenant })
    // A queue name the engine would refuse, as a store may still hold one (written by another
    // program, or by hand): it must show as text.
    const odd = await engine.enqueue(send, { to: 'odd' })
    const db = new Database(file)
    db.prepare('UPDATE runs SET queue = ? WHERE id = ?').run(HOSTILE, odd.id)
    db.close()
    server = await serve(engine, { port: 0, onError: () => undefined })
    browser = await launchBrowser()
  }, 60_000)

  afterEach(async () => {
    await contexts.closeAll()
    await engine.updateQueue('mail', { concurrency: 3, rate: { max: 10, perMs: 1000 }, paused: false })
    await engine.updateTask('sync-tenant', { concurrency: 2, rate: { max: 100, perMs: 60_000 }, groupConcurrency: 1, paused: false })
    await engine.updateTask('tidy', { concurrency: null, paused: false })
  })

  afterAll(async () => {
    await contexts.closeAll()
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
    rmSync(dir, { recursive: true, force: true })
  })

  /** A page on the Queues view; `problems` collects page errors, console errors (but 400s the test asked for) and alerts. */
  async function openQueues(options: Parameters<Browser['newContext']>[0] = {}): Promise<{ page: Page; problems: string[] }> {
    const context = await contexts.open({ viewport: { width: 1360, height: 900 }, ...options })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().includes('status of 400')) problems.push(`console: ${message.text()}`)
    })
    page.on('dialog', (dialog) => {
      problems.push(`${dialog.type()}: ${dialog.message()}`)
      void dialog.dismiss()
    })
    await page.goto(`${server.url}/admin/queues`)
    return { page, problems }
  }

  const queue = async (name: string): Promise<QueueInfo> => (await engine.queues()).find((q) => q.name === name)!
  const apiQueue = async (name: string): Promise<QueueInfo> => ((await (await fetch(`${server.url}/api/queues`)).json()) as QueueInfo[]).find((q) => q.name === name)!

  it('lists every known queue, idle ones included, with depth, limits, starts and state; and the tasks with limits and their groups', async () => {
    const { page, problems } = await openQueues()
    const names = await page.locator('[data-queue]').evaluateAll((items) => (items as unknown as { getAttribute(name: string): string | null }[]).map((item) => item.getAttribute('data-queue')))
    expect(names).toEqual([HOSTILE, 'bulk', 'default', 'mail', 'reports'])
    const mail = page.locator('[data-queue="mail"]')
    expect(await mail.locator('[data-stat="pending"] dd').textContent()).toBe('3')
    expect(await mail.locator('[data-stat="running"] dd').textContent()).toBe('0 / 3')
    expect(await mail.locator('[data-stat="concurrency"] dd').textContent()).toBe('3')
    expect(await mail.locator('[data-stat="rate"] dd').textContent()).toBe('10 per 1 s')
    expect(await mail.locator('[data-stat="starts"] dd').textContent()).toBe('0 / 10')
    expect(await mail.locator('[data-stat="oldest"] time').count()).toBe(1)
    expect(await mail.locator('[data-state]').getAttribute('data-state')).toBe('active')
    // Idle: no runs, no limits, only a task that enqueues there.
    const idle = page.locator('[data-queue="reports"]')
    expect(await idle.locator('[data-stat="pending"] dd').textContent()).toBe('0')
    expect(await idle.locator('[data-stat="concurrency"] dd').textContent()).toBe('none')
    expect(await idle.textContent()).toContain('tasks: report')
    const tenant = page.locator('[data-task="sync-tenant"]')
    expect(await tenant.locator('[data-stat="pending"] dd').textContent()).toBe('5')
    expect(await tenant.locator('[data-stat="group-concurrency"] dd').textContent()).toBe('1')
    expect(await tenant.locator('[data-stat="groups"] dd').textContent()).toBe('3')
    expect(await tenant.locator('.group').first().textContent()).toBe('t-1 3 pending · 0 running')
    expect(await page.locator('[data-task]').count()).toBe(1)
    expect(problems).toEqual([])
  })

  it('pauses and resumes a queue from the page, for the store and the API', async () => {
    const { page, problems } = await openQueues()
    await page.click('[data-queue="mail"] button[data-action="pause"]')
    await page.locator('[data-queue="mail"] [data-state="paused"]').waitFor(PATIENCE)
    expect((await queue('mail')).paused).toBe(true)
    expect((await apiQueue('mail')).paused).toBe(true)
    // Limits are untouched by a pause.
    expect(await queue('mail')).toMatchObject({ concurrency: 3, rate: { max: 10, perMs: 1000 } })
    await page.click('[data-queue="mail"] button[data-action="resume"]')
    await page.locator('[data-queue="mail"] [data-state="active"]').waitFor(PATIENCE)
    expect((await queue('mail')).paused).toBe(false)
    expect(problems).toEqual([])
  })

  it('shows a bad limit at its field and changes nothing; a good one is saved and shown', async () => {
    const { page, problems } = await openQueues()
    const mail = page.locator('[data-queue="mail"]')
    await mail.locator('details.limits-editor > summary').click()
    await mail.locator('input[name="concurrency"]').fill('0')
    await mail.locator('input[name="rateMax"]').fill('5')
    await mail.locator('input[name="ratePerMs"]').fill('')
    await mail.locator('button[type="submit"]:has-text("Save limits")').click()
    await expect.poll(() => mail.locator('[data-flow-field="concurrency"] .error').textContent()).toBe('concurrency must be an integer from 1 to 1000000, got 0 (number)')
    expect(await mail.locator('[data-flow-field="rate"] .error').textContent()).toContain('rate.perMs is missing: give the window in ms')
    expect(await mail.locator('[data-flow-field="concurrency"] input').getAttribute('aria-invalid')).toBe('true')
    expect(await queue('mail')).toMatchObject({ concurrency: 3, rate: { max: 10, perMs: 1000 }, paused: false })
    await page.screenshot({ path: '/tmp/queues-errors.png', fullPage: true })
    // Text that is no number is quoted.
    await mail.locator('input[name="concurrency"]').fill('lots')
    await mail.locator('input[name="ratePerMs"]').fill('2000')
    await mail.locator('button[type="submit"]:has-text("Save limits")').click()
    await expect.poll(() => mail.locator('[data-flow-field="concurrency"] .error').textContent()).toBe('concurrency must be an integer from 1 to 1000000, got "lots" (string)')
    expect(await mail.locator('[data-flow-field="rate"] .error').isHidden()).toBe(true)
    expect((await queue('mail')).concurrency).toBe(3)
    // Good values: saved for every worker, the form closes and the item shows them.
    await mail.locator('input[name="concurrency"]').fill('5')
    await mail.locator('button[type="submit"]:has-text("Save limits")').click()
    await expect.poll(() => page.locator('[data-queue="mail"] [data-stat="concurrency"] dd').textContent()).toBe('5')
    expect(await page.locator('[data-queue="mail"] [data-stat="rate"] dd').textContent()).toBe('5 per 2 s')
    expect(await queue('mail')).toMatchObject({ concurrency: 5, rate: { max: 5, perMs: 2000 } })
    expect(await page.locator('[data-queue="mail"] details.limits-editor').getAttribute('open')).toBeNull()
    // Empty fields remove the limits.
    await page.locator('[data-queue="mail"] details.limits-editor > summary').click()
    await page.locator('[data-queue="mail"] input[name="concurrency"]').fill('')
    await page.locator('[data-queue="mail"] input[name="rateMax"]').fill('')
    await page.locator('[data-queue="mail"] input[name="ratePerMs"]').fill('')
    await page.locator('[data-queue="mail"] button[type="submit"]:has-text("Save limits")').click()
    await expect.poll(() => page.locator('[data-queue="mail"] [data-stat="concurrency"] dd').textContent()).toBe('none')
    expect(await queue('mail')).toMatchObject({ concurrency: null, rate: null })
    expect(problems).toEqual([])
  })

  it('pauses a task, changes its per-group limit, and gives limits to a task without any', async () => {
    const { page, problems } = await openQueues()
    const tenant = page.locator('[data-task="sync-tenant"]')
    await tenant.locator('button[data-action="pause"]').click()
    await page.locator('[data-task="sync-tenant"] [data-state="paused"]').waitFor(PATIENCE)
    expect((await engine.stats()).flow.tasks.find((t) => t.task === 'sync-tenant')?.paused).toBe(true)
    await page.locator('[data-task="sync-tenant"] details.limits-editor > summary').click()
    await page.locator('[data-task="sync-tenant"] input[name="groupConcurrency"]').fill('2.5')
    await page.locator('[data-task="sync-tenant"] button:has-text("Save limits")').click()
    await expect.poll(() => page.locator('[data-task="sync-tenant"] [data-flow-field="groupConcurrency"] .error').textContent()).toBe(
      'groupConcurrency must be an integer from 1 to 1000000, got 2.5 (number)',
    )
    await page.locator('[data-task="sync-tenant"] input[name="groupConcurrency"]').fill('2')
    await page.locator('[data-task="sync-tenant"] button:has-text("Save limits")').click()
    await expect.poll(() => page.locator('[data-task="sync-tenant"] [data-stat="group-concurrency"] dd').textContent()).toBe('2')
    // A task without limits gets some from the form below the list, and joins it.
    await page.locator('.flow-more details.limits-editor > summary').click()
    await page.selectOption('.flow-more select[name="task"]', 'tidy')
    await page.locator('.flow-more input[name="concurrency"]').fill('4')
    await page.locator('.flow-more button:has-text("Save limits")').click()
    await page.locator('[data-task="tidy"]').waitFor(PATIENCE)
    expect(await page.locator('[data-task="tidy"] [data-stat="concurrency"] dd').textContent()).toBe('4')
    expect(problems).toEqual([])
  })

  it('shows hostile queue names and group keys as text', async () => {
    const { page, problems } = await openQueues()
    expect(await page.locator(`[data-queue="${HOSTILE}"] [data-part="name"]`).textContent()).toBe(HOSTILE)
    expect(await page.locator(`[data-task="sync-tenant"] [data-group="${HOSTILE}"] .group-key`).textContent()).toBe(HOSTILE)
    expect(await page.locator('main img').count()).toBe(0)
    // Editing it reaches the engine, which refuses the name: shown, nothing else happens.
    const odd = page.locator(`[data-queue="${HOSTILE}"]`)
    await odd.locator('button[data-action="pause"]').click()
    await expect.poll(() => odd.locator('.pause-form .form-error').textContent()).toContain('expected a queue name')
    expect(await page.locator('main img').count()).toBe(0)
    expect(problems).toEqual([])
  })

  it('works without the script: form posts answer with a notice, or the page with the error at its field', async () => {
    const { page } = await openQueues({ javaScriptEnabled: false })
    await submit(page, '[data-queue="mail"] button[data-action="pause"]')
    expect(await page.locator('.notice-ok').textContent()).toBe('Queue "mail" paused on every worker: running runs finish, pending ones wait.')
    expect((await queue('mail')).paused).toBe(true)
    await page.locator('[data-queue="mail"] details.limits-editor > summary').click()
    await page.locator('[data-queue="mail"] input[name="concurrency"]').fill('-2')
    await submit(page, '[data-queue="mail"] button:has-text("Save limits")')
    expect(await page.locator('[data-queue="mail"] [data-flow-field="concurrency"] .error').textContent()).toBe('concurrency must be an integer from 1 to 1000000, got -2 (number)')
    expect(await page.locator('[data-queue="mail"] input[name="concurrency"]').inputValue()).toBe('-2')
    expect(await page.locator('[data-queue="mail"] details.limits-editor').getAttribute('open')).not.toBeNull()
    expect((await queue('mail')).concurrency).toBe(3)
    await page.locator('[data-queue="mail"] input[name="concurrency"]').fill('6')
    await submit(page, '[data-queue="mail"] button:has-text("Save limits")')
    expect(await page.locator('.notice-ok').textContent()).toContain('Limits of Queue "mail" saved')
    expect((await queue('mail')).concurrency).toBe(6)
  })

  it('reads well light and dark, wide and 400 px wide (screenshots in /tmp/queues-*.png)', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [size, viewport] of [
        ['wide', { width: 1360, height: 900 }],
        ['narrow', { width: 400, height: 860 }],
      ] as const) {
        const { page, problems } = await openQueues({ viewport, colorScheme: scheme })
        await page.locator('[data-queue="mail"] details.limits-editor > summary').click()
        await page.screenshot({ path: `/tmp/queues-${scheme}-${size}.png`, fullPage: true })
        // Nothing wider than the window: the page does not scroll sideways.
        expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)
        expect(problems).toEqual([])
      }
    }
  })
})
