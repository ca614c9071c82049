/**
 * Admin pages in-process (`app.request`): errors rendered inside the layout (404, 403, 400, 500)
 * with the ways back, JSON only for clients asking for data; the run page's neutral cancel, its
 * clock and estimate, the log split by attempt, a parent's pool progress; a schedule's history
 * (tick or "Run now" and who); the task form's explanations, time field and number messages.
 */
import { describe, expect, it, vi } from 'vitest'
import { defineSchedule, defineTask, type Engine, type Run, type RunState } from '../../src/index.js'
import { createServer } from '../../src/server/index.js'
import { apiHarness, body, greet } from '../helpers/api.js'
import { PATIENCE } from '../helpers/browser.js'
import { runReaches } from '../helpers/runs.js'
import { text } from '../helpers/admin-session.js'

const { setup, engines, servers } = apiHarness()

const HOSTILE = '<img src=x onerror=alert(1)>'


const page = { headers: { accept: 'text/html' } }

describe('admin errors as pages', () => {
  it('an unknown run is a 404 page in the layout, with the way back to the runs and the overview; the id shows as text', async () => {
    const { call } = setup()
    const response = await call(`/admin/runs/${encodeURIComponent(HOSTILE)}`, page)
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
    const html = await response.text()
    expect(html).toMatch(/^<!DOCTYPE html>/)
    expect(html).toContain('<nav class="nav"')
    expect(html).not.toContain(HOSTILE)
    expect(text(html)).toContain(`404 Not found unknown run "${HOSTILE}"`)
    expect(html).toContain('href="/admin/runs" data-back="list"')
    expect(html).toContain('href="/admin" data-back="overview"')
    expect(html).toMatch(/<a href="\/admin\/runs" aria-current="page"/)
  })

  it('any unknown path under /admin is a 404 page (GET or POST); the overview is the way back', async () => {
    const { call } = setup()
    for (const [method, path] of [['GET', '/admin/no/such/page'], ['POST', '/admin/nothing-here'], ['GET', '/admin/task/nope']] as const) {
      const response = await call(path, { method, headers: { accept: 'text/html' } })
      expect(response.status, path).toBe(404)
      const html = await response.text()
      expect(html).toContain('id="error-page" data-status="404"')
      expect(html).toContain('data-back="overview"')
    }
    // With no Accept header at all (a plain client), still the page: JSON only when asked for.
    expect((await call('/admin/no/such/page')).headers.get('content-type')).toMatch(/^text\/html/)
  })

  it('answers JSON to a client that asks for it (Accept first, or ?format=), and for files of the UI', async () => {
    const { call } = setup()
    const json = await call('/admin/runs/nope', { headers: { accept: 'application/json, text/html' } })
    expect(json.status).toBe(404)
    expect(await body(json)).toEqual({ error: { code: 'ERR_NOT_FOUND', message: 'unknown run "nope"' } })
    expect((await call('/admin/runs/nope?format=json', page)).headers.get('content-type')).toMatch(/^application\/json/)
    expect((await call('/admin/no/such', { headers: { accept: 'application/json' } })).headers.get('content-type')).toMatch(/^application\/json/)
    const asset = await call('/admin/assets/client/nope.js', page)
    expect([asset.status, asset.headers.get('content-type')]).toEqual([404, 'application/json'])
    // The API keeps its JSON whatever the client accepts.
    expect((await call('/api/runs/nope', page)).headers.get('content-type')).toMatch(/^application\/json/)
  })

  it('a missing permission is a 403 page naming it', async () => {
    const { call } = setup({ auth: () => ({ id: 'viewer', permissions: ['tasks:read'] }) })
    const response = await call('/admin/runs', page)
    expect(response.status).toBe(403)
    const html = await response.text()
    expect(text(html)).toContain('403 Not allowed forbidden: "viewer" lacks the "runs:read" permission')
    expect(html).toContain('href="/admin/runs" data-back="list"')
  })

  it('a bad form is a 400 page with its message, and changes nothing', async () => {
    const { call, engine } = setup()
    const first = await call('/admin', page)
    const cookie = /te_csrf=[^;]+/.exec(first.headers.get('set-cookie') ?? '')![0]
    const token = /name="_csrf" value="([^"]+)"/.exec(await first.text())?.[1] ?? cookie.split('=')[1]!
    const response = await call('/admin/schedules/nightly-greet/toggle', {
      method: 'POST',
      headers: { accept: 'text/html', cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, enabled: HOSTILE }).toString(),
    })
    expect(response.status).toBe(400)
    const html = await response.text()
    expect(html).not.toContain(HOSTILE)
    expect(text(html)).toContain(`400 Bad request enabled: expected "true" or "false", got "${HOSTILE}" (string)`)
    expect(html).toContain('href="/admin/schedules" data-back="list"')
    expect((await engine.getSchedule('nightly-greet')).enabled).toBe(true)
  })

  it('a server error is a 500 page that tells nothing of its cause, which goes to onError', async () => {
    const reported: Error[] = []
    const { call, engine } = setup({ onError: (error) => reported.push(error) })
    vi.spyOn(engine, 'workers').mockRejectedValue(new Error('secret connection string'))
    const response = await call('/admin/workers', page)
    expect(response.status).toBe(500)
    const html = await response.text()
    expect(text(html)).toContain('500 Something went wrong internal server error')
    expect(html).not.toContain('secret')
    expect(html).toContain('href="/admin/workers" data-back="list"')
    expect(reported.map((e) => e.message)).toEqual(['secret connection string'])
  })
})

const steps = defineTask({
  key: 'steps',
  async run(ctx) {
    ctx.progress({ step: 1, steps: 4 })
    await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))
  },
})
const twice = defineTask({
  key: 'twice',
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 1 },
  run(ctx) {
    ctx.log.info(`try ${ctx.attempt}`)
    if (ctx.attempt === 1) throw new Error('first try breaks')
    ctx.log.warn('second try holds')
    return 'ok'
  },
})
const boom = defineTask({ key: 'boom', maxAttempts: 1, run: () => Promise.reject(new Error('real failure')) })
const leaf = defineTask({ key: 'leaf', run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))) })
const parent = defineTask({
  key: 'parent',
  async run(ctx) {
    const pool = ctx.pool({ label: 'leaves' })
    for (let i = 0; i < 3; i++) await pool.add('leaf', {})
    await pool.wait()
  },
})
const ticking = defineSchedule({ id: 'every-second', name: 'Every second', cron: '* * * * * *', task: greet, args: { name: 'tick' } })

/** An engine with the run page's tasks, started, and its server. */
async function started(): Promise<{ engine: Engine; call: (path: string) => Promise<string>; until: (id: string, status: RunState) => Promise<Run> }> {
  const { createEngine } = await import('../../src/index.js')
  const engine = createEngine({ tasks: [greet, steps, twice, boom, leaf, parent], schedules: [ticking], pollIntervalMs: 20 })
  engines.push(engine)
  const server = createServer(engine, { onError: () => undefined })
  servers.push(server)
  await engine.start({ concurrency: 10 })
  return {
    engine,
    call: async (path) => (await server.app.request(path, page)).text(),
    until: (id, status) => runReaches(engine, id, status, PATIENCE.timeout),
  }
}

describe('the run page', () => {
  it('a deliberate cancel reads neutrally, who and why, without a stack; a failure stays an error', async () => {
    const { engine, call, until } = await started()
    const run = await engine.enqueue(steps, {}, { createdBy: 'ada' })
    await vi.waitFor(async () => expect((await engine.getRun(run.id))?.progress).not.toBeNull(), PATIENCE)
    await engine.cancel(run.id, 'cancelled by ada')
    await until(run.id, 'cancelled')
    const html = await call(`/admin/runs/${run.id}`)
    expect(text(/<div class="notice notice-neutral cancel-card"[\s\S]*?<\/div>/.exec(html)![0])).toMatch(/^Cancelled by ada · asked at \d{4}-/)
    expect(html).not.toContain('class="error-card"')
    expect(html).not.toContain('Stack trace')
    expect(html).not.toContain('CancelledError')

    const other = await engine.enqueue(steps, {}, { delayMs: 3_600_000 })
    await engine.cancel(other.id, `wrong tenant ${HOSTILE}`)
    const otherHtml = await call(`/admin/runs/${other.id}`)
    expect(text(/<div class="notice notice-neutral cancel-card"[\s\S]*?<\/div>/.exec(otherHtml)![0])).toMatch(/^Cancelled ?: wrong tenant <img src=x onerror=alert\(1\)> · asked at/)
    expect(otherHtml).not.toContain(HOSTILE)

    // Who asked is kept with the run (the API's caller here), beside a reason of their own.
    const third = await engine.enqueue(steps, {}, { delayMs: 3_600_000 })
    await engine.cancel(third.id, 'duplicate order', { by: 'grace' })
    expect(text(/<div class="notice notice-neutral cancel-card"[\s\S]*?<\/div>/.exec(await call(`/admin/runs/${third.id}`))![0])).toMatch(/^Cancelled by grace ?: duplicate order · asked at/)

    const failed = await engine.enqueue(boom, {})
    await until(failed.id, 'failed')
    const failedHtml = await call(`/admin/runs/${failed.id}`)
    expect(failedHtml).toContain('class="error-card"')
    expect(failedHtml).not.toContain('cancel-card')
  })

  it('a running run shows how long it has run and, once its progress moved, about how long it has left', async () => {
    const { engine, call } = await started()
    const run = await engine.enqueue(steps, {})
    await vi.waitFor(async () => expect((await engine.getRun(run.id))?.progress).toEqual({ step: 1, steps: 4, percent: 25 }), PATIENCE)
    const html = await call(`/admin/runs/${run.id}`)
    const clock = /<p class="run-clock" id="run-clock" data-started-at="(\d+)" data-fraction="0.25"[\s\S]*?<\/p>/.exec(html)
    expect(clock).not.toBeNull()
    expect(text(clock![0])).toMatch(/^Running for [\d.]+ (ms|s) · about [\d.]+ (ms|s|min \d+ s) left$/)
    await engine.cancel(run.id)
  })

  it('splits the log by attempt: each line carries its attempt and level, each attempt\'s first line is marked', async () => {
    const { engine, call, until } = await started()
    const run = await engine.enqueue(twice, {})
    await until(run.id, 'succeeded')
    const html = await call(`/admin/runs/${run.id}`)
    const lines = [...html.matchAll(/<div class="(line[^"]*)" data-seq="\d+" data-level="(\w+)" data-attempt="(\d)"( data-attempt-label="[^"]+")?>/g)].map((m) => [m[1], m[2], m[3], m[4]?.trim() ?? ''])
    expect(lines).toEqual([
      ['line attempt-start', 'info', '1', 'data-attempt-label="attempt 1"'],
      ['line attempt-start', 'info', '2', 'data-attempt-label="attempt 2"'],
      ['line', 'warn', '2', ''],
      // The run's final line (derived from its times) ends the last attempt.
      ['line', 'info', '2', ''],
    ])
    expect(html).toMatch(/completed in \d+ ms/)
    // The filter is drawn hidden (every line shows without the script), with both attempts to pick.
    expect(html).toMatch(/<form class="log-filter" id="log-filter" data-for="run-log" hidden=""/)
    expect(html).toContain('<option value="2">attempt 2</option>')
  })

  it('a parent waiting on its pool shows the pool\'s progress, not "No progress was reported"', async () => {
    const { engine, call, until } = await started()
    const run = await engine.enqueue(parent, {})
    await until(run.id, 'waiting')
    const html = await call(`/admin/runs/${run.id}`)
    expect(text(/<div id="pool-progress">[\s\S]*?<\/div>\s*<\/div>\s*<\/div>/.exec(html)![0])).toMatch(/^Waiting on pool "leaves" (0% )+0\/3 done · 0 failed · 3 running · 0 pending/)
    expect(html).not.toContain('No progress')
    await engine.cancel(run.id)
  })
})

describe('a schedule\'s history', () => {
  it('shows a tick\'s fire time, and "Run now" with who pressed it', async () => {
    const { engine, call, until } = await started()
    const byHand = await engine.triggerSchedule('every-second', { createdBy: 'ada' })
    await until(byHand.id, 'succeeded')
    let tick: Run | undefined
    await vi.waitFor(async () => {
      tick = (await engine.scheduleRuns('every-second')).data.find((r) => r.fireKey !== null)
      expect(tick).toBeDefined()
    }, PATIENCE)
    const html = await call('/admin/schedules/every-second')
    const row = (id: string): string => text(new RegExp(`<tr data-run-id="${id}">[\\s\\S]*?</tr>`).exec(html)![0])
    const fired = tick!.fireKey!.slice(tick!.fireKey!.lastIndexOf('@') + 1)
    expect(row(tick!.id)).toContain(`tick ${fired.slice(0, 10)} ${fired.slice(11, 19)} UTC`)
    expect(row(byHand.id)).toContain('Run now by ada')
    expect(text(await call(`/admin/runs/${byHand.id}`))).toContain('every-second ("Run now" by ada)')
  })
})

describe('the task form', () => {
  const allFields = defineTask({
    key: 'fields',
    fields: [
      { key: 'count', type: 'int', min: 0, max: 100 },
      { key: 'at', type: 'time' },
    ],
    run: (ctx) => ({ count: ctx.args.count, at: ctx.args.at?.toISOString() }),
  })

  it('explains Run, Start and Enqueue on the page; the time field takes and shows ISO 8601 with a zone', async () => {
    const { createEngine } = await import('../../src/index.js')
    const engine = createEngine({ tasks: [allFields] })
    engines.push(engine)
    const server = createServer(engine, { onError: () => undefined })
    servers.push(server)
    const html = await (await server.app.request('/admin/task/fields?a.at=2026-12-06T18%3A00%3A00%2B01%3A00', page)).text()
    expect(text(/<dl class="run-modes"[\s\S]*?<\/dl>/.exec(html)![0])).toMatch(/^Run runs it now in this server process .* Start runs it now .* streams its log and progress .* Enqueue stores a durable run for a worker/)
    expect(html).toContain('aria-describedby="mode-enqueue"')
    const input = /<input type="text" id="f-at"[^>]*>/.exec(html)![0]
    expect(input).toContain('value="2026-12-06T18:00:00+01:00"')
    expect(input).toContain('placeholder="2026-12-06T18:00:00+01:00"')
    expect(text(html)).toContain('e.g. 2026-12-06T18:00:00+01:00 or 2026-12-06T17:00:00Z (ISO 8601; without a zone: UTC)')
    expect(html).not.toContain('datetime-local')
  })
})
