/**
 * The admin UI in real Chromium, continued (`admin.test.ts` has forms, live views and run
 * actions): a server restart under a live view and under the runs list, live lists and the
 * overview, schedules, settings, a 400 px screen, keyboard and dark mode.
 *
 * The tests share one engine, server and browser (`test/helpers/admin-ui.ts`); whatever a test
 * changes is put back after it, also when it fails. Waits are on conditions, never on time.
 */

import { join } from 'node:path'
import { expect, it, onTestFinished, vi } from 'vitest'
import { PATIENCE, submit } from '../helpers/browser.js'
import { HOSTILE, SHOTS, allow, contexts, describeAdminUi, engine, openPage, startServer, stopServer, url, waitForStatus } from '../helpers/admin-ui.js'

describeAdminUi('admin UI in Chromium, continued', () => {
  it('keeps a live log through a server restart: shows it is stale, reconnects, no line twice or lost', async () => {
    // The run writes only the lines it is allowed: 3 before the restart, 17 while the server is
    // down, 10 after it is back, then it holds until the page has been read.
    const long = await engine.enqueue('paced', { lines: 30 }, { label: 'restart' })
    allow(long.id, 3)
    await waitForStatus(long.id, 'running')
    const { context, page } = await openPage()
    await page.goto(url(`/admin/runs/${long.id}`))
    await page.waitForSelector('#live-state[data-state="live"]')
    await page.waitForSelector('#run-log .line >> nth=2')
    await stopServer() // the afterEach starts it again if this test fails before it does
    await page.waitForSelector('#live-state[data-state="stale"]')
    await page.screenshot({ path: join(SHOTS, 'run-stale.png'), fullPage: true })
    // Lines the page can only get from the store once it is back.
    allow(long.id, 20)
    await vi.waitFor(async () => expect(await engine.getLogs(long.id)).toHaveLength(20), PATIENCE)
    await startServer()
    await page.waitForSelector('#live-state[data-state="live"]')
    await page.waitForSelector('#run-log .line >> nth=19')
    allow(long.id, 30)
    await page.waitForSelector('#run-log .line >> nth=29')
    // Read while the run still holds: once it ends, the page reloads with what the server renders.
    const seqs = await page.locator('#run-log .line').evaluateAll((lines) => lines.map((l) => Number((l as unknown as { dataset: { seq: string } }).dataset.seq)))
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    allow(long.id, 31)
    await waitForStatus(long.id, 'succeeded')
    await page.waitForSelector('h1 .status-succeeded')
    await context.close()
  })

  it('catches the runs list up after a server restart: the stream says "gap", the rows are read again', async () => {
    const long = await engine.enqueue('countdown', { steps: 300, delayMs: 100 }, { label: 'gap-row' })
    await waitForStatus(long.id, 'running')
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/runs?label=gap-row'))
    const row = page.locator(`tr[data-run-id="${long.id}"]`)
    expect(await row.locator('[data-cell="status"]').textContent()).toBe('running')
    await page.waitForSelector('#live-state[data-state="live"]')
    await page.evaluate(() => ((globalThis as unknown as { __samePage: number }).__samePage = 1))
    await stopServer() // the afterEach starts it again if this test fails before it does
    await page.waitForSelector('#live-state[data-state="stale"]')
    // Cancelled while no server was there to tell the page.
    await engine.cancel(long.id, 'cancelled while the server was down')
    await waitForStatus(long.id, 'cancelled')
    await startServer()
    await page.waitForSelector(`tr[data-run-id="${long.id}"] [data-cell="status"] .status-cancelled`)
    expect(await row.locator('[data-cell="error"]').textContent()).toContain('cancelled while the server was down')
    expect(await page.evaluate(() => (globalThis as unknown as { __samePage?: number }).__samePage)).toBe(1)
    expect(problems.filter((p) => !p.includes('ERR_CONNECTION_REFUSED') && !p.includes('WebSocket'))).toEqual([])
    await context.close()
  })

  it('counts only new runs that match the runs list\'s filter', async () => {
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/runs?task=hello&label=banner'))
    await page.waitForSelector('#live-state[data-state="live"]')
    expect(await page.locator('#new-runs').isVisible()).toBe(false)
    await engine.enqueue('countdown', { steps: 1, delayMs: 0 }, { label: 'banner' })
    await engine.enqueue('hello', {}, { label: 'not-banner' })
    await engine.enqueue('hello', { name: 'banner' }, { label: 'banner' })
    await expect.poll(() => page.locator('#new-runs').getAttribute('data-count')).toBe('1')
    expect(await page.locator('#new-runs').isVisible()).toBe(true)
    expect(await page.locator('#new-runs [data-part="text"]').textContent()).toBe('1 new run matches this page.')
    await page.click('#new-runs a')
    await expect.poll(() => page.locator('#runs-table tbody tr').count()).toBe(1)
    expect(problems).toEqual([])
    await context.close()
  })

  it('keeps the header menu of my runs live: an enqueued run appears, and leaves "active" when it ends, without a reload', async () => {
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/task'))
    await page.waitForSelector('#live-state[data-state="live"]')
    const badge = page.locator('#my-active-count')
    await expect.poll(() => badge.getAttribute('data-count')).not.toBeNull()
    const before = Number(await badge.getAttribute('data-count'))
    await page.click('#my-runs summary')
    const mine = await engine.enqueue('hello', { name: 'menu' }, { label: 'menu-run', createdBy: 'local', delayMs: 3_600_000 })
    await expect.poll(() => badge.getAttribute('data-count')).toBe(String(before + 1))
    const item = page.locator(`#my-runs [data-list="active"] a[href="/admin/runs/${mine.id}"]`)
    expect(await item.textContent()).toContain('hello · menu-run')
    await engine.cancel(mine.id)
    await expect.poll(() => badge.getAttribute('data-count')).toBe(String(before))
    expect(await page.locator(`#my-runs [data-list="recent"] a[href="/admin/runs/${mine.id}"] .status-cancelled`).count()).toBe(1)
    expect(await item.count()).toBe(0)
    expect(problems).toEqual([])
    await context.close()
  })

  it('refreshes the overview in place: counts, chart and failures follow new runs without a reload', async () => {
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin'))
    const failedCard = page.locator('[data-stat="failed"]')
    const before = Number(await failedCard.textContent())
    await page.evaluate(() => ((globalThis as unknown as { __samePage: number }).__samePage = 1))
    const failed = await engine.enqueue('flaky', {}, { label: 'overview-live' })
    await waitForStatus(failed.id, 'failed')
    await expect.poll(() => failedCard.textContent()).toBe(String(before + 1))
    await page.waitForSelector(`[data-failed-run="${failed.id}"]`)
    expect(await page.locator('.chart rect.bad').count()).toBeGreaterThan(0)
    expect(await page.evaluate(() => (globalThis as unknown as { __samePage?: number }).__samePage)).toBe(1)
    expect(problems).toEqual([])
    await context.close()
  })

  it('lists schedules; switches one off and on; refuses to trigger it while off; triggers it and shows its history', async () => {
    // Switched back on even if the test stops while it is off.
    onTestFinished(async () => {
      await engine.toggleSchedule('nightly-hello', true)
    })
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/schedules'))
    const row = page.locator('tr[data-schedule="nightly-hello"]')
    await expect.poll(() => row.textContent()).toContain('Nightly hello')
    expect(await row.textContent()).toContain('At 02:30')
    expect(await row.textContent()).toContain('Europe/Berlin')
    expect(await row.locator('[data-cell="next"] time').getAttribute('datetime')).toMatch(/T0[01]:30:00\.000Z$/)
    expect(await row.textContent()).toContain(HOSTILE) // the description, as text
    // In the schedule's zone (minutes: the cron has no seconds), the viewer's own time in the tooltip.
    const absolute = row.locator('[data-cell="next"] .abs')
    expect(await absolute.textContent()).toMatch(/^\d{4}-\d\d-\d\d 02:30 GMT\+[12]$/)
    expect(await absolute.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d 0[01]:30 UTC · your time: \d{4}-\d\d-\d\d \d\d:30 \(UTC[+-]\d\d:\d\d\)$/)
    await page.screenshot({ path: join(SHOTS, 'schedules.png'), fullPage: true })

    await row.locator('button[role="switch"]').click()
    await page.waitForURL(/notice=schedule-off/)
    expect(await page.locator('.notice').textContent()).toContain('disabled for every process')
    expect(await page.locator('tr[data-schedule="nightly-hello"] button[role="switch"]').getAttribute('aria-checked')).toBe('false')
    expect((await engine.getSchedule('nightly-hello')).enabled).toBe(false)
    expect(await page.locator('tr[data-schedule="nightly-hello"] button:has-text("Run now")').isDisabled()).toBe(true)

    await page.locator('tr[data-schedule="nightly-hello"] button[role="switch"]').click()
    await page.waitForURL(/notice=schedule-on/)
    await page.locator('tr[data-schedule="nightly-hello"] button:has-text("Run now")').click()
    await page.waitForURL(/\/admin\/runs\/[0-9a-f-]{36}\?notice=triggered/)
    const runId = /runs\/([0-9a-f-]{36})/.exec(page.url())![1]!
    const triggered = await waitForStatus(runId, 'succeeded')
    expect(triggered).toMatchObject({ scheduleId: 'nightly-hello', category: 'system', args: { name: 'night' } })
    // The run page names its schedule; a run triggered by hand has no tick, so no fire key, and says who pressed "Run now".
    await page.reload()
    expect(await page.locator('dl.kv dd:has(a[href$="/schedules/nightly-hello"])').textContent()).toMatch(/^nightly-hello \("Run now" by \S+\)$/)

    await page.goto(url('/admin/schedules/nightly-hello'))
    expect(await page.locator('h1').textContent()).toBe('Nightly hello')
    await expect.poll(() => page.locator(`tr[data-run-id="${runId}"]`).count()).toBe(1)
    // Relative times tick: "just now" turns into seconds ago without a reload.
    await expect.poll(() => page.locator(`tr[data-run-id="${runId}"] time`).textContent()).toMatch(/^\d+ s ago$/)
    await page.screenshot({ path: join(SHOTS, 'schedule.png'), fullPage: true })
    // The switch on the schedule's own page keeps you there.
    await page.click('.page-head button[role="switch"]')
    await page.waitForURL(/\/admin\/schedules\/nightly-hello\?notice=schedule-off/)
    expect(await page.locator('.page-head button[role="switch"]').getAttribute('aria-checked')).toBe('false')
    await page.click('.page-head button[role="switch"]')
    await page.waitForURL(/\/admin\/schedules\/nightly-hello\?notice=schedule-on/)
    expect((await engine.getSchedule('nightly-hello')).enabled).toBe(true)
    const missing = await page.goto(url('/admin/schedules/nope'))
    expect(missing?.status()).toBe(404)
    // The browser logs the 404 we asked for; nothing else may go wrong.
    expect(problems.filter((p) => !p.includes('status of 404'))).toEqual([])
    await context.close()
  })

  it('changes settings in a form, shows what is wrong with bad values, and applies them', async () => {
    // The settings as they were, put back whatever happens (the worker's concurrency with them).
    const saved = await engine.settings.get()
    onTestFinished(async () => {
      await engine.settings.update(saved)
      await vi.waitFor(async () => expect((await engine.workers()).find((w) => w.concurrency > 0)?.concurrency).toBe(saved.workerConcurrency ?? 4), PATIENCE)
    })
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/settings'))
    await page.fill('#setting-runRetentionDays', '-3')
    await page.fill('#setting-workerConcurrency', '6')
    // Past the browser's own range check, to see the server's answer.
    await page.locator('#setting-runRetentionDays').evaluate((el: { removeAttribute(name: string): void }) => el.removeAttribute('min'))
    await page.click('button:has-text("Save settings")')
    expect(await page.locator('.notice-bad').textContent()).toContain('runRetentionDays: expected an integer from 0 to 36500, got -3')
    expect(await page.inputValue('#setting-runRetentionDays')).toBe('-3')
    expect((await engine.settings.get()).workerConcurrency).toBeNull()
    await page.screenshot({ path: join(SHOTS, 'settings-error.png'), fullPage: true })

    await page.fill('#setting-runRetentionDays', '21')
    await submit(page, 'button:has-text("Save settings")')
    await page.waitForURL(/notice=settings-saved/)
    expect(await engine.settings.get()).toMatchObject({ runRetentionDays: 21, workerConcurrency: 6 })
    await vi.waitFor(async () => expect((await engine.workers()).find((w) => w.concurrency > 0)?.concurrency).toBe(6), PATIENCE)
    expect(await page.inputValue('#setting-workerConcurrency')).toBe('6')
    await page.fill('#setting-workerConcurrency', '')
    // The page answering this save has the same URL as this one: wait for the new page itself.
    await submit(page, 'button:has-text("Save settings")')
    await page.waitForURL(/notice=settings-saved/)
    expect((await engine.settings.get()).workerConcurrency).toBeNull()
    await page.screenshot({ path: join(SHOTS, 'settings.png'), fullPage: true })
    // The browser logs the 400 the bad values earned; nothing else may go wrong.
    expect(problems.filter((p) => !p.includes('status of 400'))).toEqual([])
    await context.close()
  })

  /** Every kind of page, with data to show: [path, screenshot name]. */
  async function everyPage(): Promise<[string, string][]> {
    const failedRun = (await engine.listRuns({ task: 'flaky', status: 'failed', pageSize: 1 })).data[0] ?? (await engine.enqueue('flaky', {}))
    await waitForStatus(failedRun.id, 'failed')
    const parent = (await engine.listRuns({ task: 'fanout', status: 'succeeded', pageSize: 1 })).data[0] ?? (await engine.enqueue('fanout', { names: ['ann', 'bob', 'cy'] }))
    await waitForStatus(parent.id, 'succeeded')
    return [
      ['/admin', 'overview'],
      ['/admin/task', 'tasks'],
      ['/admin/task/countdown', 'task'],
      ['/admin/task/countdown/run?async=true&steps=3', 'confirm-run'],
      ['/admin/task/countdown/remove', 'remove-task'],
      ['/admin/runs', 'runs'],
      [`/admin/runs/${failedRun.id}`, 'run-failed-attempts'],
      [`/admin/runs/${parent.id}`, 'run-pool'],
      ['/admin/schedules', 'schedules-list'],
      ['/admin/schedules/nightly-hello', 'schedule-page'],
      ['/admin/workers', 'workers'],
      ['/admin/settings', 'settings-page'],
      ['/admin/login', 'login'],
    ]
  }

  it('fits a 400 px screen: no page is wider than the screen, the header wraps, the runs list keeps its status column and scrolls the rest in its panel', async () => {
    const context = await contexts.open({ viewport: { width: 400, height: 860 } })
    const page = await context.newPage()
    for (const [path, name] of await everyPage()) {
      await page.goto(url(path))
      expect({ path, width: await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth) }).toEqual({ path, width: 400 })
      if (name !== 'login') {
        const theme = await page.locator('#theme-toggle').boundingBox()
        expect(theme!.x + theme!.width).toBeLessThanOrEqual(400)
        const settings = await page.locator('.nav a[href="/admin/settings"]').boundingBox()
        expect(settings!.x + settings!.width).toBeLessThanOrEqual(400)
      }
      await page.screenshot({ path: join(SHOTS, `${name}-400.png`) })
    }
    // The runs list keeps each row's status on screen; what does not fit scrolls inside its panel.
    await engine.enqueue('hello', { name: 'a rather long name for a narrow screen' })
    await page.goto(url('/admin/runs'))
    const status = await page.locator('#runs-table tbody tr').first().locator('[data-cell="status"]').boundingBox()
    expect(status!.x + status!.width).toBeLessThanOrEqual(400)
    const wrap = page.locator('#runs-table').locator('xpath=..')
    expect(await wrap.evaluate((el) => {
      const box = el as unknown as { scrollWidth: number; clientWidth: number; getBoundingClientRect(): { right: number } }
      const overflowX = (globalThis as unknown as { getComputedStyle(e: unknown): { overflowX: string } }).getComputedStyle(el).overflowX
      return { right: box.getBoundingClientRect().right <= 400, fitsOrScrolls: box.scrollWidth <= box.clientWidth || overflowX === 'auto' || overflowX === 'scroll' }
    })).toEqual({ right: true, fitsOrScrolls: true })
    await context.close()
  }, 120_000)

  it('navigates by keyboard, switches to dark mode, lists workers, and saves a screenshot of every page', async () => {
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin'))
    await page.keyboard.press('g')
    await page.keyboard.press('r')
    await page.waitForURL(/\/admin\/runs/)
    await page.keyboard.press('/')
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('q')
    await page.click('#theme-toggle')
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { document: { documentElement: { dataset: { theme?: string } } } }).document.documentElement.dataset.theme)).toBe('dark')
    await page.goto(url('/admin/workers'))
    expect(await page.locator('tbody tr').count()).toBe(1)
    expect(await page.locator('tbody tr td').first().textContent()).toBe(engine.workerId)
    await page.click('#theme-toggle')
    for (const [path, name] of await everyPage()) {
      await page.goto(url(path))
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
    }
    await page.goto(url('/admin'))
    await page.click('#theme-toggle')
    // The sign-in page has no script (and so no stored theme): it follows the system's.
    await page.emulateMedia({ colorScheme: 'dark' })
    for (const [path, name] of await everyPage()) {
      await page.goto(url(path))
      await page.screenshot({ path: join(SHOTS, `${name}-dark.png`), fullPage: true })
    }
    await page.emulateMedia({ colorScheme: 'light' })
    await engine.enqueue('hello', { name: 'menu' }, { createdBy: 'local' })
    await page.goto(url('/admin'))
    await page.click('#theme-toggle')
    await page.click('#my-runs summary')
    await page.waitForSelector('#my-runs [data-list="recent"] a')
    await page.screenshot({ path: join(SHOTS, 'overview-menu.png'), fullPage: true })
    expect(problems).toEqual([])
    await context.close()
  }, 120_000)
})
