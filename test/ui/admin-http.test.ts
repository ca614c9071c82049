/**
 * The admin UI over HTTP and WebSocket without a browser: GETs that change nothing, CSRF, the
 * live view's start socket and its confirmation, redirects, formats and the content of pages.
 * One real server on a real socket (so `Host` and `Origin` are what a browser sends).
 *
 * The tests share that server and engine: what a test changes (a schedule switched off, a run
 * left blocking a worker slot, the record of dangerous starts) is put back by a hook or a
 * `finally`, also when the test fails, so one failure stays one failure.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineSchedule, defineTask, type Engine, type RunEvent, type RunState } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { PATIENCE } from '../helpers/browser.js'
import { runReaches } from '../helpers/runs.js'
import { Session, socket, text } from '../helpers/admin-session.js'

/** Every start of the dangerous task, with its arguments: it must only run when confirmed. */
const drops: unknown[] = []
const danger = defineTask({
  key: 'danger',
  title: 'Drop Everything',
  dangerous: 'Deletes all the things',
  fields: [{ key: 'table', type: 'string', default: 'all' }],
  run(ctx) {
    drops.push(ctx.args)
    return `dropped ${ctx.args.table}`
  },
})
const greet = defineTask({
  key: 'greet',
  title: 'Greet',
  fields: [{ key: 'name', type: 'string', default: 'world' }],
  run: (ctx) => ({ greeting: `Hello, ${ctx.args.name}!` }),
})

const echo = defineTask({
  key: 'echo',
  title: 'Echo',
  fields: [{ key: 'name', type: 'string', default: 'x' }],
  async run(ctx) {
    ctx.progress({ percent: 100 })
    await ctx.artifact('echo.txt', `echo ${ctx.args.name}`, 'text/plain')
    return { echoed: ctx.args.name }
  },
})
const fanout = defineTask({
  key: 'fanout',
  title: 'Fan out',
  fields: [{ key: 'names', type: 'string[]', default: ['a', 'b'] }],
  async run(ctx) {
    const pool = ctx.pool({ label: 'greetings' })
    for (const name of ctx.args.names) await pool.add('echo', { name })
    const status = await pool.wait()
    return { done: status.complete }
  },
})
const flaky = defineTask({
  key: 'flaky',
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 1 },
  run(ctx) {
    throw new FlakyError(`attempt ${ctx.attempt} broke`)
  },
})
const block = defineTask({
  key: 'block',
  run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
})
/** Logs, progress and an artifact: what a recorded in-process run stores as it goes. */
const chatter = defineTask({
  key: 'chatter',
  title: 'Chatter',
  fields: [{ key: 'name', type: 'string', default: 'x' }],
  async run(ctx) {
    ctx.log(`hello ${ctx.args.name}`)
    ctx.progress({ step: 1, steps: 1, message: 'said it' })
    await ctx.artifact('said.txt', `said ${ctx.args.name}`, 'text/plain')
    ctx.log.warn('bye')
    return { said: ctx.args.name }
  },
})
const temp = defineTask({ key: 'temp', title: 'Temporary', run: () => 'temp' })
const searchable = defineTask({ key: 'invoice-export', title: 'Export Invoices', category: 'billing', tags: ['csv'], run: () => 'ok' })

class FlakyError extends Error {
  override readonly name = 'FlakyError'
}

describe('admin UI over HTTP', () => {
  let dir: string
  let engine: Engine
  let server: RunningServer
  let session: Session
  const started: RunEvent[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'taskengine-admin-http-'))
    engine = createEngine({
      tasks: [danger, greet, echo, fanout, flaky, block, temp, searchable, chatter],
      schedules: [
        defineSchedule({ id: 'nightly', name: 'Nightly', cron: '0 3 * * *', task: 'greet', args: { name: 'night' } }),
        defineSchedule({ id: 'new-york', name: 'New York, to the second', cron: '0 0 3 * * *', timezone: 'America/New_York', task: 'greet', args: { name: 'ny' } }),
      ],
      store: sqliteStore(join(dir, 'admin.db')),
      pollIntervalMs: 20,
    })
    engine.subscribe((event) => {
      if (event.type === 'started' && (event.task === 'danger' || event.task === 'greet')) started.push(event)
    })
    await engine.start({ concurrency: 3 })
    server = await serve(engine, { port: 0, onError: () => undefined })
    session = new Session(server.url)
    await session.page('/admin')
  })

  afterAll(async () => {
    await server?.close()
    await engine?.close({ graceMs: 0 })
    rmSync(dir, { recursive: true, force: true })
  })

  // `drops` then holds what ran during this test only: a test that failed before taking its
  // expected drops out leaves nothing for the next one to trip on.
  beforeEach(() => {
    drops.length = 0
  })

  describe('a link never runs a task', () => {
    it('GET /run (live or not) shows a confirmation form and starts nothing', async () => {
      const before = started.length
      const live = await session.get('/admin/task/danger/run?async=true&table=users&label=night')
      expect(live.status).toBe(200)
      const html = await live.text()
      expect(html).toContain('action="/admin/task/danger/start"')
      expect(html).toContain('name="te:confirm"')
      expect(html).toContain('<input type="hidden" name="table" value="users"/>')
      expect(html).toContain('<input type="hidden" name="te:label" value="night"/>')
      expect(html).not.toContain('data-socket')
      const sync = await (await session.get('/admin/task/greet/run?name=link')).text()
      expect(sync).toContain('action="/admin/task/greet/run"')
      expect(sync).not.toContain('name="te:confirm"')
      expect(started.length).toBe(before)
      expect(drops).toEqual([])
    })

    it('the task form\'s POST to /start shows the live view with a one-time ticket, and only after confirmation', async () => {
      await session.page('/admin/task/danger')
      const unconfirmed = await session.post('/admin/task/danger/start', { _csrf: session.csrf, table: 'users' })
      expect(unconfirmed.status).toBe(400)
      expect(await unconfirmed.text()).toContain('Tick the box to confirm this dangerous task.')
      const confirmed = await session.post('/admin/task/danger/start', { _csrf: session.csrf, table: 'users', 'te:confirm': 'yes' })
      expect(confirmed.status).toBe(200)
      expect(await confirmed.text()).toMatch(/data-socket="\/admin\/task\/danger\/start\?ticket=[0-9a-f-]{36}"/)
      // The page opens the socket; the POST alone ran nothing.
      expect(drops).toEqual([])
    })

    it('refuses a POST without the form token, or from another origin (403), and starts nothing', async () => {
      await session.page('/admin/task/greet')
      const before = started.length
      const noToken = await session.post('/admin/task/greet/run', { name: 'x' })
      expect(noToken.status).toBe(403)
      expect(await noToken.text()).toContain('missing or stale form token')
      const foreign = await session.post('/admin/task/greet/run', { _csrf: session.csrf, name: 'x' }, { origin: 'https://evil.example' })
      expect(foreign.status).toBe(403)
      expect(await foreign.text()).toContain('cross-site request refused')
      const wrongToken = await session.post('/admin/task/greet/run', { _csrf: '00000000-0000-0000-0000-000000000000', name: 'x' })
      expect(wrongToken.status).toBe(403)
      expect(started.length).toBe(before)
      const ok = await session.post('/admin/task/greet/run', { _csrf: session.csrf, name: 'x' }, { origin: server.url })
      expect(ok.status).toBe(200)
      expect(await ok.text()).toContain('Hello, x!')
    })
  })

  describe('going back after a schedule action', () => {
    // Each test leaves the schedule on, also one that failed while it was off.
    afterEach(async () => {
      await engine.toggleSchedule('nightly', true)
    })

    const toggle = async (back: string | undefined, enabled: boolean): Promise<string> => {
      await session.page('/admin/schedules')
      const response = await session.post('/admin/schedules/nightly/toggle', { _csrf: session.csrf, enabled: String(enabled), ...(back === undefined ? {} : { back }) })
      expect(response.status).toBe(303)
      return response.headers.get('location')!
    }

    it('returns to the page named by the form\'s back field, with a fresh notice', async () => {
      expect(await toggle('/admin/schedules/nightly', false)).toBe('/admin/schedules/nightly?notice=schedule-off&name=Nightly')
      expect(await toggle('/admin/schedules/nightly?page=2&notice=schedule-off&name=Old', true)).toBe('/admin/schedules/nightly?page=2&notice=schedule-on&name=Nightly')
      expect(await toggle(undefined, true)).toBe('/admin/schedules?notice=schedule-on&name=Nightly')
    })

    it('never sends you outside the admin UI', async () => {
      for (const back of ['https://evil.example/admin', '//evil.example/admin', '/\\evil.example/admin', '/admin/../api/runs', '/api/runs', 'admin/schedules', '/administrator']) {
        expect(await toggle(back, true)).toBe('/admin/schedules?notice=schedule-on&name=Nightly')
      }
    })

    it('a refused trigger goes back too, saying why', async () => {
      await toggle(undefined, false)
      await session.page('/admin/schedules/nightly')
      const response = await session.post('/admin/schedules/nightly/trigger', { _csrf: session.csrf, back: '/admin/schedules/nightly' })
      const location = new URL(response.headers.get('location')!, server.url)
      expect(location.pathname).toBe('/admin/schedules/nightly')
      expect(location.searchParams.get('notice')).toBe('conflict')
      expect(location.searchParams.get('message')).toMatch(/disabled/)
      await toggle(undefined, true)
    })

    it('rejects a toggle without a clear state, naming the bad value', async () => {
      await session.page('/admin/schedules')
      const response = await session.post('/admin/schedules/nightly/toggle', { _csrf: session.csrf, enabled: 'maybe' }, { accept: 'application/json' })
      expect(response.status).toBe(400)
      expect(await response.text()).toContain('enabled: expected \\"true\\" or \\"false\\", got \\"maybe\\"')
      expect((await engine.getSchedule('nightly')).enabled).toBe(true)
    })
  })

  /** Resolves once the run has `status`, woken by its events (the engine here runs it). */
  const waitForStatus = async (id: string, status: RunState): Promise<void> => {
    await runReaches(engine, id, status, PATIENCE.timeout)
  }

  describe('run pages', () => {
    it('a run cancelled while pending: a final "cancelled" entry, no empty progress bar, "No log lines."', async () => {
      const run = await engine.enqueue('echo', { name: 'later' }, { delayMs: 3_600_000 })
      await engine.cancel(run.id, 'not needed after all')
      const html = await session.page(`/admin/runs/${run.id}`)
      const timeline = text(/<ol class="timeline"[\s\S]*?<\/ol>/.exec(html)![0])
      expect(timeline).toMatch(/^created .* cancel requested: not needed after all .* cancelled — cancelled: not needed after all/)
      expect(html).toMatch(/<div class="progress" id="run-progress" data-progress="" hidden="">/)
      expect(text(html)).toContain('No progress was reported.')
      expect(html).toContain('class="terminal terminal-done" id="run-log"')
    })

    it('a pool\'s parent shows the tree: children by task and arguments, aggregate progress, waiting and resuming', async () => {
      const parent = await engine.enqueue('fanout', { names: ['ann', 'bob', 'cy'] })
      await waitForStatus(parent.id, 'succeeded')
      const html = await session.page(`/admin/runs/${parent.id}`)
      const tree = text(html.slice(html.indexOf('<h2>Pool tree</h2>')))
      expect(tree).toContain('Opened pool greetings')
      expect(tree).toContain('3 of 3 done · 0 failed · 0 running · done')
      expect(html).toMatch(/<progress max="100" value="100" aria-label="progress">100%<\/progress>/)
      for (const name of ['ann', 'bob', 'cy']) expect(tree).toContain(`echo name=${name}`)
      expect(tree).not.toContain('ad-hoc')
      const timeline = text(/<ol class="timeline"[\s\S]*?<\/ol>/.exec(html)![0])
      expect(timeline).toContain('opened pool "greetings"')
      expect(timeline).toContain('resumed: pool "greetings" done (3 succeeded, 0 failed, 0 cancelled)')
      // A child names its pool and parent.
      const child = (await engine.listRuns({ task: 'echo', search: 'ann' })).data[0]!
      const childPage = text(await session.page(`/admin/runs/${child.id}`))
      expect(childPage).toContain('Parent run: fanout succeeded')
      expect(childPage).toContain('In pool greetings')
    })

    it('lists every attempt with its stack trace', async () => {
      const run = await engine.enqueue('flaky', {})
      await waitForStatus(run.id, 'failed')
      const html = await session.page(`/admin/runs/${run.id}`)
      const attempts = html.slice(html.indexOf('<h2>Attempts</h2>'))
      expect(text(attempts)).toMatch(/1 retry .* attempt 1 broke .* 2 failed .* attempt 2 broke/)
      const stacks = [...attempts.matchAll(/<pre class="stack">([^<]*)<\/pre>/g)].map((m) => m[1]!)
      expect(stacks).toHaveLength(2)
      expect(stacks[0]).toMatch(/^FlakyError: attempt 1 broke\n\s+at /)
      expect(text(html)).toContain('Stack trace (FlakyError)')
    })

    it('links the run\'s artifacts for download', async () => {
      const run = await engine.enqueue('echo', { name: 'file' })
      await waitForStatus(run.id, 'succeeded')
      const html = await session.page(`/admin/runs/${run.id}`)
      const link = new RegExp(`<a href="(/api/runs/${run.id}/artifacts/echo\\.txt)" download="echo.txt">`).exec(html)
      expect(link).not.toBeNull()
      expect(text(html)).toContain('text/plain 9 bytes')
      const file = await session.get(link![1]!)
      expect(file.status).toBe(200)
      expect(await file.text()).toBe('echo file')
    })
  })

  describe('runs started from the task form', () => {
    it('Run stores the run as it executes: the result page links to it, which says it ran in-process, started by the caller', async () => {
      await session.page('/admin/task/chatter')
      const response = await session.post('/admin/task/chatter/run', { _csrf: session.csrf, name: 'ann', 'te:label': 'by hand' })
      expect(response.status).toBe(200)
      const html = await response.text()
      const id = /<a id="result-stored" href="\/admin\/runs\/([0-9a-f-]{36})">/.exec(html)?.[1]
      expect(id).toBeDefined()
      expect(text(html)).toContain(`Stored as run ${id!.slice(-8)}`)
      expect(await engine.getRun(id!)).toMatchObject({ status: 'succeeded', inProcess: true, startedFrom: 'admin', createdBy: 'local', label: 'by hand', data: { said: 'ann' }, progress: { message: 'said it' }, attempt: 1, maxAttempts: 1 })
      expect((await engine.getLogs(id!)).map((l) => l.message)).toEqual(['hello ann', 'bye'])
      expect((await engine.listArtifacts(id!)).map((a) => a.name)).toEqual(['said.txt'])
      const runPage = await session.page(`/admin/runs/${id}`)
      expect(text(runPage)).toContain("ran in-process, started from the admin UI's Run by local")
      expect(runPage).toContain('<dd id="run-origin">In-process (not on a worker), started from the admin UI&#39;s Run by local</dd>')
      // Not retried on a worker: no Retry button (Edit & retry runs the task again).
      expect(runPage).not.toContain(`action="/admin/runs/${id}/retry"`)
      expect(text(await session.page('/admin/runs?task=chatter'))).toContain('by hand')
    })

    it('the live Start stores its run, with its logs, progress and result; the started message names it', async () => {
      await session.page('/admin/task/chatter')
      const page = await (await session.post('/admin/task/chatter/start', { _csrf: session.csrf, name: 'bob' })).text()
      const path = /data-socket="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&')
      const live = await socket(`${server.url.replace('http', 'ws')}${path}`)
      expect(live.messages.map((m) => m.cmd)).toEqual(['started', 'output', 'progress', 'output', 'output', 'complete', 'close-connection'])
      const id = (live.messages[0]!.param as { runId: string }).runId
      expect(live.messages[5]).toMatchObject({ param: { result: { id, status: 'succeeded', data: { said: 'bob' } } } })
      expect(await engine.getRun(id)).toMatchObject({ status: 'succeeded', inProcess: true, startedFrom: 'admin-live', createdBy: 'local', data: { said: 'bob' }, progress: { step: 1, steps: 1 } })
      expect((await engine.getLogs(id)).map((l) => [l.level, l.message])).toEqual([
        ['info', 'hello bob'],
        ['warn', 'bye'],
      ])
      expect((await engine.listRuns({ task: 'chatter', createdBy: 'local' })).data.map((r) => r.id)).toContain(id)
    })
  })

  describe('runs list', () => {
    it('pages through runs: 25 a page, newer and older links, counts', async () => {
      await engine.enqueueMany('echo', Array.from({ length: 30 }, (_, i) => ({ name: `p${i}` })), { label: 'paged', delayMs: 3_600_000 })
      const first = await session.page('/admin/runs?label=paged')
      expect((first.match(/<tr data-run-id=/g) ?? []).length).toBe(25)
      expect(text(first)).toContain('1–25 of 30 page 1 of 2 Older →')
      expect(first).toContain('href="/admin/runs?label=paged&amp;page=2" rel="next"')
      const second = await session.page('/admin/runs?label=paged&page=2')
      expect((second.match(/<tr data-run-id=/g) ?? []).length).toBe(5)
      expect(text(second)).toContain('26–30 of 30 ← Newer page 2 of 2')
      // The same rows as data: page two holds the five oldest.
      const data = (await (await session.get('/admin/runs?label=paged&page=2&format=json')).json()) as { data: { args: { name: string } }[]; total: number }
      expect(data.total).toBe(30)
      expect(data.data.map((r) => r.args.name)).toEqual(['p4', 'p3', 'p2', 'p1', 'p0'])
    })

    it('bulk cancel asks first (without the script), then cancels and reports skipped runs', async () => {
      const runs = await engine.enqueueMany('echo', [{ name: 'b1' }, { name: 'b2' }, { name: 'b3' }], { label: 'bulk', delayMs: 3_600_000 })
      await engine.cancel(runs[2]!.id)
      await session.page('/admin/runs?label=bulk')
      const ids = runs.map((r) => r.id)
      const ask = await session.post('/admin/runs/bulk', { _csrf: session.csrf, action: 'cancel', id: ids, 'te:return': '/admin/runs?label=bulk' })
      expect(ask.status).toBe(200)
      const question = await ask.text()
      expect(text(question)).toContain('Cancel 3 runs?')
      for (const id of ids) expect(question).toContain(`value="${id}"`)
      expect((await engine.getRun(ids[0]!))?.status).toBe('pending')
      const done = await session.post('/admin/runs/bulk', { _csrf: session.csrf, action: 'cancel', id: ids, 'te:confirm': 'yes', 'te:return': '/admin/runs?label=bulk' })
      expect(done.status).toBe(303)
      const location = done.headers.get('location')!
      expect(location).toBe('/admin/runs?label=bulk&notice=bulk&action=cancel&done=2&skipped=1')
      expect(text(await session.page(location))).toContain('cancel: 2 done, 1 skipped (not in a state that allows it).')
      for (const id of ids) expect((await engine.getRun(id))?.status).toBe('cancelled')
    })

    it('bulk delete removes the runs from the list', async () => {
      const runs = await engine.enqueueMany('echo', [{ name: 'd1' }, { name: 'd2' }], { label: 'bulk-delete', delayMs: 3_600_000 })
      await session.page('/admin/runs?label=bulk-delete')
      const done = await session.post('/admin/runs/bulk', { _csrf: session.csrf, action: 'delete', id: runs.map((r) => r.id), 'te:confirm': 'yes', 'te:return': '/admin/runs?label=bulk-delete' })
      expect(done.headers.get('location')).toBe('/admin/runs?label=bulk-delete&notice=bulk&action=delete&done=2&skipped=0')
      for (const run of runs) expect(await engine.getRun(run.id)).toBeUndefined()
      expect(text(await session.page('/admin/runs?label=bulk-delete'))).toContain('No runs match.')
    })

    it('exports the filtered runs as a JSON download', async () => {
      await engine.enqueueMany('echo', [{ name: 'e1' }, { name: 'e2' }], { label: 'export-me', delayMs: 3_600_000 })
      const response = await session.get('/admin/runs/export?label=export-me&format=json')
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="runs.json"')
      const runs = (await response.json()) as { label: string; args: { name: string } }[]
      expect(runs.map((r) => r.args.name).sort()).toEqual(['e1', 'e2'])
      expect(runs.every((r) => r.label === 'export-me')).toBe(true)
    })
  })

  describe('pages as data', () => {
    it('answers ?format=json|csv|yaml (and an Accept header) with the page\'s data', async () => {
      // Runs of its own, not another test's: more than a page of them.
      await engine.enqueueMany('echo', Array.from({ length: 30 }, (_, i) => ({ name: `c${i}` })), { label: 'paged-csv', delayMs: 3_600_000 })
      const tasks = await session.get('/admin/task?format=json')
      expect(tasks.headers.get('content-type')).toMatch(/^application\/json/)
      expect(((await tasks.json()) as { key: string }[]).map((t) => t.key)).toContain('greet')
      const runs = await session.get('/admin/runs?label=paged-csv&format=csv')
      expect(runs.headers.get('content-type')).toMatch(/^text\/csv/)
      const lines = (await runs.text()).trim().split('\n')
      expect(lines[0]).toMatch(/^id,/)
      expect(lines).toHaveLength(26)
      const schedules = await session.get('/admin/schedules?format=yaml')
      expect(schedules.headers.get('content-type')).toMatch(/yaml/)
      expect(await schedules.text()).toContain('id: nightly')
      const overview = await session.get('/admin', { accept: 'application/json' })
      expect(Object.keys((await overview.json()) as object).sort()).toEqual(expect.arrayContaining(['stats', 'throughput', 'workers', 'recentFailures']))
      const settings = (await (await session.get('/admin/settings?format=json')).json()) as { key: string }[]
      expect(settings.map((x) => x.key)).toContain('runRetentionDays')
    })
  })

  describe('overview', () => {
    it('draws the last hour with clock times, counts and a legend; lists queues (next due), workers and failures', async () => {
      await engine.enqueue('echo', { name: 'soon' }, { queue: 'later', delayMs: 600_000 })
      const failed = await engine.enqueue('flaky', {}, { label: 'for-overview' })
      await waitForStatus(failed.id, 'failed')
      const html = await session.page('/admin')
      const chart = /<svg class="chart"[\s\S]*?<\/svg>/.exec(html)![0]
      expect(chart).not.toContain('preserveAspectRatio')
      const times = [...chart.matchAll(/<text class="label" x="[\d.]+%" y="194" text-anchor="\w+">(\d\d:\d\d)<\/text>/g)].map((m) => m[1]!)
      expect(times).toHaveLength(4)
      for (const t of times) expect(Number(t.slice(3)) % 15).toBe(0)
      expect(chart).toMatch(/<text class="label" x="3" y="\d+">(1 run|\d+ runs)\/min<\/text>/)
      expect(chart).not.toContain('>1 runs/min<')
      expect(text(html)).toMatch(/(^| )(1 run|\d+ runs) finished in the last hour, \d+ failed( \(\d+(\.\d)?%\))?\./)
      expect(text(html)).not.toContain(' 1 runs finished')
      expect((chart.match(/<line class="grid"/g) ?? []).length).toBeGreaterThanOrEqual(5)
      // Failures are hatched (a pattern), not only red.
      expect(chart).toContain('<pattern id="hatch-failed"')
      expect(chart).toMatch(/<rect class="bad" x=/)
      expect(text(html)).toContain('succeeded failed (hatched)')
      const queue = text(/<tr data-queue="later">[\s\S]*?<\/tr>/.exec(html)![0])
      expect(queue).toMatch(/^later 1 0 next due in (9 min \d+ s|10 min 0 s)$/)
      expect(text(/<tr data-failed-run="[^"]+">[\s\S]*?<\/tr>/.exec(html)![0])).toMatch(/^flaky attempt 2 broke (just now|\d+ s ago)$/)
      expect(html).toContain(`data-failed-run="${failed.id}"`)
      expect(text(html)).toContain(`${engine.workerId} 0 / 3`)
    })
  })

  describe('tasks', () => {
    it('searches tasks by key, title, category or tag', async () => {
      const cards = (html: string) => [...html.matchAll(/<a class="task-card" href="\/admin\/task\/([^"]+)"/g)].map((m) => m[1])
      expect(cards(await session.page('/admin/task?q=invoice'))).toEqual(['invoice-export'])
      expect(cards(await session.page('/admin/task?q=BILLING'))).toEqual(['invoice-export'])
      expect(cards(await session.page('/admin/task?q=csv'))).toEqual(['invoice-export'])
      expect(cards(await session.page('/admin/task?q=nothing-like-this'))).toEqual([])
      expect(cards(await session.page('/admin/task')).sort()).toEqual(engine.list().map((t) => t.key).sort())
    })

    it('GET /remove asks; the POST removes the task and says so', async () => {
      const ask = await session.page('/admin/task/temp/remove')
      expect(text(ask)).toContain('Remove Temporary?')
      expect(engine.get('temp')).toBeDefined()
      const removed = await session.post('/admin/task/temp/remove', { _csrf: session.csrf })
      expect(removed.status).toBe(303)
      expect(removed.headers.get('location')).toBe('/admin/task?notice=task-removed&key=temp')
      expect(engine.get('temp')).toBeUndefined()
      const list = await session.page(removed.headers.get('location')!)
      expect(text(list)).toContain('Task "temp" removed from this server.')
      expect(list).not.toContain('href="/admin/task/temp"')
      expect((await session.get('/admin/task/temp')).status).toBe(404)
    })
  })

  describe('workers', () => {
    it('shows what each worker is running now', async () => {
      const run = await engine.enqueue('block', {})
      try {
        await waitForStatus(run.id, 'running')
        await vi.waitFor(async () => expect(text(await session.page('/admin/workers'))).toContain(run.id.slice(-8)), PATIENCE)
        const html = await session.page('/admin/workers')
        expect(html).toContain(`href="/admin/runs/${run.id}"`)
        expect(text(html)).toMatch(/worker .* 1 \/ 3/)
      } finally {
        // The run blocks a worker slot until cancelled.
        await engine.cancel(run.id)
        await waitForStatus(run.id, 'cancelled')
      }
    })
  })

  describe('schedules', () => {
    it('shows the next run in the schedule\'s own zone, to the second when the cron has seconds, UTC in the tooltip', async () => {
      const html = await session.page('/admin/schedules')
      const row = (id: string) => /<tr data-schedule="[^"]+">[\s\S]*?<\/tr>/g.exec(html.slice(html.indexOf(`<tr data-schedule="${id}"`)))![0]
      const ny = row('new-york')
      expect(ny).toMatch(/title="\d{4}-\d\d-\d\d 0[78]:00:00 UTC">\d{4}-\d\d-\d\d 03:00:00 E[SD]T<\/span>/)
      expect(ny).toMatch(/<time datetime="[^"]+T0[78]:00:00\.000Z"/)
      const utc = row('nightly')
      expect(utc).toMatch(/title="\d{4}-\d\d-\d\d 03:00 UTC">\d{4}-\d\d-\d\d 03:00 UTC<\/span>/)
      expect(html).not.toContain('data-refresh')
    })
  })

  describe('the start socket', () => {
    const ws = (path: string): string => `${server.url.replace('http', 'ws')}${path}`

    it('refuses a dangerous task without a confirmation (4003) and runs nothing', async () => {
      const refused = await socket(ws('/admin/task/danger/start?table=users'))
      expect(refused.code).toBe(4003)
      expect(refused.messages).toEqual([{ channel: 'task:danger', cmd: 'error', param: { code: 'ERR_CONFIRMATION_REQUIRED', message: 'task "danger" is dangerous (Deletes all the things): confirm with confirm=1, or start it from the admin form' } }])
      expect(drops).toEqual([])
    })

    it('runs a dangerous task for a scripted client that confirms with confirm=1', async () => {
      const confirmed = await socket(ws('/admin/task/danger/start?table=logs&confirm=1'))
      expect(confirmed.code).toBe(1000)
      // The one line is the run's final one.
      expect(confirmed.messages.map((m) => m.cmd)).toEqual(['started', 'output', 'complete', 'close-connection'])
      expect(confirmed.messages[2]).toMatchObject({ param: { result: { status: 'succeeded', data: 'dropped logs' } } })
      expect(drops.splice(0)).toEqual([{ table: 'logs' }])
    })

    it('redeems a ticket from the form once, with the posted arguments and label; a second use is refused', async () => {
      await session.page('/admin/task/danger')
      const page = await (await session.post('/admin/task/danger/start', { _csrf: session.csrf, table: 'sessions', 'te:confirm': 'yes', 'te:label': 'cleanup' })).text()
      const path = /data-socket="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&')
      // Arguments in the URL cannot change what was confirmed.
      const first = await socket(ws(`${path}&table=everything`))
      expect(first.messages.find((m) => m.cmd === 'complete')).toMatchObject({ param: { result: { status: 'succeeded', label: 'cleanup', data: 'dropped sessions' } } })
      expect(drops.splice(0)).toEqual([{ table: 'sessions' }])
      const again = await socket(ws(path))
      expect(again.code).toBe(4003)
      expect(again.messages[0]).toMatchObject({ cmd: 'error', param: { code: 'ERR_TICKET' } })
      const forged = await socket(ws('/admin/task/danger/start?ticket=00000000-0000-0000-0000-000000000000'))
      expect(forged.code).toBe(4003)
      expect(drops).toEqual([])
    })

    it('a ticket is for its task only', async () => {
      await session.page('/admin/task/greet')
      const page = await (await session.post('/admin/task/greet/start', { _csrf: session.csrf, name: 'ticket' })).text()
      const ticket = /ticket=([0-9a-f-]{36})/.exec(page)![1]!
      const other = await socket(ws(`/admin/task/danger/start?ticket=${ticket}`))
      expect(other.code).toBe(4003)
      expect(drops).toEqual([])
    })

    it('keeps the seed protocol for other tasks: no ticket or confirmation needed', async () => {
      const plain = await socket(ws('/admin/task/greet/start?name=script'))
      expect(plain.messages.map((m) => m.cmd)).toEqual(['started', 'output', 'complete', 'close-connection'])
      expect(plain.messages[2]).toMatchObject({ channel: 'task:greet', param: { result: { data: { greeting: 'Hello, script!' } } } })
    })
  })
})
