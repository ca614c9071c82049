/**
 * History on the admin pages over HTTP (in-process): the overview's and a task page's ranges
 * (links, the data they draw from rollups), a bad range named, counts grouped (the runs list's
 * too), idle queues listed, the latest failures by the time they failed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { createServer, type TaskEngineServer } from '../../src/server/index.js'

const MIN = 60_000
const DAY = 86_400_000
const flaky = defineTask({
  key: 'flaky',
  title: 'Flaky',
  queue: 'work',
  maxAttempts: 1,
  fields: [{ key: 'fail', type: 'bool', default: false }],
  run(ctx) {
    if (ctx.args.fail) throw new Error(`failed <b>on purpose</b>`)
    return 'ok'
  },
})

const engines: Engine[] = []
const servers: TaskEngineServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) s.close()
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

/** An engine on a clock the test moves, its server, and `page` to GET a path's text. */
function setup() {
  const clock = { now: Date.now() }
  const engine = createEngine({ tasks: [flaky], queues: { reports: { concurrency: 1 } }, clock: () => clock.now, pollIntervalMs: 10 })
  engines.push(engine)
  const server = createServer(engine, { onError: () => undefined })
  servers.push(server)
  const get = (path: string, headers: Record<string, string> = {}) => server.app.request(path, { headers })
  const page = async (path: string): Promise<string> => {
    const response = await get(path)
    const text = await response.text()
    expect(response.status, text.slice(0, 300)).toBe(200)
    return text
  }
  /** Runs `fails` failing and `passes` passing runs to the end. */
  const finish = async (passes: number, fails: number): Promise<string[]> => {
    const finished = async (): Promise<number> => (await engine.listRuns({ status: ['succeeded', 'failed'], pageSize: 1 })).total
    const before = await finished()
    const runs = await engine.enqueueMany(flaky, [...Array.from({ length: passes }, () => ({ fail: false })), ...Array.from({ length: fails }, () => ({ fail: true }))])
    await vi.waitFor(async () => expect(await finished()).toBe(before + runs.length), { timeout: 20_000, interval: 20 })
    return runs.map((r) => r.id)
  }
  return { clock, engine, get, page, finish }
}

describe('history on the admin pages', () => {
  it('switches the overview between 1 h, 24 h and 7 d with links, drawing older days from rollups, and names a bad range', async () => {
    const { clock, engine, get, page, finish } = setup()
    // Three days ago: 3 runs, 1 failed; folded, then the runs themselves are deleted.
    const today = clock.now
    clock.now = today - 3 * DAY
    await engine.start()
    await finish(2, 1)
    const store = await engine.store()
    await store.foldRollups(clock.now + 2 * MIN, clock.now - DAY, 3_600_000)
    expect(await store.purgeRuns(clock.now + 2 * MIN, 100)).toHaveLength(3)
    clock.now = today
    await finish(1, 0)

    const hour = await page('/admin')
    expect(hour).toMatch(/<a href="\/admin\?range=1h" aria-current="true" data-range="1h">1 h<\/a>/)
    expect(hour).toContain('<a href="/admin?range=24h" data-range="24h">24 h</a>')
    expect(hour).toContain('1 run finished in the last hour, 0 failed (0%).')
    const week = await page('/admin?range=7d')
    expect(week).toContain('<h2>Last 7 days</h2>')
    expect(week).toMatch(/aria-current="true" data-range="7d"/)
    expect(week).toContain('4 runs finished in the last 7 days, 1 failed (25%).')
    expect(week).toContain('Runs finished per 2 h')
    expect(await page('/admin?range=24h')).toContain('1 run finished in the last 24 hours')
    const data = (await (await get('/admin?range=7d&format=json')).json()) as { range: string; throughput: unknown[]; history: { failed: number } }
    expect(data.range).toBe('7d')
    expect(data.throughput).toHaveLength(84)
    expect(data.history.failed).toBe(1)

    // A browser gets the error inside the admin layout; a client asking for JSON gets JSON.
    const shown = await get('/admin?range=2y')
    expect(shown.status).toBe(400)
    expect(await shown.text()).toContain('range: expected one of 1h, 24h, 7d, got &quot;2y&quot; (string)')
    const bad = await get('/admin?range=2y', { accept: 'application/json' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: { code: 'ERR_VALIDATION', message: 'range: expected one of 1h, 24h, 7d, got "2y" (string)' } })
  })

  it('groups counts, lists idle queues, and lists failures by the time they failed, escaped', async () => {
    const { clock, engine, page, finish } = setup()
    // The first run enqueued fails last: it is due a minute later.
    const late = await engine.enqueue(flaky, { fail: true }, { delayMs: MIN })
    await engine.start()
    const early = (await finish(1_200, 1)).at(-1)
    clock.now += MIN + 1000
    await vi.waitFor(async () => expect((await engine.getRun(late.id))?.status).toBe('failed'), { timeout: 20_000, interval: 20 })
    const html = await page('/admin')
    expect(html).toMatch(/data-stat="succeeded" title="1,200 succeeded">1,200</)
    expect(html).toContain('1,202 runs finished in the last hour, 2 failed (0.2%).')
    expect(html).toMatch(/<tr data-queue="reports" class="idle">/)
    expect(html).toMatch(/<tr data-queue="work" class="idle">/)
    const failures = [...html.matchAll(/data-failed-run="([^"]+)"/g)].map((m) => m[1])
    expect(failures).toEqual([late.id, early])
    expect(html).toContain('failed &lt;b&gt;on purpose&lt;/b&gt;')
    expect(html).not.toContain('<b>on purpose</b>')
    // The runs list groups its counts too.
    const runs = await page('/admin/runs')
    expect(runs).toContain('<p class="sub">1,202 matching</p>')
    expect(runs).toMatch(/1<!-- -->–<!-- -->25<!-- --> of <!-- -->1,202|1–25 of 1,202/)
  })

  it('answers /api/history for a range and a task, as JSON or CSV, and names a bad range or parameter', async () => {
    const { engine, get, finish } = setup()
    await engine.start()
    await finish(3, 1)
    const history = (await (await get('/api/history?range=24h&task=flaky')).json()) as { range: string; succeeded: number; failed: number; failureRate: number; buckets: unknown[]; duration: { p50: number } }
    expect(history).toMatchObject({ range: '24h', succeeded: 3, failed: 1, failureRate: 0.25 })
    expect(history.buckets).toHaveLength(96)
    expect(history.duration.p50).toBeGreaterThanOrEqual(0)
    expect(((await (await get('/api/history?task=other')).json()) as { succeeded: number; range: string })).toMatchObject({ range: '1h', succeeded: 0 })
    const csv = await (await get('/api/history?format=csv')).text()
    expect(csv.split('\n')[0]).toBe('start,succeeded,failed,cancelled')
    const bad = await get('/api/history?range=1y')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('range: expected one of 1h, 24h, 7d, got "1y" (string)')
    expect((await get('/api/history?since=yesterday')).status).toBe(400)
  })

  it('shows a task\'s throughput, failure rate and duration and wait percentiles for the range', async () => {
    const { engine, get, page, finish } = setup()
    await engine.start()
    await finish(3, 1)
    const html = await page('/admin/task/flaky?range=24h')
    expect(html).toContain('<h2>Last 24 hours</h2>')
    expect(html).toMatch(/<a href="\/admin\/task\/flaky\?range=7d" data-range="7d">7 d<\/a>/)
    expect(html).toMatch(/data-metric="finished"[^>]*>4</)
    expect(html).toMatch(/data-metric="failure-rate"[^>]*>25%</)
    expect(html).toMatch(/data-metric="duration"><span class="percentiles">p50 <b>\d+ ms<\/b> · p95 <b>\d+ ms<\/b> · max <b>\d+ ms<\/b>/)
    expect(html).toMatch(/data-metric="wait"><span class="percentiles">p50 <b>/)
    const bad = await get('/admin/task/flaky?range=week', { accept: 'application/json' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('range: expected one of 1h, 24h, 7d, got "week" (string)')
  })
})
