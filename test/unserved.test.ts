/**
 * Runs nobody can execute, on SQLite and PostgreSQL: a pending run of a task no live worker serves
 * on its queue fails with ERR_NO_WORKER after unservedAfterMs (a worker on another queue does
 * not count; no hooks run), a worker that comes in time saves it, and the admin pages, the API
 * and the engine say so until a worker serves the task.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine, type Run, type RunEvent } from '../src/index.js'
import { createServer } from '../src/server/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import type { Store } from '../src/store/types.js'
import { describePostgres } from './helpers/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-unserved-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

/** Short leases so maintenance passes every 300 ms and a worker counts as dead 600 ms after its last heartbeat. */
const FAST = { leaseMs: 600, heartbeatMs: 200, pollIntervalMs: 20, onError: () => undefined } as const
const WAIT = { timeout: 8000, interval: 50 }

/** Hooks of `render` that ran anywhere in this file: a run failed as unserved never ran, so none may. */
const hooks: string[] = []
const render = (unservedAfterMs?: number | false) =>
  defineTask({
    key: 'render',
    queue: 'gpu',
    ...(unservedAfterMs === undefined ? {} : { unservedAfterMs }),
    run: () => 'rendered',
    onFailure: () => void hooks.push('onFailure'),
    onSettled: () => void hooks.push('onSettled'),
  })
const other = defineTask({ key: 'other', run: () => 'other' })

/** The scenarios, over stores that share one place: `open` gives another store on it each call. */
function describeUnserved(open: () => () => Promise<Store>): void {
  const engines: Engine[] = []
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
    hooks.length = 0
  })
  const engine = async (store: () => Promise<Store>, options: Parameters<typeof createEngine>[0]): Promise<Engine> => {
    const made = createEngine({ ...FAST, ...options, store: await store() })
    engines.push(made)
    return made
  }

  it('fails a run whose task is served only on another queue with ERR_NO_WORKER after unservedAfterMs: no attempt, no hooks, one failed event', async () => {
    const place = open()
    // The maintaining engine knows render (unservedAfterMs 400) and serves it, but only on queue default: render runs wait on gpu.
    const maintainer = await engine(place, { tasks: [render(400), other] })
    const events: RunEvent[] = []
    maintainer.subscribe((event) => void events.push(event), { task: 'render' })
    await maintainer.start({ queues: ['default'] })
    const run = await maintainer.enqueue('render')
    expect(run).toMatchObject({ queue: 'gpu', status: 'pending' })
    await vi.waitFor(async () => expect((await maintainer.unserved()).map((u) => [u.task, u.queue, u.pending, u.lastSeen])).toEqual([['render', 'gpu', 1, null]]), WAIT)
    const waiting = await maintainer.unservedRun((await maintainer.getRun(run.id))!)
    expect(waiting).toEqual({ since: run.runAt, lastSeen: null, failsAt: new Date(run.runAt.getTime() + 400) })
    await vi.waitFor(async () => expect((await maintainer.getRun(run.id))?.status).toBe('failed'), WAIT)
    const failed = (await maintainer.getRun(run.id))!
    expect(failed).toMatchObject({ attempt: 0, attempts: [], startedAt: null, workerId: null, error: { code: 'ERR_NO_WORKER', name: 'NoWorkerError' } })
    expect(failed.error?.message).toBe('no live worker served task "render" on queue "gpu" for 400 ms (unservedAfterMs) while the run was due; none serving it was ever seen')
    // Not before it had been due, unserved, for the whole 400 ms.
    expect(failed.finishedAt!.getTime() - run.runAt.getTime()).toBeGreaterThanOrEqual(400)
    await vi.waitFor(() => expect(events.filter((e) => e.runId === run.id).map((e) => e.type)).toEqual(['created', 'failed']), WAIT)
    expect(hooks).toEqual([])
    // Read again within a second (the engine's cache of the check).
    await vi.waitFor(async () => expect(await maintainer.unserved()).toEqual([]), WAIT)
    // A run served on its queue is left alone: other runs on default, served by the worker.
    const served = await maintainer.enqueue('other')
    await vi.waitFor(async () => expect((await maintainer.getRun(served.id))?.status).toBe('succeeded'), WAIT)
  })

  it('a worker that comes in time saves the run; the engine option applies to tasks the maintainer does not know', async () => {
    const place = open()
    const maintainer = await engine(place, { tasks: [other], unservedAfterMs: 1500 })
    await maintainer.start()
    const enqueuer = await engine(place, { tasks: [render()] })
    const run = await enqueuer.enqueue('render')
    // The maintainer counts the wait from the run's runAt with the engine's option (it has no render task of its own).
    await vi.waitFor(async () => expect(await maintainer.unservedRun((await maintainer.getRun(run.id))!)).toEqual({ since: run.runAt, lastSeen: null, failsAt: new Date(run.runAt.getTime() + 1500) }), WAIT)
    const rescuer = await engine(place, { tasks: [render()] })
    await rescuer.start({ queues: ['gpu'] })
    await vi.waitFor(async () => expect((await maintainer.getRun(run.id))?.status).toBe('succeeded'), WAIT)
    expect(hooks).toEqual(['onSettled'])
  })

  it('a task opts out with unservedAfterMs: false, whatever the engine says', async () => {
    const place = open()
    const maintainer = await engine(place, { tasks: [render(false), other], unservedAfterMs: 200 })
    await maintainer.start({ queues: ['default'] })
    const run = await maintainer.enqueue('render')
    expect(await maintainer.unservedRun(run)).toMatchObject({ failsAt: null })
    // Maintenance passes every 300 ms: after several, the run still waits.
    const passes = maintainer.enqueue('other', {}, { delayMs: 650 })
    await vi.waitFor(async () => expect((await maintainer.getRun((await passes).id))?.status).toBe('succeeded'), WAIT)
    expect((await maintainer.getRun(run.id))?.status).toBe('pending')
  })

  it('the overview, the runs list, the run page and the API say so, with when a worker was last seen (also one that stopped), until a worker serves the task', async () => {
    const place = open()
    const store = await place()
    const viewer = createEngine({ ...FAST, tasks: [render(), other], store })
    engines.push(viewer)
    const server = createServer(viewer, { onError: () => undefined })
    const page = async (path: string): Promise<string> => {
      const response = await server.app.request(path)
      expect(response.status).toBe(200)
      return response.text()
    }
    // Due in a minute: pending all along, so the notice's coming and going is the workers' doing.
    const run = await viewer.enqueue('render', {}, { delayMs: 60_000 })
    const never = 'No live worker serves task <strong>render</strong> on queue <strong>gpu</strong> (last seen: never)'
    expect(await page('/admin')).toContain(never)
    expect(await page('/admin/runs')).toMatch(/id="unserved-notice"[\s\S]*data-unserved-task="render" data-unserved-queue="gpu"[\s\S]*>1 pending</)
    // A runs list of other runs does not say it.
    expect(await page('/admin/runs?status=succeeded')).not.toContain('unserved-notice')
    const runPage = await page(`/admin/runs/${run.id}`)
    expect(runPage).toContain('id="run-unserved"')
    expect(runPage).toContain(never)
    const api = (await (await server.app.request(`/api/runs/${run.id}`)).json()) as Run & { unserved: unknown }
    expect(api.unserved).toEqual({ since: run.runAt.toISOString(), lastSeen: null, failsAt: null })
    const stats = (await (await server.app.request('/api/stats')).json()) as { unserved: unknown[] }
    expect(stats.unserved).toEqual([{ task: 'render', queue: 'gpu', pending: 1, oldestRunAt: run.runAt.toISOString(), lastSeen: null }])

    // A worker that served render on every queue died 10 s ago (its row stays for a day): last seen then.
    const diedAt = Date.now() - 10_000
    await store.saveWorker({ id: 'gone', host: 'h', pid: 1, concurrency: 2, busy: 0, queues: null, tasks: ['render'], running: [], observer: false, startedAt: diedAt - 1000, heartbeatAt: diedAt })
    await vi.waitFor(async () => expect(await page('/admin')).toContain(`data-unserved-task="render"`), WAIT)
    await vi.waitFor(async () => expect(await page('/admin')).toContain(`last seen <time datetime="${new Date(diedAt).toISOString()}"`), WAIT)
    expect(((await (await server.app.request(`/api/runs/${run.id}`)).json()) as { unserved: { lastSeen: string } }).unserved.lastSeen).toBe(new Date(diedAt).toISOString())

    // A live worker serving render on gpu: the notices go.
    const worker = await engine(place, { tasks: [render()] })
    await worker.start({ queues: ['gpu'] })
    await vi.waitFor(async () => expect(await page('/admin')).not.toContain('data-unserved-task'), WAIT)
    expect(await page('/admin/runs')).not.toContain('unserved-notice')
    expect(await page(`/admin/runs/${run.id}`)).not.toContain('run-unserved')
    expect(((await (await server.app.request(`/api/runs/${run.id}`)).json()) as { unserved: unknown }).unserved).toBeNull()
    expect((await viewer.getRun(run.id))?.status).toBe('pending')

    // It stops gracefully (its row goes): the notices are back, with its last heartbeat, not the dead one's.
    const stoppedAt = Date.now()
    await worker.stop()
    await vi.waitFor(async () => expect(await page('/admin')).toContain('data-unserved-task="render"'), WAIT)
    const lastSeen = ((await (await server.app.request(`/api/runs/${run.id}`)).json()) as { unserved: { lastSeen: string } }).unserved.lastSeen
    expect(Date.parse(lastSeen)).toBeGreaterThan(stoppedAt - 1000)
  })
}

describe('runs nobody can execute (sqlite)', () => {
  describeUnserved(() => {
    const path = join(dir, `unserved-${++files}.db`)
    return async () => sqliteStore(path)
  })
})

await describePostgres('runs nobody can execute (postgres)', (kit) => {
  describeUnserved(() => {
    const schema = kit.newSchema()
    return async () => kit.open({ schema })
  })
})
