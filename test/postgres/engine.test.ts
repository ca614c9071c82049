/**
 * Engines on many "machines" sharing one PostgreSQL schema: each engine has its own store (its own
 * pool and LISTEN connections), as separate processes would. What only a shared server gives:
 * transactional enqueue, NOTIFY wake-ups, cancels pushed to the worker running the run, live
 * events from every worker at every server, one maintenance leader at a time, and surviving
 * connection loss.
 */
import { randomUUID } from 'node:crypto'
import { createServer as createTcpServer, connect, type AddressInfo, type Socket } from 'node:net'
import { afterEach, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { createEngine, defineTask, type Engine, type EngineOptions, type WorkerInfo } from '../../src/index.js'
import { serve, type RunningServer } from '../../src/server/index.js'
import type { PostgresStore } from '../../src/store/postgres/index.js'
import { describePostgres } from '../helpers/postgres.js'
import { runReaches } from '../helpers/runs.js'
import { Watched } from '../helpers/watched.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

let executions = new Map<string, number>()
const work = defineTask({
  key: 'work',
  fields: [
    { key: 'ms', type: 'int', default: 0 },
    { key: 'steps', type: 'int', default: 0 },
  ],
  async run(ctx) {
    executions.set(ctx.runId, (executions.get(ctx.runId) ?? 0) + 1)
    for (let i = 1; i <= ctx.args.steps; i++) {
      ctx.log(`step ${i}`)
      ctx.progress({ step: i, steps: ctx.args.steps })
      await sleep(20)
    }
    if (ctx.args.ms > 0) await sleep(ctx.args.ms)
    return { pid: process.pid }
  },
})
let aborted = new Watched<{ runId: string; at: number; reason: string }[]>([])
const blocking = defineTask({
  key: 'blocking',
  run: (ctx) =>
    new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => {
        aborted.set([...aborted.value, { runId: ctx.runId, at: Date.now(), reason: (ctx.signal.reason as Error).message }])
        reject(ctx.signal.reason as Error)
      }),
    ),
})

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  executions = new Map()
  aborted = new Watched([])
})

await describePostgres('engines sharing a PostgreSQL schema', ({ admin, newSchema, open, url }) => {
  /** An engine with a store of its own on `schema`, closed after the test. */
  function machine(schema: string, options: EngineOptions & { storeOptions?: Parameters<typeof open>[0] } = {}): { engine: Engine; store: PostgresStore } {
    const { storeOptions, ...engineOptions } = options
    const store = open({ schema, ...storeOptions })
    const engine = createEngine({ tasks: [work, blocking], store, pollIntervalMs: 50, onError: () => undefined, ...engineOptions })
    cleanups.push(() => engine.close({ graceMs: 0 }))
    return { engine, store }
  }

  it('enqueues inside the caller\'s transaction: a rollback leaves no run; a commit wakes an idle worker at once, without polling', async () => {
    const schema = newSchema()
    const app = machine(schema)
    // A worker that would poll only once a minute: it must be woken by NOTIFY.
    const worker = machine(schema, { pollIntervalMs: 60_000 })
    await worker.engine.start({ concurrency: 2 })
    await worker.store.listening()

    const client = await admin.connect()
    try {
      await client.query('BEGIN')
      const doomed = await app.engine.enqueue(work, { ms: 0 }, { client, label: 'rolled back' })
      expect(doomed.status).toBe('pending')
      await client.query('ROLLBACK')
      expect(await app.engine.getRun(doomed.id)).toBeUndefined()
      expect((await app.engine.listRuns()).total).toBe(0)

      await client.query('BEGIN')
      const kept = await app.engine.enqueue(work, { ms: 0 }, { client, label: 'committed' })
      // Not visible to the worker (or anyone) before COMMIT. A run enqueued after it, outside the
      // transaction, wakes the worker, which claims in claim order: it would take the earlier
      // run first, were that one visible. It takes only the later one.
      const later = await app.engine.enqueue(work, { ms: 0 }, { label: 'after, committed' })
      expect((await runReaches(worker.engine, later.id, 'succeeded', 3000)).attempts[0]!.workerId).toBe(worker.engine.workerId)
      expect(executions.has(kept.id)).toBe(false)
      expect(await worker.engine.getRun(kept.id)).toBeUndefined()
      await client.query('COMMIT')
      const done = await runReaches(worker.engine, kept.id, 'succeeded', 3000)
      expect(done.attempts[0]!.workerId).toBe(worker.engine.workerId)
    } finally {
      client.release()
    }
    await expect(app.engine.enqueue(work, {}, { client: { nope: true } })).rejects.toThrow(/client: expected a database client with a query\(\) method/)
  })

  it('pushes a cancel to the machine running the run, long before its next heartbeat', async () => {
    const schema = newSchema()
    // Heartbeats every 30 s: a cancel noticed only there would time this test out.
    const worker = machine(schema, { leaseMs: 90_000, heartbeatMs: 30_000 })
    const operator = machine(schema)
    await worker.engine.start()
    const run = await operator.engine.enqueue(blocking, {})
    await runReaches(operator.engine, run.id, 'running')
    const asked = Date.now()
    const cancelled = await operator.engine.cancel(run.id, 'operator says stop')
    expect(cancelled.cancelRequestedAt).not.toBeNull()
    const [heard, ...more] = await aborted.until((list) => list.length > 0, 'the handler to be aborted')
    expect([heard!.runId, more]).toEqual([run.id, []])
    expect(heard!.reason).toMatch(/operator says stop/)
    expect(heard!.at - asked).toBeLessThan(5000)
    const final = await runReaches(operator.engine, run.id, 'cancelled')
    expect(final.attempts.map((a) => a.outcome)).toEqual(['cancelled'])
  })

  it('delivers live events from workers on other machines to a server\'s WebSocket subscribers, and lists every process', async () => {
    const schema = newSchema()
    const server = machine(schema)
    const running: RunningServer = await serve(server.engine, { port: 0, onError: () => undefined })
    cleanups.push(() => running.close())
    const workerA = machine(schema)
    const workerB = machine(schema)
    await workerA.engine.start({ concurrency: 2 })
    await workerB.engine.start({ concurrency: 2 })

    const socket = new WebSocket(`${running.url.replace('http', 'ws')}/api/stream`)
    cleanups.push(() => socket.terminate())
    const messages: { type: string; event?: { type: string; runId: string; remote?: boolean; entry?: { message: string } } }[] = []
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as (typeof messages)[number]))
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    socket.send(JSON.stringify({ type: 'subscribe', id: 'all' }))
    await vi.waitFor(() => expect(messages.some((m) => m.type === 'subscribed')).toBe(true))

    // The workers learn of the server at once (a signal), not at their next heartbeat.
    const runs = await server.engine.enqueueMany(work, Array.from({ length: 6 }, () => ({ steps: 3 })))
    const ids = new Set(runs.map((r) => r.id))
    await vi.waitFor(
      () => {
        const settled = messages.filter((m) => m.event?.type === 'succeeded' && ids.has(m.event.runId))
        expect(settled).toHaveLength(6)
      },
      { timeout: 10_000, interval: 20 },
    )
    const events = messages.filter((m) => m.type === 'event' && ids.has(m.event!.runId)).map((m) => m.event!)
    for (const run of runs) {
      // Progress travels as the latest value of each batch; every log line and state change arrives, in order.
      const types = events.filter((e) => e.runId === run.id && e.type !== 'created' && e.type !== 'progress').map((e) => e.type)
      expect(types).toEqual(['started', 'log', 'log', 'log', 'succeeded'])
      const progress = events.filter((e) => e.runId === run.id && e.type === 'progress') as unknown as { progress: { step: number } }[]
      expect(progress.at(-1)?.progress.step).toBe(3)
      expect(events.filter((e) => e.runId === run.id && e.type === 'log').map((e) => e.entry!.message)).toEqual(['step 1', 'step 2', 'step 3'])
    }
    expect(events.filter((e) => e.type === 'started').every((e) => e.remote === true)).toBe(true)
    // Both workers took part.
    const finished = await Promise.all(runs.map((r) => server.engine.getRun(r.id)))
    expect(new Set(finished.map((r) => r!.attempts[0]!.workerId)).size).toBe(2)

    const listed = (await (await fetch(`${running.url}/api/workers`)).json()) as WorkerInfo[]
    const byId = new Map(listed.map((w) => [w.id, w]))
    expect(byId.get(workerA.engine.workerId!)).toMatchObject({ concurrency: 2, pid: process.pid })
    expect(byId.get(workerB.engine.workerId!)).toMatchObject({ concurrency: 2 })
    expect(listed.filter((w) => w.concurrency === 0)).toMatchObject([{ observer: true }])
    expect(listed).toHaveLength(3)
  })

  it('runs maintenance on one elected machine at a time; another takes over when it goes', async () => {
    const schema = newSchema()
    const stores = [open({ schema }), open({ schema }), open({ schema })]
    cleanups.push(() => Promise.all(stores.map((s) => s.close())))
    await Promise.all(stores.map((s) => s.ready()))
    const first = await Promise.all(stores.map((s) => s.lead()))
    expect(first.filter(Boolean)).toHaveLength(1)
    // Asking again changes nothing.
    expect(await Promise.all(stores.map((s) => s.lead()))).toEqual(first)
    const leader = first.indexOf(true)
    await stores[leader]!.close()
    const rest = stores.filter((_, i) => i !== leader)
    // The server lets go of the lock when it has ended the closed store's session, which on a
    // loaded machine may come a moment after close() resolved: one of the others takes over then.
    await vi.waitFor(async () => expect((await Promise.all(rest.map((s) => s.lead()))).filter(Boolean)).toHaveLength(1), { timeout: 10_000, interval: 50 })

    // End to end: the machine that leads rescues a dead worker's run; when it leaves, another does.
    const schema2 = newSchema()
    const a = machine(schema2, { leaseMs: 600 })
    const b = machine(schema2, { leaseMs: 600 })
    await a.engine.start({ queues: ['elsewhere'] })
    await b.engine.start({ queues: ['elsewhere'] })
    expect([await a.store.lead(), await b.store.lead()].filter(Boolean)).toHaveLength(1)
    const leaderEngine = (await a.store.lead()) ? a : b
    const other = leaderEngine === a ? b : a
    await leaderEngine.engine.close({ graceMs: 0 })

    // A worker that claims a run, starts it and dies: nobody renews its lease.
    const dead = open({ schema: schema2 })
    cleanups.push(() => dead.close())
    const run = await other.engine.enqueue(work, {}, { queue: 'default' })
    const now = Date.now()
    const [claimed] = await dead.claimRuns({ workerId: 'dead-worker', limit: 1, now, leaseUntil: now + 300, tasks: ['work'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() })
    expect(claimed?.id).toBe(run.id)
    await dead.writeBatch({ logs: [], progress: [], waits: [], completions: [], starts: [{ id: run.id, token: claimed!.token, startedAt: now }] })
    const rescued = await runReaches(other.engine, run.id, 'pending', 5000)
    expect(rescued.attempts).toMatchObject([{ outcome: 'retry', workerId: 'dead-worker', error: { code: 'ERR_WORKER_LOST' } }])
    expect(await other.store.lead()).toBe(true)
  })

  it('carries on through lost connections: reports them, reconnects, and loses no run', async () => {
    const schema = newSchema()
    const application = `te_kill_${randomUUID().slice(0, 8)}`
    const errors: Error[] = []
    const connectionString = `${url}${url.includes('?') ? '&' : '?'}application_name=${application}`
    const report = (e: Error): void => void errors.push(e)
    const { engine } = machine(schema, { storeOptions: { connectionString, onError: report }, onError: report })
    await engine.start({ concurrency: 8 })
    const runs = await engine.enqueueMany(work, Array.from({ length: 400 }, () => ({ ms: 5 })))

    const killAll = async (): Promise<number> => {
      const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [application])
      return rowCount ?? 0
    }
    await vi.waitFor(async () => expect((await engine.listRuns({ status: 'succeeded', pageSize: 1 })).total).toBeGreaterThan(50), { timeout: 10_000 })
    expect(await killAll()).toBeGreaterThan(0)
    // Once the store has opened connections again, drop them a second time.
    await vi.waitFor(async () => expect(await killAll()).toBeGreaterThan(0), { timeout: 10_000, interval: 50 })

    await vi.waitFor(async () => expect((await engine.listRuns({ status: 'succeeded', pageSize: 1 })).total).toBe(400), { timeout: 20_000, interval: 100 })
    const stats = await engine.stats()
    expect(stats.statuses).toMatchObject({ running: 0, pending: 0, failed: 0, succeeded: 400 })
    expect(runs.every((r) => (executions.get(r.id) ?? 0) >= 1)).toBe(true)
    // The losses were reported, not swallowed.
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.map((e) => e.message).join('\n')).toMatch(/terminat|connection/i)
    // The LISTEN connection came back: a new run wakes the worker without polling.
    const late = await engine.enqueue(work, {})
    await runReaches(engine, late.id, 'succeeded', 5000)
  })

  it('rides out a database outage (every connection dropped, new ones refused for a while, as in a restart) and loses no run', { timeout: 60_000 }, async () => {
    // The engine reaches PostgreSQL through a TCP proxy of the test's own, which can go down and
    // come back on the same port: what a server restart looks like from the client.
    const target = new URL(url)
    const sockets = new Set<Socket>()
    const proxy = createTcpServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => undefined)
      }
      client.pipe(upstream).pipe(client)
    })
    const listen = (port: number): Promise<number> =>
      new Promise((resolve) => proxy.listen(port, '127.0.0.1', () => resolve((proxy.address() as AddressInfo).port)))
    const port = await listen(0)
    const viaProxy = new URL(url)
    viaProxy.hostname = '127.0.0.1'
    viaProxy.port = String(port)
    // The parts of the engine that talk to the database, by the errors they report.
    const PARTS = { claims: /^claiming runs failed/, writes: /^write to the store failed/, heartbeat: /^heartbeat failed/, 'wake-ups': /^LISTEN "[a-z0-9_]+" failed/ }
    /** The parts that have been refused a new connection. */
    const refused = new Watched(new Set<string>())
    const report = (e: Error): void => {
      if (!/ECONNREFUSED/.test(e.message)) return
      for (const [part, pattern] of Object.entries(PARTS)) if (pattern.test(e.message)) refused.set(new Set([...refused.value, part]))
    }
    // A short lease, so runs claimed in a commit the worker never heard of come back quickly.
    const { engine } = machine(newSchema(), { leaseMs: 3000, storeOptions: { connectionString: viaProxy.toString(), onError: report }, onError: report })
    try {
      await engine.start({ concurrency: 8 })
      const runs = await engine.enqueueMany(work, Array.from({ length: 300 }, () => ({ ms: 5 })))
      await vi.waitFor(async () => expect((await engine.listRuns({ status: 'succeeded', pageSize: 1 })).total).toBeGreaterThan(50), { timeout: 10_000 })

      // Down: stop accepting, drop every open connection, refuse new ones until the claims, the
      // writes, the heartbeat and the wake-up listener have each been refused (about a heartbeat).
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      await refused.until((parts) => parts.size === Object.keys(PARTS).length, 'every part of the engine to be refused a connection', 20_000)
      await listen(port)

      await vi.waitFor(async () => expect((await engine.listRuns({ status: 'succeeded', pageSize: 1 })).total).toBe(300), { timeout: 30_000, interval: 100 })
      expect((await engine.stats()).statuses).toMatchObject({ running: 0, pending: 0, failed: 0, succeeded: 300 })
      expect(runs.every((r) => (executions.get(r.id) ?? 0) >= 1)).toBe(true)
      // A claim whose commit the worker never heard of (the connection dropped on the way) leaves
      // runs it does not know it holds; their lease runs out and they come back unspent: executed
      // once, in one attempt.
      const done = await Promise.all(runs.map((r) => engine.getRun(r.id)))
      for (const run of done) if (run!.attempts.length > 1) expect([executions.get(run!.id), run!.attempts.map((a) => a.outcome).at(-1)]).toEqual([1, 'succeeded'])
      // Listening again: a new run wakes the worker at once.
      const late = await engine.enqueue(work, {})
      await runReaches(engine, late.id, 'succeeded', 5000)
    } finally {
      // The engine first: the proxy's close waits for every connection through it to end.
      await engine.close({ graceMs: 0 })
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })
})
