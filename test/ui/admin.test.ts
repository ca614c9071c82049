/**
 * The admin UI in real Chromium: forms, live views, run actions, bulk actions, edit & retry,
 * hostile strings, a server restart under a live view. Screenshots of every page go to
 * test-results/ui/.
 *
 * The tests share one engine, server and browser. Whatever a test changes (the server stopped,
 * pages open, runs still going, settings, a schedule switched off) is put back by an
 * `afterEach` or a `finally`, also when the test fails: one failure stays one failure. Waits are
 * on conditions with deadlines for a loaded machine, never on time.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { exampleTasks } from '../../src/examples/tasks.js'
import { ConflictError, createEngine, defineSchedule, defineTask, type Engine, type Run, type RunContext, type RunState } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { Contexts, PATIENCE, browserAvailable, hasHeld, launchBrowser, submit, watchFor } from '../helpers/browser.js'
import { runReaches } from '../helpers/runs.js'

// expect.poll's own default (1 s) is too short for a page on a loaded machine.
vi.setConfig({ expect: { poll: PATIENCE } })

const HOSTILE = '<img src=x onerror="window.__xss=1;alert(1)">'
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'ui')

const hostile = defineTask({
  key: 'hostile',
  title: 'Hostile Strings',
  description: `Shows ${HOSTILE} as text`,
  fields: [{ key: 'note', type: 'string', default: HOSTILE }],
  run(ctx) {
    ctx.log(HOSTILE)
    ctx.log.error(`${ctx.args.note} again`)
    return { html: HOSTILE }
  },
})
const dangerous = defineTask({
  key: 'danger',
  title: 'Drop Everything',
  dangerous: 'Deletes all the things',
  run: () => 'dropped',
})
const failing = defineTask({
  key: 'flaky',
  fields: [{ key: 'mode', type: 'string', default: 'fail', choices: ['fail', 'pass'] }],
  maxAttempts: 1,
  run(ctx) {
    if (ctx.args.mode === 'fail') throw new Error('flaky failed on purpose')
    return { mode: ctx.args.mode }
  },
})

const fanout = defineTask({
  key: 'fanout',
  title: 'Fan Out',
  fields: [{ key: 'names', type: 'string[]', default: ['a', 'b'] }],
  async run(ctx) {
    const pool = ctx.pool({ label: 'greetings' })
    for (const name of ctx.args.names) await pool.add('hello', { name })
    return (await pool.wait()).complete
  },
})

/**
 * Log lines each `paced` run may have written so far, by run id. The test hands them out, so the
 * run is surely mid-way when the test acts (stops the server, say) and holds before it ends,
 * whatever the machine's speed.
 */
const allowance = new Map<string, number>()
const wakers = new Set<() => void>()
function allow(runId: string, lines: number): void {
  allowance.set(runId, lines)
  for (const wake of [...wakers]) wake()
}
async function allowed(ctx: RunContext, lines: number): Promise<void> {
  while ((allowance.get(ctx.runId) ?? 0) < lines) {
    ctx.signal.throwIfAborted()
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        wakers.delete(wake)
        ctx.signal.removeEventListener('abort', wake)
        resolve()
      }
      wakers.add(wake)
      ctx.signal.addEventListener('abort', wake, { once: true })
    })
  }
}
const paced = defineTask({
  key: 'paced',
  fields: [{ key: 'lines', type: 'int', default: 30 }],
  async run(ctx) {
    for (let line = 1; line <= ctx.args.lines; line++) {
      await allowed(ctx, line)
      ctx.log(`line ${line} of ${ctx.args.lines}`)
    }
    await allowed(ctx, ctx.args.lines + 1)
    return { lines: ctx.args.lines }
  },
})

const ACTIVE: RunState[] = ['pending', 'running', 'waiting']

const run = browserAvailable() ? describe : describe.skip

run('admin UI in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let engine: Engine
  /** Undefined while a test has the server stopped; the `afterEach` starts it again. */
  let server: RunningServer | undefined
  let browser: Browser
  let port: number
  let base: string
  const contexts = new Contexts(() => browser)

  const startServer = async (): Promise<void> => {
    server = await serve(engine, { port, onError: () => undefined, streamPollIntervalMs: 100 })
  }
  /** Stops the server. The `afterEach` starts it again, also after a test that failed meanwhile. */
  const stopServer = async (): Promise<void> => {
    const running = server
    server = undefined
    await running?.close()
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    dir = mkdtempSync(join(tmpdir(), 'taskengine-ui-'))
    engine = createEngine({
      tasks: [...exampleTasks, hostile, dangerous, failing, fanout, paced],
      schedules: [defineSchedule({ id: 'nightly-hello', name: 'Nightly hello', description: `Greets ${HOSTILE}`, cron: '30 2 * * *', timezone: 'Europe/Berlin', task: 'hello', args: { name: 'night' } })],
      store: sqliteStore(join(dir, 'ui.db')),
      pollIntervalMs: 20,
      progressIntervalMs: 50,
    })
    await engine.start({ concurrency: 4 })
    // Port 0 once; restarts reuse the port, so pages reconnect to the same address.
    server = await serve(engine, { port: 0, onError: () => undefined, streamPollIntervalMs: 100 })
    port = server.port
    base = server.url
    browser = await launchBrowser()
  }, 60_000)

  afterEach(async () => {
    // Pages first: their sockets and timers must not act on what is restored below.
    await contexts.closeAll()
    if (server === undefined) await startServer()
    // Runs a test left going hold worker slots (and show in later pages): cancel them and wait
    // until they have ended.
    for (const left of (await engine.listRuns({ status: ACTIVE, pageSize: 1000 })).data) {
      await engine.cancel(left.id, 'left over by a test').catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error // ended meanwhile
      })
    }
    await vi.waitFor(async () => expect((await engine.listRuns({ status: ACTIVE })).total).toBe(0), PATIENCE)
  }, 60_000)

  afterAll(async () => {
    await contexts.closeAll()
    await browser?.close()
    await server?.close()
    await engine?.close({ graceMs: 0 })
    rmSync(dir, { recursive: true, force: true })
  })

  const url = (path: string): string => `${base}${path}`

  async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await contexts.open({ viewport: { width: 1360, height: 900 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    page.on('dialog', (dialog) => {
      if (dialog.type() === 'alert') problems.push(`alert: ${dialog.message()}`)
      void dialog.accept()
    })
    return { context, page, problems }
  }

  /** Resolves with the run once it has `status`, woken by its events (the engine here runs it). */
  function waitForStatus(id: string, status: RunState): Promise<Run> {
    return runReaches(engine, id, status, PATIENCE.timeout)
  }

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
    expect(await page.locator('#live-log .line').count()).toBe(6)
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

  it('fits a 400 px screen: no page is wider than the screen, the header wraps, wide tables scroll in their panel', async () => {
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
    await page.goto(url('/admin/runs'))
    const wrap = page.locator('#runs-table').locator('xpath=..')
    expect(await wrap.evaluate((el) => (el as unknown as { scrollWidth: number; clientWidth: number }).scrollWidth > (el as unknown as { clientWidth: number }).clientWidth)).toBe(true)
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
