/**
 * The admin UI in real Chromium: forms, live views, run actions, bulk actions, edit & retry,
 * hostile strings (the harness: `test/helpers/admin-ui.ts`; restarts, live lists, schedules,
 * settings and layouts are in `admin-more.test.ts`). Screenshots of every page go to
 * test-results/ui/.
 *
 * The tests share one engine, server and browser. Whatever a test changes is put back by the
 * harness's `afterEach` or a `finally`, also when the test fails: one failure stays one failure.
 * Waits are on conditions with deadlines for a loaded machine, never on time.
 */

import { join } from 'node:path'
import { expect, it, vi } from 'vitest'
import { PATIENCE, hasHeld, watchFor } from '../helpers/browser.js'
import { HOSTILE, SHOTS, describeAdminUi, engine, openPage, stopServer, url, waitForStatus } from '../helpers/admin-ui.js'

describeAdminUi('admin UI in Chromium', () => {
  it('fills a task form, shows field errors, runs it and shows the result', async () => {
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/task/all-fields'))
    await page.screenshot({ path: join(SHOTS, 'task-form.png'), fullPage: true })
    await page.fill('#f-count', '1000')
    await page.click('button[formaction$="/run"]')
    await expect.poll(() => page.locator('[data-field="count"] .error').textContent()).toContain('Expected int from 0 to 100, got 1000 (number)')
    expect(await page.locator('[data-field="text"] .error').textContent()).toBe('Required.')
    await page.screenshot({ path: join(SHOTS, 'task-form-errors.png'), fullPage: true })
    await page.fill('#f-text', 'from the browser')
    await page.selectOption('#f-format', 'tar')
    await page.fill('#f-count', '7')
    await page.uncheck('#f-enabled')
    await page.fill('#f-labels', 'alpha\nbeta')
    await page.fill('#f-at', '2026-01-02T03:04')
    await page.click('button[formaction$="/run"]')
    await page.waitForSelector('main .status-succeeded')
    const data = JSON.parse((await page.locator('#result-data').textContent()) ?? 'null') as Record<string, unknown>
    expect(data).toEqual({ text: 'from the browser', format: 'tar', count: 7, ratio: 0.5, enabled: false, labels: ['alpha', 'beta'], at: '2026-01-02T03:04:00.000Z' })
    await page.screenshot({ path: join(SHOTS, 'result.png'), fullPage: true })
    // The form answered with its errors as a 400, which the browser reports; nothing else.
    expect(problems.filter((p) => !p.includes('status of 400'))).toEqual([])
    await context.close()
  })

  it('asks for confirmation before a dangerous task runs', async () => {
    const { context, page } = await openPage()
    await page.goto(url('/admin/task/danger'))
    await page.click('button[formaction$="/run"]')
    await expect.poll(() => page.locator('.danger-box .error').textContent()).toBe('Tick the box to confirm this dangerous task.')
    await page.check('input[name="te:confirm"]')
    await page.click('button[formaction$="/run"]')
    await page.waitForSelector('main .status-succeeded')
    expect(await page.locator('#result-data').textContent()).toBe('"dropped"')
    await context.close()
  })

  it('starts a run live: log lines and progress arrive before it finishes', async () => {
    const { context, page, problems } = await openPage()
    // The page itself notes whether a line was on screen while the result was still hidden: a
    // loaded machine may finish the run before a look from here would catch it running.
    await watchFor(context, 'line-while-running', () => {
      const document = (globalThis as unknown as { document: { querySelector(s: string): { hidden: boolean } | null } }).document
      return document.querySelector('#live-log .line') !== null && document.querySelector('#live-result')?.hidden === true
    })
    await page.goto(url('/admin/task/countdown'))
    await page.fill('#f-steps', '6')
    await page.fill('#f-delayMs', '250')
    await page.click('button[formaction$="/start"]')
    await page.waitForSelector('#live-log .line')
    // The first line was on screen while the run was still going.
    expect(await hasHeld(page, 'line-while-running')).toBe(true)
    expect(await page.locator('#live-log .line').first().textContent()).toContain('step 1 of 6')
    await expect.poll(() => page.locator('#live-progress progress').getAttribute('value')).not.toBeNull()
    expect(Number(await page.locator('#live-progress progress').evaluate((p) => (p as unknown as { value: number }).value))).toBeGreaterThan(0)
    await page.screenshot({ path: join(SHOTS, 'live.png'), fullPage: true })
    await page.waitForSelector('#live-result:not([hidden])')
    // Six steps, then the run's final line.
    await expect.poll(() => page.locator('#live-log .line').count()).toBe(7)
    expect(await page.locator('#live-log .line').last().textContent()).toMatch(/completed in \d+ ms/)
    expect(await page.locator('h1 .status-succeeded').count()).toBe(1)
    expect(JSON.parse((await page.locator('#live-data').textContent()) ?? 'null')).toEqual({ steps: 6 })
    // The result reads like the result page: status, tree with copy, details, run again.
    expect(await page.locator('#live-result [data-part="status"] .status-succeeded').count()).toBe(1)
    expect(await page.locator('[data-json-tree="live-data"]').textContent()).toContain('"steps": 6')
    expect(await page.locator('#live-result button[data-copy="live-data"]').count()).toBe(1)
    expect(await page.locator('#live-result [data-part="duration"]').textContent()).toMatch(/\d+(\.\d)? s|ms/)
    expect(await page.locator('#live-error').isHidden()).toBe(true)
    expect(await page.locator('#live-actions a:has-text("Edit & run again")').getAttribute('href')).toBe('/admin/task/countdown?a.steps=6&a.delayMs=250')
    expect(await page.locator('main pre:visible').count()).toBe(0)
    await page.screenshot({ path: join(SHOTS, 'live-done.png'), fullPage: true })
    expect(problems).toEqual([])
    await context.close()
  })

  it('shows a live run\'s failure like the result page: error card with code and stack', async () => {
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/task/always-fails'))
    await page.fill('#f-message', 'broken on purpose')
    await page.check('input[name="te:confirm"]')
    await page.click('button[formaction$="/start"]')
    await page.waitForSelector('#live-result:not([hidden])')
    expect(await page.locator('#live-error [data-part="message"]').textContent()).toBe('broken on purpose')
    expect(await page.locator('#live-error [data-part="code"]').textContent()).toBe('E_EXAMPLE')
    await page.click('#live-error summary')
    expect(await page.locator('#live-error [data-part="stack-text"]').textContent()).toContain('ExampleFailure: broken on purpose')
    expect(await page.locator('#live-result .empty').textContent()).toBe('No result: the run failed.')
    expect(await page.locator('#live-progress').isHidden()).toBe(true)
    expect(await page.locator('#live-log .line').first().textContent()).toContain('about to fail')
    await page.screenshot({ path: join(SHOTS, 'live-failed.png'), fullPage: true })
    expect(problems).toEqual([])
    await context.close()
  })

  it('says a live run was interrupted when the server goes away, and links to the runs', async () => {
    const { context, page } = await openPage()
    await page.goto(url('/admin/task/countdown'))
    await page.fill('#f-steps', '100')
    await page.fill('#f-delayMs', '100')
    await page.click('button[formaction$="/start"]')
    await page.waitForSelector('#live-log .line')
    // The header menu's stream reconnects on its own while the server is gone: its attempts
    // from here on, as the browser makes them.
    const reconnects: string[] = []
    page.on('websocket', (socket) => {
      if (socket.url().includes('/api/stream')) reconnects.push(socket.url())
    })
    await stopServer() // the afterEach starts it again
    await page.waitForSelector('#live-interrupted:not([hidden])')
    expect(await page.locator('#live-status').textContent()).toBe('interrupted')
    const indicator = page.locator('#live-state')
    await expect.poll(() => indicator.textContent()).toBe('disconnected')
    // The indicator is the live view's: the stream's failed attempts leave it alone. The stream
    // schedules each attempt from the previous one's close handler, so a second attempt means the
    // first one's failure has been handled.
    await expect.poll(() => reconnects.length).toBeGreaterThanOrEqual(2)
    expect(await indicator.textContent()).toBe('disconnected')
    expect(await indicator.getAttribute('data-state')).toBe('stale')
    expect(await page.locator('#live-interrupted a').first().getAttribute('href')).toBe('/admin/runs?task=countdown')
    await page.screenshot({ path: join(SHOTS, 'live-interrupted.png'), fullPage: true })
    await context.close()
  })

  it('cancels a running run from its page', async () => {
    const started = await engine.enqueue('countdown', { steps: 200, delayMs: 100 }, { label: 'to-cancel' })
    await waitForStatus(started.id, 'running')
    const { context, page, problems } = await openPage()
    await page.goto(url(`/admin/runs/${started.id}`))
    await page.waitForSelector('#run-log .line')
    await page.screenshot({ path: join(SHOTS, 'run-running.png'), fullPage: true })
    await page.click('form[action$="/cancel"] button')
    await waitForStatus(started.id, 'cancelled')
    await page.waitForSelector('h1 .status-cancelled')
    // The page reloads itself for the final state the server renders.
    await page.waitForSelector('#run-page[data-status="cancelled"]')
    // A deliberate cancel is told neutrally, with who asked: no error card, no stack.
    expect(await page.locator('#cancel-card').textContent()).toMatch(/^Cancelled by \S+ · asked at /)
    expect(await page.locator('.error-card').count()).toBe(0)
    expect(problems).toEqual([])
    await context.close()
  })

  it('retries a failed run', async () => {
    const failed = await engine.enqueue('flaky', {})
    await waitForStatus(failed.id, 'failed')
    const { context, page } = await openPage()
    await page.goto(url(`/admin/runs/${failed.id}`))
    expect(await page.locator('.error-card .message').textContent()).toBe('flaky failed on purpose')
    await page.screenshot({ path: join(SHOTS, 'run-failed.png'), fullPage: true })
    await page.click('form[action$="/retry"] button')
    await page.waitForSelector('.notice-ok')
    expect(await page.locator('.notice-ok').textContent()).toMatch(/retried/)
    await vi.waitFor(async () => expect((await engine.getRun(failed.id))?.attempt).toBe(2), PATIENCE)
    await context.close()
  })

  it('filters runs and retries a selection in bulk', async () => {
    const failures = await engine.enqueueMany('flaky', [{}, {}, {}], { label: 'bulk-x' })
    await engine.enqueueMany('flaky', [{ mode: 'pass' }, { mode: 'pass' }], { label: 'bulk-x' })
    for (const f of failures) await waitForStatus(f.id, 'failed')
    const { context, page, problems } = await openPage()
    await page.goto(url('/admin/runs'))
    await page.fill('#f-label', 'bulk-x')
    await page.selectOption('#f-status', 'failed')
    await page.click('form[role="search"] button[type="submit"]')
    await page.waitForURL(/label=bulk-x/)
    expect(page.url()).toMatch(/status=failed/)
    expect(await page.locator('#runs-table tbody tr').count()).toBe(3)
    await page.check('#select-all')
    expect(await page.locator('#selected-count').textContent()).toBe('3 selected')
    await page.screenshot({ path: join(SHOTS, 'runs-selected.png'), fullPage: true })
    await page.click('button[value="retry"]')
    await page.waitForSelector('.notice')
    expect(await page.locator('.notice').first().textContent()).toBe('retry: 3 done, 0 skipped (not in a state that allows it).')
    for (const f of failures) await vi.waitFor(async () => expect((await engine.getRun(f.id))?.attempt).toBe(2), PATIENCE)
    const csv = await page.request.get(url('/admin/runs/export?label=bulk-x&format=csv'))
    expect(csv.headers()['content-disposition']).toBe('attachment; filename="runs.csv"')
    expect((await csv.text()).trim().split('\n')).toHaveLength(6)
    expect(problems).toEqual([])
    await context.close()
  })

  it('edits and retries: the task form comes pre-filled with the run\'s arguments', async () => {
    const original = await engine.enqueue('all-fields', { text: 'first try', count: 4, labels: ['x', 'y'], enabled: false }, { label: 'edit-me' })
    await waitForStatus(original.id, 'succeeded')
    const { context, page } = await openPage()
    await page.goto(url(`/admin/runs/${original.id}`))
    await page.click('a:has-text("Edit & retry")')
    await page.waitForURL(/\/admin\/task\/all-fields\?/)
    expect(await page.inputValue('#f-text')).toBe('first try')
    expect(await page.inputValue('#f-count')).toBe('4')
    expect(await page.inputValue('#f-labels')).toBe('x\ny')
    expect(await page.isChecked('#f-enabled')).toBe(false)
    await page.fill('#f-text', 'second try')
    await page.click('button[formaction$="/enqueue"]')
    await page.waitForURL(/\/admin\/runs\/[0-9a-f-]{36}\?notice=enqueued/)
    const id = /runs\/([0-9a-f-]{36})/.exec(page.url())![1]!
    expect(id).not.toBe(original.id)
    const second = await waitForStatus(id, 'succeeded')
    expect(second.args).toMatchObject({ text: 'second try', count: 4, labels: ['x', 'y'], enabled: false })
    await context.close()
  })

  it('shows hostile strings as text and runs none of them', async () => {
    const stored = await engine.enqueue('hostile', { note: HOSTILE }, { label: HOSTILE, tags: [HOSTILE] })
    await waitForStatus(stored.id, 'succeeded')
    const { context, page, problems } = await openPage()
    for (const path of [`/admin/runs/${stored.id}`, '/admin/runs', '/admin/task', '/admin/task/hostile', '/admin']) {
      await page.goto(url(path))
      expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined()
      expect(await page.locator('img').count()).toBe(0)
    }
    await page.goto(url(`/admin/runs/${stored.id}`))
    expect(await page.locator('#run-log .msg').first().textContent()).toBe(HOSTILE)
    await page.screenshot({ path: join(SHOTS, 'run-hostile.png'), fullPage: true })
    // The live view and the synchronous result page too.
    // A link to the live view only asks; the click starts it.
    await page.goto(url(`/admin/task/hostile/run?async=true&note=${encodeURIComponent(HOSTILE)}`))
    expect(await page.locator('#live-run').count()).toBe(0)
    await page.click('#confirm-run button[type="submit"]')
    await page.waitForSelector('#live-result:not([hidden])')
    expect(await page.locator('#live-log .msg').first().textContent()).toBe(HOSTILE)
    await page.goto(url('/admin/task/hostile'))
    await page.click('button[formaction$="/run"]')
    await page.waitForSelector('main .status-succeeded')
    expect(await page.locator('.terminal .msg').first().textContent()).toBe(HOSTILE)
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined()
    expect(problems).toEqual([])
    const response = await page.request.get(url('/admin'))
    expect(response.headers()['content-security-policy']).toContain("script-src 'self'")
    expect(await response.text()).not.toMatch(/<script>/)
    await context.close()
  })
})
