/**
 * Durable runs end to end, the same suite for every store: enqueue, workers, the lifecycle,
 * control, pools. Real stores, real timers kept short. Run by test/sqlite/durable.test.ts and
 * test/postgres/durable.test.ts.
 */
import { availableParallelism } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CancelledError,
  ConflictError,
  LeaseLostError,
  NotFoundError,
  RetryLaterError,
  UnrecoverableError,
  ValidationError,
  createEngine,
  defineTask,
  type Engine,
  type EngineOptions,
  type Run,
  type RunEvent,
} from '../src/index.js'
import { LOCAL_TTL_MS } from '../src/engine/durable/local-buffer.js'
import { rescueExpiredRuns } from '../src/engine/durable/rescuer.js'
import { TaskRegistry } from '../src/task/registry.js'
import type { Store, WriteBatch } from '../src/store/types.js'
import { runReaches } from './helpers/runs.js'

/** A kind of store the suite runs against. */
export interface DurableBackend {
  /** A store on a fresh database of its own. */
  store(): Store
  /** A fresh database; each call of the returned function opens another store on it (another "process"). */
  database(): () => Store
}

/**
 * A store an engine can be cut off from, as if its process died: once severed, its writes land
 * nowhere (reported fenced), its leases are reported lost, it claims and maintains nothing, and
 * its connections close. What the others see in the store is what a dead process leaves behind.
 */
export function severable(store: Store): { store: Store; sever(): void } {
  let severed = false
  const dead: Partial<Record<keyof Store, (...args: never[]) => unknown>> = {
    writeBatch: async (batch: WriteBatch) => ({
      fenced: [...new Set([...batch.progress, ...batch.waits, ...(batch.holds ?? []), ...(batch.starts ?? []), ...batch.completions, ...(batch.releases ?? [])].map((w) => w.id))],
      ...(batch.claim === undefined ? {} : { claimed: [] }),
    }),
    claimRuns: async () => [],
    renewLeases: async (_worker: string, leases: readonly { id: string }[]) => ({ cancelRequested: [], lost: leases.map((l) => l.id) }),
    putArtifact: async () => false,
    expiredLeases: async () => [],
    rescueRuns: async () => [],
    expireOverdue: async () => [],
    saveWorker: async () => undefined,
    removeWorker: async () => undefined,
    lead: async () => false,
    signal: async () => undefined,
  }
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      if (severed && typeof key === 'string' && key in dead) return dead[key as keyof Store]
      const value: unknown = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
  return {
    store: proxy,
    sever: () => {
      severed = true
      // Its connections go with it (on PostgreSQL, with them the maintenance leadership).
      void store.close()
    },
  }
}

/** A store watched by {@link observed}. */
export interface ObservedStore {
  readonly store: Store
  /** Calls so far, by method. */
  readonly calls: Map<string, number>
  /** Every batch written. */
  readonly batches: WriteBatch[]
  /** The leases of every heartbeat. */
  readonly renewals: (readonly { id: string }[])[]
  /** Resolves at the `n`th call of `method` from now (made, not yet answered); rejects after `timeoutMs`. */
  more(method: string, n: number, timeoutMs?: number): Promise<void>
}

/**
 * A store that counts the calls of each method, keeps the batches written and the leases renewed
 * (to observe a worker: its polls, heartbeats and writes), and tells waiters of the calls as they
 * are made.
 */
export function observed(store: Store): ObservedStore {
  const calls = new Map<string, number>()
  const batches: WriteBatch[] = []
  const renewals: (readonly { id: string }[])[] = []
  const waiters = new Set<{ method: string; count: number; resolve(): void }>()
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function' || typeof key !== 'string') return value
      return (...args: unknown[]) => {
        const count = (calls.get(key) ?? 0) + 1
        calls.set(key, count)
        if (key === 'writeBatch') batches.push(args[0] as WriteBatch)
        if (key === 'renewLeases') renewals.push(args[1] as { id: string }[])
        for (const waiter of waiters) if (waiter.method === key && count >= waiter.count) waiter.resolve()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  const more = (method: string, n: number, timeoutMs = 5000): Promise<void> => {
    const count = (calls.get(method) ?? 0) + n
    const timedOut = new Error(`${method} was not called ${n} more time(s) within ${timeoutMs} ms`)
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter)
        reject(timedOut)
      }, timeoutMs)
      const waiter = {
        method,
        count,
        resolve: () => {
          waiters.delete(waiter)
          clearTimeout(timer)
          resolve()
        },
      }
      waiters.add(waiter)
    })
  }
  return { store: proxy, calls, batches, renewals, more }
}

/** Resolves once `watched` has seen `n` more calls of `method` than now. */
function moreCalls(watched: ObservedStore, method: string, n: number): Promise<void> {
  return watched.more(method, n)
}

export function describeDurable(backend: DurableBackend): void {
  const engines: Engine[] = []
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
  })

  function engineWith(options: EngineOptions = {}): Engine {
    const engine = createEngine({ pollIntervalMs: 20, leaseMs: 3000, store: options.store ?? backend.store(), ...options })
    engines.push(engine)
    return engine
  }

  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

  const echo = defineTask({
    key: 'echo',
    fields: [
      { key: 'text', type: 'string', required: true },
      { key: 'times', type: 'int', default: 1 },
      { key: 'at', type: 'time' },
    ],
    async run(ctx) {
      ctx.log(`echo ${ctx.args.text}`)
      ctx.progress({ step: 1, steps: 1, message: 'done' })
      await Promise.resolve()
      return { text: ctx.args.text.repeat(ctx.args.times), at: ctx.args.at?.toISOString() ?? null, attempt: ctx.attempt }
    },
  })

  /** A task whose runs wait for their signal, recording which started and which were aborted (and telling `onAbort`). */
  const blocking = (onAbort: (runId: string) => void = () => undefined) => {
    const started: string[] = []
    const aborted: string[] = []
    const task = defineTask({
      key: 'blocking',
      run: (ctx) =>
        new Promise((_, reject) => {
          started.push(ctx.runId)
          ctx.signal.addEventListener('abort', () => {
            aborted.push(ctx.runId)
            onAbort(ctx.runId)
            reject(ctx.signal.reason as Error)
          })
        }),
    })
    return { task, started, aborted }
  }

  describe('enqueue', () => {
    it('stores a validated run and a worker executes it: data, logs, progress, attempts', async () => {
      const engine = engineWith({ tasks: [echo] })
      const run = await engine.enqueue(echo, { text: 'hi', times: '2', at: '2026-01-02T03:04:05Z' }, { label: 'greeting', tags: ['t1'], createdBy: 'ada' })
      expect(run).toMatchObject({ task: 'echo', status: 'pending', label: 'greeting', queue: 'default', args: { text: 'hi', times: 2, at: '2026-01-02T03:04:05.000Z' }, tags: ['t1'], createdBy: 'ada', category: 'user', maxAttempts: 3 })
      await engine.start({ concurrency: 2 })
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done).toMatchObject({ data: { text: 'hihi', at: '2026-01-02T03:04:05.000Z', attempt: 1 }, attempt: 1, progress: { percent: 100, message: 'done' }, error: null, logCount: 1 })
      expect(done.startedAt).not.toBeNull()
      expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime())
      expect(done.attempts).toMatchObject([{ number: 1, outcome: 'succeeded', error: null, workerId: engine.workerId }])
      expect((await engine.getLogs(run.id)).map((l) => [l.seq, l.level, l.message])).toEqual([[1, 'info', 'echo hi']])
    })

    it('refuses invalid arguments and options, naming each problem, and stores nothing', async () => {
      const engine = engineWith({ tasks: [echo] })
      const error = await engine.enqueue(echo, { times: 'x' } as never).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).fields.map((f) => f.key)).toEqual(['text', 'times'])
      await expect(engine.enqueueMany(echo, [{ text: 'ok' }, { text: 5 }])).rejects.toThrow(/\[1\]\.text: expected string, got 5/)
      await expect(engine.enqueue(echo, { text: 'a' }, { priority: 1.5, queue: 'bad queue', delayMs: -1, colour: 'red' } as never)).rejects.toThrow(
        /invalid enqueue options: options.colour: unknown option .*; options.queue: expected a queue name .*, got "bad queue" \(string\); options.priority: expected an integer from -9007199254740991 to 9007199254740991, got 1.5 \(number\); options.delayMs: expected a non-negative number of milliseconds, got -1/,
      )
      await expect(engine.enqueue(echo, { text: 'a' }, { backoff: (() => 1) as never })).rejects.toThrow(/options.backoff: a backoff function can only be set on the task definition/)
      await expect(engine.enqueue('nope', {})).rejects.toThrow(NotFoundError)
      expect((await engine.listRuns()).total).toBe(0)
    })

    it('reports every bad argument and every bad option at once, in fields, for enqueue, enqueueMany and run', async () => {
      const engine = engineWith({ tasks: [echo] })
      const keys = async (call: Promise<unknown>): Promise<string[]> => {
        const error = await call.then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(ValidationError)
        return (error as ValidationError).fields.map((f) => f.key)
      }
      // JSON straight from a client: wrong types and a name that is no option.
      const options = JSON.parse('{"priority":"high","maxAttempts":0,"tags":"a,b","category":"admin","notAfter":"tomorrow","colour":"red","runAt":1,"delayMs":5}') as never
      expect(await keys(engine.enqueue(echo, { times: 'x', extra: 1 } as never, options))).toEqual([
        'text',
        'times',
        'extra',
        'options.colour',
        'options.priority',
        'options.maxAttempts',
        'options.notAfter',
        'options.delayMs',
        'options.category',
        'options.tags',
      ])
      const error = (await engine.enqueue(echo, { text: 'ok' }, { timeoutMs: 0 }).catch((e: unknown) => e)) as ValidationError
      expect(error.fields).toEqual([{ key: 'options.timeoutMs', expected: 'a positive number of milliseconds', received: '0 (number)', message: 'options.timeoutMs: expected a positive number of milliseconds, got 0 (number)' }])
      expect(await keys(engine.enqueueMany(echo, [{ text: 'ok' }, { text: 5 }], { queue: '' }))).toEqual(['[1].text', 'options.queue'])
      expect(await keys(engine.enqueue(echo, { text: 'ok' }, 'fast' as never))).toEqual(['options'])
      expect(await keys(engine.run(echo, { times: 'x' } as never, { timeoutMs: -1, label: '', speed: 2 } as never))).toEqual(['text', 'times', 'options.speed', 'options.label', 'options.timeoutMs'])
      // runAll throws at once (it returns a batch, not a promise).
      expect(await keys((async () => engine.runAll(echo, '', [{ text: 'a' }], { concurrency: -3, label: 'x' } as never))())).toEqual(['label', 'options.label', 'options.concurrency'])
      expect((await engine.listRuns({ includeDeleted: true })).total).toBe(0)
    })

    it('takes label, start delay, expiry, creator, category and tags from the task\'s defaults; the enqueue wins', async () => {
      const now = Date.UTC(2026, 5, 1, 12)
      const digest = defineTask({
        key: 'digest',
        defaults: { label: 'daily digest', delayMs: 60_000, notAfterMs: 3_600_000, createdBy: 'cron', category: 'system', tags: ['mail'] },
        run: (ctx) => ({ label: ctx.label }),
      })
      const engine = engineWith({ tasks: [digest], clock: () => now })
      const run = await engine.enqueue(digest, {})
      expect(run).toMatchObject({ label: 'daily digest', runAt: new Date(now + 60_000), notAfter: new Date(now + 60_000 + 3_600_000), createdBy: 'cron', category: 'system', tags: ['mail'] })
      expect(await engine.getRun(run.id)).toMatchObject({ label: 'daily digest', runAt: new Date(now + 60_000), notAfter: new Date(now + 3_660_000), createdBy: 'cron', category: 'system', tags: ['mail'] })
      const own = await engine.enqueue(digest, {}, { label: 'mine', delayMs: 5, createdBy: 'ada', category: 'user', tags: ['x'] })
      // The expiry counts from the run's own start.
      expect(own).toMatchObject({ label: 'mine', runAt: new Date(now + 5), notAfter: new Date(now + 5 + 3_600_000), createdBy: 'ada', category: 'user', tags: ['x'] })
      const at = await engine.enqueue(digest, {}, { runAt: now + 10, notAfter: now + 20 })
      expect(at).toMatchObject({ runAt: new Date(now + 10), notAfter: new Date(now + 20) })
      const many = await engine.enqueueMany(digest, [{}, {}])
      expect(many.map((r) => [r.label, r.category, r.tags])).toEqual([
        ['daily digest', 'system', ['mail']],
        ['daily digest', 'system', ['mail']],
      ])
      // In-process runs take the label and tags.
      expect(await engine.run(digest)).toMatchObject({ label: 'daily digest', tags: ['mail'], data: { label: 'daily digest' } })
      expect(await engine.run(digest, {}, { label: 'now', tags: [] })).toMatchObject({ label: 'now', tags: [] })
    })

    it('enqueues many in one call, in order', async () => {
      const engine = engineWith({ tasks: [echo] })
      const runs = await engine.enqueueMany(echo, [{ text: 'a' }, { text: 'b' }, { text: 'c' }], { queue: 'letters' })
      expect(runs.map((r) => r.args.text)).toEqual(['a', 'b', 'c'])
      expect(new Set(runs.map((r) => r.id)).size).toBe(3)
      expect((await engine.listRuns({ queue: 'letters' })).total).toBe(3)
    })

    it('returns the active run for a unique key, from the option or the task', async () => {
      const keyed = defineTask({ key: 'keyed', fields: [{ key: 'user', type: 'string', required: true }], uniqueKey: (args) => `sync:${args.user}`, run: () => 1 })
      const engine = engineWith({ tasks: [echo, keyed] })
      const a = await engine.enqueue(echo, { text: 'x' }, { uniqueKey: 'only-one' })
      const b = await engine.enqueue(echo, { text: 'y' }, { uniqueKey: 'only-one' })
      expect(b.id).toBe(a.id)
      const c = await engine.enqueue(keyed, { user: 'ada' })
      const d = await engine.enqueue(keyed, { user: 'ada' })
      const e = await engine.enqueue(keyed, { user: 'bob' })
      expect(d.id).toBe(c.id)
      expect(e.id).not.toBe(c.id)
      expect(c.uniqueKey).toBe('sync:ada')
    })

    it('reuses a recent identical success when the task asks for it', async () => {
      let executions = 0
      const reusing = defineTask({
        key: 'expensive',
        fields: [{ key: 'n', type: 'int', required: true }],
        reuseResultMs: 60_000,
        run: (ctx) => {
          executions++
          return ctx.args.n * 2
        },
      })
      const engine = engineWith({ tasks: [reusing] })
      await engine.start()
      const first = await engine.enqueue(reusing, { n: 21 })
      await runReaches(engine, first.id, 'succeeded')
      const second = await engine.enqueue(reusing, { n: '21' })
      expect(second).toMatchObject({ id: first.id, status: 'succeeded', data: 42 })
      const other = await engine.enqueue(reusing, { n: 1 })
      expect(other.id).not.toBe(first.id)
      await runReaches(engine, other.id, 'succeeded')
      expect(executions).toBe(2)
    })

    it('starts delayed runs when due and expires runs not started by notAfter', async () => {
      const clock = { now: Date.UTC(2026, 0, 1) }
      const watched = observed(backend.store())
      // Maintenance (which expires runs) every leaseMs / 2 = 100 ms.
      const engine = engineWith({ tasks: [echo], store: watched.store, clock: () => clock.now, leaseMs: 200 })
      await engine.start()
      const delayed = await engine.enqueue(echo, { text: 'later' }, { delayMs: 150 })
      const expired = await engine.enqueue(echo, { text: 'never' }, { runAt: clock.now + 10_000, notAfter: clock.now + 50 })
      // Before notAfter: the worker looked three times and maintained once; both wait.
      clock.now += 49
      await moreCalls(watched, 'claimRuns', 3)
      await moreCalls(watched, 'expireOverdue', 1)
      expect((await engine.getRun(delayed.id))?.status).toBe('pending')
      expect((await engine.getRun(expired.id))?.status).toBe('pending')
      // At notAfter the one expires; the delayed one still waits for its time.
      clock.now += 1
      const cancelled = await runReaches(engine, expired.id, 'cancelled')
      expect(cancelled).toMatchObject({ cancelReason: 'expired', error: { code: 'ERR_EXPIRED' }, startedAt: null, attempt: 0 })
      await moreCalls(watched, 'claimRuns', 3)
      expect((await engine.getRun(delayed.id))?.status).toBe('pending')
      clock.now += 100
      await runReaches(engine, delayed.id, 'succeeded')
    })
  })

  describe('backoff under a fake clock', () => {
    /** An engine whose clock only moves when the test moves it. */
    function clocked(tasks: Parameters<typeof defineTask>[0][] | ReturnType<typeof defineTask>[]) {
      const clock = { now: Date.UTC(2026, 0, 1) }
      const watched = observed(backend.store())
      const engine = engineWith({ tasks: tasks as never, clock: () => clock.now, store: watched.store })
      /** Resolves once the worker has looked for runs `n` more times. */
      const polls = (n: number): Promise<void> => watched.more('claimRuns', n)
      return { engine, clock, polls }
    }

    it('waits between attempts per the default policy: exponential from 1 s, doubling, with jitter between half and all of it', async () => {
      let calls = 0
      const flaky = defineTask({
        key: 'flaky-default',
        maxAttempts: 3,
        run() {
          calls++
          throw new Error('not yet')
        },
      })
      const { engine, clock, polls } = clocked([flaky])
      const runs = await engine.enqueueMany(flaky, Array.from({ length: 20 }, () => ({})))
      await engine.start({ concurrency: 20 })
      const delays = async (attempt: number): Promise<number[]> => {
        const out: number[] = []
        for (const run of runs) {
          let stored: Run | undefined
          await vi.waitFor(async () => {
            stored = await engine.getRun(run.id)
            expect(stored?.attempts).toHaveLength(attempt)
          })
          expect(stored).toMatchObject({ status: 'pending' })
          out.push(stored!.runAt.getTime() - stored!.attempts[attempt - 1]!.finishedAt.getTime())
        }
        return out
      }
      const first = await delays(1)
      expect(first.every((d) => d >= 500 && d <= 1000)).toBe(true)
      expect(new Set(first).size).toBeGreaterThan(1)
      // Nothing runs before it is due; at the due time the next attempt runs.
      clock.now += 499
      await polls(3)
      expect(calls).toBe(20)
      clock.now += 501
      const second = await delays(2)
      expect(second.every((d) => d >= 1000 && d <= 2000)).toBe(true)
      clock.now += 2000
      for (const run of runs) expect((await runReaches(engine, run.id, 'failed')).attempts).toHaveLength(3)
      expect(calls).toBe(60)
    })

    it("waits as a task's backoff function says, given the attempt and its error", async () => {
      const seen: [number, string][] = []
      const custom = defineTask({
        key: 'custom-backoff',
        maxAttempts: 3,
        backoff: (attempt, error) => {
          seen.push([attempt, error.message])
          return attempt * 7000
        },
        run(ctx) {
          if (ctx.attempt < 3) throw new Error(`failure ${ctx.attempt}`)
          return 'third time'
        },
      })
      const { engine, clock, polls } = clocked([custom])
      const run = await engine.enqueue(custom, {})
      await engine.start()
      const start = clock.now
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.attempts).toHaveLength(1))
      expect((await engine.getRun(run.id))?.runAt).toEqual(new Date(start + 7000))
      clock.now += 6999
      await polls(3) // the worker looked three times: not due yet
      expect((await engine.getRun(run.id))?.attempts).toHaveLength(1)
      clock.now += 1
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.attempts).toHaveLength(2))
      expect((await engine.getRun(run.id))?.runAt).toEqual(new Date(clock.now + 14_000))
      clock.now += 14_000
      expect((await runReaches(engine, run.id, 'succeeded')).data).toBe('third time')
      expect(seen).toEqual([
        [1, 'failure 1'],
        [2, 'failure 2'],
      ])
    })
  })

  describe('what a running handler sees and writes', () => {
    it('streams every progress update live but writes it to the store at most once per interval', async () => {
      let release: () => void = () => undefined
      const steps = defineTask({
        key: 'steps',
        async run(ctx) {
          // One update per turn of the event loop, so only the worker's throttle can merge them.
          for (let step = 1; step <= 50; step++) {
            ctx.progress({ step, steps: 50 })
            await new Promise((r) => setImmediate(r))
          }
          await new Promise<void>((r) => (release = r))
          return ctx.label
        },
      })
      const watched = observed(backend.store())
      // A clock that stands still: the interval can only pass by the throttle's own timer.
      const engine = engineWith({ tasks: [steps], store: watched.store, progressIntervalMs: 1000, clock: () => Date.UTC(2026, 0, 1) })
      const live: number[] = []
      engine.subscribe((e) => {
        if (e.type === 'progress') live.push(e.progress.step ?? -1)
      })
      await engine.start()
      const run = await engine.enqueue(steps, {}, { label: 'my label' })
      await vi.waitFor(() => expect(live).toHaveLength(50))
      expect(live).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      // The trailing write lands once the interval is over: the first update, then the last.
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.progress).toMatchObject({ step: 50, percent: 100 }), { timeout: 3000 })
      const written = watched.batches.flatMap((b) => b.progress.filter((p) => p.id === run.id).map((p) => p.progress.step))
      expect(written).toEqual([1, 50])
      release()
      expect((await runReaches(engine, run.id, 'succeeded')).data).toBe('my label')
    })

    it('logs a failing hook of a durable run on the run, and keeps its status', async () => {
      const hooked = defineTask({
        key: 'hooked',
        run: (ctx) => ({ label: ctx.label }),
        onSuccess() {
          throw new Error('post-action broke')
        },
        onSettled: () => Promise.reject(new Error('cleanup broke')),
      })
      const engine = engineWith({ tasks: [hooked] })
      await engine.start()
      const run = await engine.enqueue(hooked, {}, { label: 'nightly' })
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done.data).toEqual({ label: 'nightly' })
      await vi.waitFor(async () => expect(await engine.getLogs(run.id)).toHaveLength(2))
      const logs = await engine.getLogs(run.id)
      expect(logs.map((l) => [l.level, l.message.split('\n')[0]])).toEqual([
        ['error', 'onSuccess hook failed: Error: post-action broke'],
        ['error', 'onSettled hook failed: Error: cleanup broke'],
      ])
    })

    it('aborts a handler whose lease was taken over with LeaseLostError; what it writes afterwards is not stored', async () => {
      const open = backend.database()
      const seen: unknown[] = []
      const taken = defineTask({
        key: 'taken',
        run: (ctx) =>
          new Promise((_, reject) => {
            ctx.signal.addEventListener('abort', () => {
              seen.push(ctx.signal.reason)
              // Late output of a handler that no longer holds its run.
              ctx.log('written after the lease was lost')
              ctx.progress({ percent: 99, message: 'stale' })
              ctx.artifact('stale.txt', 'stale').then(
                () => seen.push('artifact stored'),
                (error: unknown) => seen.push(error),
              )
              reject(ctx.signal.reason as Error)
            })
          }),
      })
      const engine = engineWith({ tasks: [taken], store: open(), leaseMs: 600 })
      await engine.start()
      const run = await engine.enqueue(taken, {})
      await runReaches(engine, run.id, 'running')
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.startedAt).not.toBeNull())
      // Another process finds the lease expired (as if this worker had hung), and another worker takes the run.
      const other = open()
      try {
        const rescued = await rescueExpiredRuns(other, new TaskRegistry(), Date.now() + 60_000)
        expect(rescued.map((r) => [r.id, r.status])).toEqual([[run.id, 'pending']])
        // Past the lost attempt's backoff (the default: at most 1 s for a first retry).
        const [claimed] = await other.claimRuns({ workerId: 'elsewhere', limit: 1, now: Date.now() + 62_000, leaseUntil: Date.now() + 120_000, tasks: ['taken'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() })
        expect(claimed?.id).toBe(run.id)
        // At its next heartbeat the first worker learns it lost the run.
        await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(2), { timeout: 3000 })
        expect(seen[0]).toBeInstanceOf(LeaseLostError)
        expect(seen[1]).toBeInstanceOf(LeaseLostError)
        // The run is the other worker's: nothing of the first attempt's late output is there.
        const now = await engine.getRun(run.id)
        expect(now).toMatchObject({ status: 'running', workerId: 'elsewhere', attempt: 2 })
        expect(now?.progress).toBeNull()
        expect((await engine.getLogs(run.id)).map((l) => l.message)).not.toContain('written after the lease was lost')
        expect(await engine.listArtifacts(run.id)).toEqual([])
      } finally {
        await other.close()
      }
    })

    it('keeps a handler that runs longer than its lease, renewing the lease by heartbeat', async () => {
      const long = defineTask({ key: 'long', run: () => sleep(900).then(() => 'outlived its lease three times') })
      const engine = engineWith({ tasks: [long], leaseMs: 300 })
      await engine.start()
      const run = await engine.enqueue(long, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done).toMatchObject({ data: 'outlived its lease three times', attempt: 1 })
      expect(done.attempts.map((a) => [a.outcome, a.error])).toEqual([['succeeded', null]])
    })
  })

  describe('retries, timeouts, errors', () => {
    it('retries a failing run with backoff until it succeeds, recording every attempt', async () => {
      let calls = 0
      const flaky = defineTask({
        key: 'flaky',
        backoff: { type: 'fixed', delayMs: 30 },
        run(ctx) {
          calls++
          ctx.log(`attempt ${ctx.attempt}`)
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`)
          return 'finally'
        },
      })
      const engine = engineWith({ tasks: [flaky] })
      const events: string[] = []
      engine.subscribe((e) => events.push(e.type), { task: 'flaky' })
      await engine.start()
      const run = await engine.enqueue(flaky, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(calls).toBe(3)
      expect(done.attempts.map((a) => [a.number, a.outcome, a.error?.message ?? null])).toEqual([
        [1, 'retry', 'boom 1'],
        [2, 'retry', 'boom 2'],
        [3, 'succeeded', null],
      ])
      expect((await engine.getLogs(run.id)).map((l) => l.message)).toEqual(['attempt 1', 'attempt 2', 'attempt 3'])
      expect(events.filter((t) => t === 'retrying')).toHaveLength(2)
      expect(events.at(-1)).toBe('succeeded')
    })

    it('fails for good once attempts are spent, or at once for an unrecoverable error', async () => {
      const failing = defineTask({
        key: 'failing',
        fields: [{ key: 'fatal', type: 'bool' }],
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 1 },
        run(ctx) {
          throw ctx.args.fatal ? new UnrecoverableError('bad input') : new Error('transient')
        },
      })
      const engine = engineWith({ tasks: [failing] })
      await engine.start()
      const spent = await engine.enqueue(failing, {})
      const fatal = await engine.enqueue(failing, { fatal: true })
      const a = await runReaches(engine, spent.id, 'failed')
      const b = await runReaches(engine, fatal.id, 'failed')
      expect(a.attempts).toHaveLength(2)
      expect(a.error).toMatchObject({ message: 'transient', code: 'ERR_HANDLER' })
      expect(b.attempts).toHaveLength(1)
      expect(b.error).toMatchObject({ code: 'ERR_UNRECOVERABLE', message: 'bad input' })
    })

    it('fails an attempt that exceeds its time limit with a timeout error, and retries it', async () => {
      let calls = 0
      const slow = defineTask({
        key: 'slow',
        timeoutMs: 50,
        backoff: { type: 'fixed', delayMs: 1 },
        async run(ctx) {
          calls++
          if (ctx.attempt === 1) await new Promise(() => undefined)
          return 'ok'
        },
      })
      const engine = engineWith({ tasks: [slow] })
      await engine.start()
      const run = await engine.enqueue(slow, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(calls).toBe(2)
      expect(done.attempts[0]).toMatchObject({ outcome: 'retry', error: { code: 'ERR_TIMEOUT', message: 'timed out after 50 ms' } })
    })

    it('tries again later without spending an attempt on RetryLaterError', async () => {
      const later = defineTask({
        key: 'later',
        maxAttempts: 1,
        run(ctx) {
          if (ctx.attempt === 1) throw new RetryLaterError(20)
          return ctx.attempt
        },
      })
      const engine = engineWith({ tasks: [later] })
      await engine.start()
      const run = await engine.enqueue(later, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done).toMatchObject({ data: 2, attempt: 2, attemptBase: 1 })
    })

    it('fails a run whose stored arguments no longer match the fields', async () => {
      const engine = engineWith({ tasks: [echo] })
      const store = await engine.store()
      const [outcome] = await store.insertRuns([{ ...(await import('../src/store/testing/index.js')).newRun({ task: 'echo', args: '{"times":"many"}', runAt: Date.now(), createdAt: Date.now() }) }])
      await engine.start()
      const failed = await runReaches(engine, outcome!.run.id, 'failed')
      expect(failed.error).toMatchObject({ code: 'ERR_UNRECOVERABLE', message: expect.stringContaining('stored arguments no longer match') as string })
    })
  })

  describe('control', () => {

    it('cancels a pending run at once and a running one through its signal', async () => {
      const { task, started, aborted } = blocking()
      const engine = engineWith({ tasks: [task] })
      const pending = await engine.enqueue(task, {}, { delayMs: 60_000 })
      expect(await engine.cancel(pending.id, 'not needed')).toMatchObject({ status: 'cancelled', cancelReason: 'not needed' })
      await engine.start()
      const running = await engine.enqueue(task, {})
      await vi.waitFor(() => expect(started).toContain(running.id))
      expect((await engine.cancel(running.id)).cancelRequestedAt).not.toBeNull()
      const done = await runReaches(engine, running.id, 'cancelled')
      expect(aborted).toEqual([running.id])
      expect(done.error).toMatchObject({ code: 'ERR_CANCELLED' })
      await expect(engine.cancel(running.id)).rejects.toThrow(ConflictError)
      await expect(engine.cancel('missing')).rejects.toThrow(NotFoundError)
    })

    it('retries a run cancelled while running without cancelling it again', async () => {
      let calls = 0
      let abortedAgain = false
      const watched = observed(backend.store())
      const task = defineTask({
        key: 'cancel-then-retry',
        run: (ctx) =>
          new Promise((resolve, reject) => {
            calls++
            ctx.signal.addEventListener('abort', () => {
              if (ctx.attempt > 1) abortedAgain = true
              reject(ctx.signal.reason as Error)
            })
            // The second attempt lives through two heartbeats, which would carry a stale cancel request.
            if (ctx.attempt > 1) void moreCalls(watched, 'renewLeases', 2).then(() => resolve('second time lucky'))
          }),
      })
      const engine = engineWith({ tasks: [task], store: watched.store, leaseMs: 300 })
      await engine.start()
      const run = await engine.enqueue(task, {})
      await vi.waitFor(() => expect(calls).toBe(1))
      await engine.cancel(run.id)
      await runReaches(engine, run.id, 'cancelled')
      const retried = await engine.retry(run.id)
      expect(retried).toMatchObject({ status: 'pending', cancelRequestedAt: null })
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done.data).toBe('second time lucky')
      expect(abortedAgain).toBe(false)
      expect(done.attempts.map((a) => a.outcome)).toEqual(['cancelled', 'succeeded'])
      await expect(engine.retry(run.id)).rejects.toThrow(/has already succeeded; only failed or cancelled runs can be retried/)
    })

    it('never executes a deleted pending run, and cancels a deleted running one', async () => {
      const { task, started } = blocking()
      const watched = observed(backend.store())
      const engine = engineWith({ tasks: [task], store: watched.store })
      const pending = await engine.enqueue(task, {})
      await engine.delete(pending.id)
      expect(await engine.getRun(pending.id)).toBeUndefined()
      await engine.start({ concurrency: 2 })
      const running = await engine.enqueue(task, {})
      await vi.waitFor(() => expect(started).toContain(running.id))
      await engine.delete(running.id)
      // With a slot free, the worker looks for runs three more times: the deleted one is not among them.
      await moreCalls(watched, 'claimRuns', 3)
      expect(started).toEqual([running.id])
      const store = await engine.store()
      await vi.waitFor(async () => expect((await store.getRun(running.id, { includeDeleted: true }))?.status).toBe('cancelled'))
      await expect(engine.delete(pending.id)).rejects.toThrow(NotFoundError)
    })

    it('a cancel requested from another process sharing the store reaches the handler within a heartbeat', async () => {
      const open = backend.database()
      const watched = observed(open())
      // The heartbeats made by the time the handler hears of the cancel, counted as it does.
      let abortHeard: (heartbeats: number) => void = () => undefined
      const heartbeatsAtAbort = new Promise<number>((resolve) => (abortHeard = resolve))
      const { task, started } = blocking(() => abortHeard(watched.calls.get('renewLeases') ?? 0))
      const worker = engineWith({ tasks: [task], store: watched.store, leaseMs: 600 })
      const operator = engineWith({ tasks: [task], store: open() })
      await worker.start()
      const run = await operator.enqueue(task, {})
      await vi.waitFor(() => expect(started).toContain(run.id), { timeout: 3000 })
      const heartbeatsBefore = watched.calls.get('renewLeases') ?? 0
      await operator.cancel(run.id)
      // Pushed (PostgreSQL) it needs no heartbeat; else the next one brings it (the one under way
      // when the cancel was asked may have read the run before it).
      expect((await heartbeatsAtAbort) - heartbeatsBefore).toBeLessThanOrEqual(watched.store.signal === undefined ? 2 : 1)
      await runReaches(operator, run.id, 'cancelled')
    })

    it('stops gracefully: handlers that finish in time complete; interrupted ones spend their attempt and go back at once, or fail on their last', async () => {
      const open = backend.database()
      let finishQuick: (value: string) => void = () => undefined
      const called: string[] = []
      const quick = defineTask({ key: 'quick', run: (ctx) => new Promise<string>((resolve) => (called.push(ctx.runId), (finishQuick = resolve))) })
      const hang = (ctx: { runId: string; signal: AbortSignal }) =>
        new Promise((_, reject) => {
          called.push(ctx.runId)
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
        })
      const stuck = defineTask({ key: 'stuck', maxAttempts: 2, run: hang })
      const once = defineTask({ key: 'once', maxAttempts: 1, run: hang })
      const engine = engineWith({ tasks: [quick, stuck, once], store: open() })
      await engine.start()
      const a = await engine.enqueue(quick, {})
      const b = await engine.enqueue(stuck, {})
      const c = await engine.enqueue(once, {})
      // Every handler is running (a last attempt's handler starts once its start is stored).
      await vi.waitFor(() => expect(called).toHaveLength(3))
      // The quick handler finishes once the stop began, well within the grace period.
      const stopping = engine.stop({ graceMs: 1000 })
      finishQuick('quick done')
      await stopping
      expect((await engine.getRun(a.id))?.status).toBe('succeeded')
      // Its handler ran, so the attempt counts; the run is not at fault, so no backoff.
      const back = await engine.getRun(b.id)
      expect(back).toMatchObject({ status: 'pending', attempt: 1, attemptBase: 0, workerId: null, error: { code: 'ERR_SHUTDOWN' } })
      expect(back?.runAt.getTime()).toBeLessThanOrEqual(Date.now())
      expect(back?.attempts).toMatchObject([{ number: 1, outcome: 'interrupted', error: { code: 'ERR_SHUTDOWN' } }])
      // At most once means at most once: its only attempt was interrupted.
      expect(await engine.getRun(c.id)).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'ERR_SHUTDOWN' }, attempts: [{ outcome: 'failed', error: { code: 'ERR_SHUTDOWN' } }] })
      // A new worker runs the other one's second and last attempt.
      const resumed = engineWith({ tasks: [quick, defineTask({ key: 'stuck', maxAttempts: 2, run: (ctx) => `resumed at attempt ${ctx.attempt}` }), once], store: open() })
      await resumed.start()
      expect((await runReaches(resumed, b.id, 'succeeded')).data).toBe('resumed at attempt 2')
    })
  })

  describe('limits', () => {
    it('honours per-task maxConcurrent and per-queue concurrency in the process', async () => {
      let active = 0
      let peak = 0
      const peaks = new Map<string, number>()
      const activeBy = new Map<string, number>()
      // Handlers hold until released, so the limits are reached for sure, then are never passed.
      let release: () => void = () => undefined
      const released = new Promise<void>((resolve) => (release = resolve))
      const track = (key: string) => async () => {
        active++
        activeBy.set(key, (activeBy.get(key) ?? 0) + 1)
        peak = Math.max(peak, active)
        peaks.set(key, Math.max(peaks.get(key) ?? 0, activeBy.get(key)!))
        await released
        // Then the work itself, 2 ms: runs started after the release overlap as they drain, so
        // the limits are checked then too (work the handler does, not a wait of the test).
        await sleep(2)
        activeBy.set(key, activeBy.get(key)! - 1)
        active--
      }
      const limited = defineTask({ key: 'limited', maxConcurrent: 2, run: track('limited') })
      const free = defineTask({ key: 'free', run: track('free') })
      const engine = engineWith({ tasks: [limited, free] })
      await engine.enqueueMany(limited, Array.from({ length: 12 }, () => ({})))
      await engine.enqueueMany(free, Array.from({ length: 12 }, () => ({})), { queue: 'narrow' })
      await engine.start({ concurrency: 6, queues: { default: 0, narrow: 3 } })
      await vi.waitFor(() => expect([activeBy.get('limited'), activeBy.get('free')]).toEqual([2, 3]), { timeout: 10_000 })
      release()
      await vi.waitFor(async () => expect((await engine.listRuns({ status: 'succeeded' })).total).toBe(24), { timeout: 10_000 })
      expect(peaks.get('limited')).toBe(2)
      expect(peaks.get('free')).toBe(3)
      expect(peak).toBeLessThanOrEqual(5)
    })

    it('reads maxConcurrent 0 as the available parallelism and -1 as 128, as runAll does', async () => {
      const cpus = availableParallelism()
      const started = new Map<string, string[]>()
      const held = (key: string, maxConcurrent: number) =>
        defineTask({
          key,
          maxConcurrent,
          run: (ctx) =>
            new Promise((resolve) => {
              started.set(key, [...(started.get(key) ?? []), ctx.runId])
              ctx.signal.addEventListener('abort', () => resolve('stopped'))
            }),
        })
      const zero = held('zero', 0)
      const many = held('many', -1)
      const engine = engineWith({ tasks: [zero, many] })
      await engine.enqueueMany(zero, Array.from({ length: cpus + 2 }, () => ({})))
      await engine.enqueueMany(many, Array.from({ length: 130 }, () => ({})))
      // One claim takes every run a limit lets through, so a missing limit shows at once.
      await engine.start({ concurrency: cpus + 140, prefetch: 0 })
      await vi.waitFor(() => expect((started.get('zero') ?? []).length).toBeGreaterThanOrEqual(cpus))
      await vi.waitFor(() => expect((started.get('many') ?? []).length).toBeGreaterThanOrEqual(128))
      expect(started.get('zero')).toHaveLength(cpus)
      expect(started.get('many')).toHaveLength(128)
      expect((await engine.listRuns({ task: 'zero', status: 'pending' })).total).toBe(2)
      expect((await engine.listRuns({ task: 'many', status: 'pending' })).total).toBe(2)
      // A slot of the task freed: exactly one more of its runs starts.
      await engine.cancel(started.get('zero')![0]!)
      await vi.waitFor(() => expect(started.get('zero')).toHaveLength(cpus + 1))
      expect((await engine.listRuns({ task: 'zero', status: 'pending' })).total).toBe(1)
    })

    it('serves only the queues it was given', async () => {
      const engine = engineWith({ tasks: [echo] })
      const other = await engine.enqueue(echo, { text: 'x' }, { queue: 'elsewhere' })
      const mine = await engine.enqueue(echo, { text: 'y' }, { queue: 'mine' })
      await engine.start({ queues: ['mine'] })
      await runReaches(engine, mine.id, 'succeeded')
      expect((await engine.getRun(other.id))?.status).toBe('pending')
    })
  })

  describe('pools', () => {
    it('a parent waiting on three children completes at concurrency 1', async () => {
      const child = defineTask({ key: 'child', fields: [{ key: 'n', type: 'int', required: true }], run: (ctx) => ctx.args.n * 10 })
      const parent = defineTask({
        key: 'parent',
        async run(ctx) {
          const pool = ctx.pool({ label: 'children' })
          await pool.addMany('child', [{ n: 1 }, { n: 2 }, { n: 3 }])
          const status = await pool.wait()
          return { poolId: pool.id, total: status.total, succeeded: status.succeeded, done: status.done }
        },
      })
      const engine = engineWith({ tasks: [child, parent] })
      const events: RunEvent['type'][] = []
      engine.subscribe((e) => {
        if (e.task === 'parent') events.push(e.type)
      })
      await engine.start({ concurrency: 1 })
      const run = await engine.enqueue(parent, {})
      const done = await runReaches(engine, run.id, 'succeeded', 10_000)
      const data = done.data as { poolId: string; total: number; succeeded: number; done: boolean }
      expect(data).toMatchObject({ total: 3, succeeded: 3, done: true })
      expect(events).toContain('waiting')
      expect(events).toContain('resumed')
      const report = await engine.getPool(data.poolId)
      expect(report?.pool).toMatchObject({ parentRunId: run.id, label: 'children' })
      expect(report?.status).toMatchObject({ total: 3, complete: 3, progress: 100, done: true })
      expect(report?.runs.map((r) => [r.parentId, r.data]).sort()).toEqual([
        [run.id, 10],
        [run.id, 20],
        [run.id, 30],
      ])
    })

    /** Tasks of a pool tree: `middle` opens a pool of two `leaf` runs, which hang until their signal fires. */
    function poolTree() {
      const started: string[] = []
      const leaf = defineTask({
        key: 'leaf',
        run: (ctx) =>
          new Promise((_, reject) => {
            started.push(ctx.runId)
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
          }),
      })
      const middle = defineTask({
        key: 'middle',
        async run(ctx) {
          const pool = ctx.pool()
          await pool.addMany('leaf', [{}, {}])
          return pool.wait()
        },
      })
      return { started, leaf, middle }
    }

    it('nests pools, rolls their counts up to the root, and cancelling the parent cascades to every descendant', async () => {
      const { started, leaf, middle } = poolTree()
      const top = defineTask({
        key: 'top',
        async run(ctx) {
          const pool = ctx.pool()
          await pool.addMany('middle', [{}, {}])
          return pool.wait()
        },
      })
      const engine = engineWith({ tasks: [leaf, middle, top] })
      await engine.start({ concurrency: 2 })
      const run = await engine.enqueue(top, {})
      await vi.waitFor(() => expect(started.length).toBe(2), { timeout: 5000 })
      const [rootPool] = await (await engine.store()).poolsOfRun(run.id)
      const report = await engine.getPool(rootPool!.id)
      expect(report?.status).toMatchObject({ total: 6, done: false })
      expect(report?.children).toHaveLength(2)
      await engine.cancel(run.id, 'operator')
      await runReaches(engine, run.id, 'cancelled', 5000)
      await vi.waitFor(async () => expect((await engine.listRuns({ status: ['pending', 'running', 'waiting'] })).total).toBe(0), { timeout: 5000 })
      expect((await engine.listRuns({ task: 'leaf', status: 'cancelled' })).total).toBe(4)
    })

    it('deleting a parent that waits on its pool cancels every run below it, as cancelling does', async () => {
      const { started, leaf, middle } = poolTree()
      const top = defineTask({
        key: 'top',
        async run(ctx) {
          const pool = ctx.pool()
          await pool.add('middle', {})
          await pool.add('leaf', {}, { delayMs: 60_000 })
          return pool.wait()
        },
      })
      const engine = engineWith({ tasks: [leaf, middle, top] })
      await engine.start({ concurrency: 2 })
      const run = await engine.enqueue(top, {})
      await vi.waitFor(() => expect(started).toHaveLength(2), { timeout: 5000 })
      expect((await engine.delete(run.id)).deletedAt).not.toBeNull()
      const store = await engine.store()
      await vi.waitFor(async () => expect((await store.getRun(run.id, { includeDeleted: true }))?.status).toBe('cancelled'), { timeout: 5000 })
      await vi.waitFor(async () => expect((await engine.listRuns({ status: ['pending', 'running', 'waiting'] })).total).toBe(0), { timeout: 5000 })
      const below = await engine.listRuns({ status: 'cancelled' })
      expect(below.data.map((r) => r.task).sort()).toEqual(['leaf', 'leaf', 'leaf', 'middle'])
      expect(started).toHaveLength(2)
    })

    it('opens pools from outside a run and waits on them', async () => {
      const engine = engineWith({ tasks: [echo] })
      await engine.start({ concurrency: 4 })
      const pool = engine.pool({ label: 'batch' })
      await pool.addMany(echo, [{ text: 'a' }, { text: 'b' }])
      await pool.add(echo, { text: 'c' })
      const status = await pool.wait()
      expect(status).toMatchObject({ total: 3, succeeded: 3, failed: 0, closed: true, done: true, progress: 100 })
    })
  })

  describe('artifacts and events', () => {
    it('stores artifacts for a run, size-limited', async () => {
      const producer = defineTask({
        key: 'producer',
        async run(ctx) {
          await ctx.artifact('report.csv', 'a,b\n1,2\n', 'text/csv')
          await ctx.artifact('raw.bin', new Uint8Array([1, 2, 3]))
          await ctx.artifact('too-big.txt', 'x'.repeat(2000)).catch((e: unknown) => ctx.log.warn((e as Error).message))
          // A content type that is no media type (it would break the download's header) is the handler's error.
          await ctx.artifact('h.txt', 'x', 'text/plain\r\nX-Injected: 1').catch((e: unknown) => ctx.log.warn((e as Error).message))
          await ctx.artifact('table.csv', 'a\n', 'text/csv; charset="utf-8"')
        },
      })
      const engine = engineWith({ tasks: [producer], maxArtifactBytes: 1000 })
      await engine.start()
      const run = await engine.enqueue(producer, {})
      await runReaches(engine, run.id, 'succeeded')
      expect((await engine.listArtifacts(run.id)).map((a) => [a.name, a.contentType, a.size])).toEqual([
        ['raw.bin', 'application/octet-stream', 3],
        ['report.csv', 'text/csv', 8],
        ['table.csv', 'text/csv; charset="utf-8"', 2],
      ])
      expect((await engine.getArtifact(run.id, 'report.csv'))?.data.toString()).toBe('a,b\n1,2\n')
      expect((await engine.getLogs(run.id)).map((l) => l.message)).toEqual([
        'artifact "too-big.txt" is 2000 bytes; the limit is 1000 (maxArtifactBytes)',
        'artifact contentType: expected a media type such as "text/plain" or "text/csv; charset=utf-8" (at most 255 characters), got "text/plain\\r\\nX-Injected: 1" (string)',
      ])
    })

    it('keeps in-process artifacts on the result', async () => {
      const engine = engineWith({ tasks: [defineTask({ key: 'inline', run: (ctx) => ctx.artifact('a.txt', 'hello', 'text/plain') })] })
      const result = await engine.run('inline')
      expect(result.artifacts.map((a) => [a.name, a.contentType, a.data.toString()])).toEqual([['a.txt', 'text/plain', 'hello']])
    })

    it('emits one typed stream of every change: created, started, log, progress, succeeded', async () => {
      const engine = engineWith({ tasks: [echo] })
      const events: RunEvent[] = []
      engine.subscribe((e) => events.push(e))
      await engine.start()
      const run = await engine.enqueue(echo, { text: 'x' })
      await runReaches(engine, run.id, 'succeeded')
      await vi.waitFor(() => expect(events.at(-1)?.type).toBe('succeeded'))
      expect(events.filter((e) => e.runId === run.id).map((e) => e.type)).toEqual(['created', 'started', 'log', 'progress', 'succeeded'])
      const final = events.at(-1)
      expect(final).toMatchObject({ type: 'succeeded', runId: run.id, attempt: 1, error: null, durationMs: expect.any(Number) as number })
    })

    it('emits failed, cancelled, retried and deleted events of durable runs to subscribers', async () => {
      const { task: waits, started } = blocking()
      const broken = defineTask({
        key: 'broken',
        run() {
          throw new UnrecoverableError('cannot work')
        },
      })
      const engine = engineWith({ tasks: [waits, broken] })
      const events: RunEvent[] = []
      engine.subscribe((e) => {
        if (e.type !== 'log' && e.type !== 'progress') events.push(e)
      })
      await engine.start()
      const failing = await engine.enqueue(broken, {})
      await runReaches(engine, failing.id, 'failed')
      await vi.waitFor(() => expect(events.some((e) => e.type === 'failed')).toBe(true))
      expect(events.find((e) => e.type === 'failed')).toMatchObject({ runId: failing.id, task: 'broken', attempt: 1, error: { code: 'ERR_UNRECOVERABLE', message: 'cannot work' } })

      const pending = await engine.enqueue(waits, {}, { delayMs: 60_000 })
      await engine.cancel(pending.id, 'not today')
      expect(events.find((e) => e.type === 'cancelled' && e.runId === pending.id)).toMatchObject({ error: { code: 'ERR_CANCELLED', message: 'cancelled: not today' }, run: { id: pending.id, status: 'cancelled' } })
      const running = await engine.enqueue(waits, {})
      await vi.waitFor(() => expect(started).toContain(running.id))
      await engine.cancel(running.id, 'stop')
      await vi.waitFor(() => expect(events.some((e) => e.type === 'cancelled' && e.runId === running.id)).toBe(true))
      expect(events.find((e) => e.type === 'cancelled' && e.runId === running.id)).toMatchObject({ task: 'blocking', attempt: 1, error: { code: 'ERR_CANCELLED' } })

      const retried = await engine.retry(failing.id)
      expect(events.find((e) => e.type === 'retried')).toMatchObject({ runId: failing.id, task: 'broken', run: { id: failing.id, status: 'pending' } })
      expect(retried.status).toBe('pending')
      await engine.delete(pending.id)
      expect(events.find((e) => e.type === 'deleted')).toMatchObject({ runId: pending.id, task: 'blocking' })
      // In the order they happened, for each run.
      const typesOf = (id: string) => events.filter((e) => e.runId === id).map((e) => e.type)
      expect(typesOf(pending.id)).toEqual(['created', 'cancelled', 'deleted'])
      expect(typesOf(running.id)).toEqual(['created', 'started', 'cancelled'])
      expect(typesOf(failing.id).slice(0, 4)).toEqual(['created', 'started', 'failed', 'retried'])
    })

    it('lists runs with filters and pages', async () => {
      const engine = engineWith({ tasks: [echo] })
      await engine.enqueueMany(echo, Array.from({ length: 7 }, (_, i) => ({ text: `t${i}` })), { label: 'many', tags: ['bulk'] })
      await engine.enqueue(echo, { text: 'needle' }, { label: 'one' })
      expect((await engine.listRuns({ label: 'many', pageSize: 5 })).data).toHaveLength(5)
      expect((await engine.listRuns({ tag: 'bulk' })).total).toBe(7)
      expect((await engine.listRuns({ search: 'needle' })).data.map((r) => r.label)).toEqual(['one'])
      await expect(engine.listRuns({ status: 'done' as never })).rejects.toThrow(/status: expected one of pending, running, waiting, succeeded, failed, cancelled, got "done"/)
      await expect(engine.listRuns({ pageSize: 5000 })).rejects.toThrow(/pageSize: expected an integer from 1 to 1000/)
    })
  })

  describe('in-process runs can be cancelled by the engine signal', () => {
    it('still treats a CancelledError the same in durable runs', async () => {
      const quitter = defineTask({
        key: 'quitter',
        run() {
          throw new CancelledError('nothing to do')
        },
      })
      const engine = engineWith({ tasks: [quitter] })
      await engine.start()
      const run = await engine.enqueue(quitter, {})
      expect((await runReaches(engine, run.id, 'cancelled')).error).toMatchObject({ message: 'nothing to do' })
    })
  })

  describe('prefetch (runs claimed ahead of free slots)', () => {
    function scenario() {
      const started: string[] = []
      const quick = defineTask({ key: 'quick', run: () => 'ok' })
      const blocking = defineTask({
        key: 'blocking',
        run: (ctx) =>
          new Promise((_, reject) => {
            started.push(ctx.runId)
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
          }),
      })
      return { started, quick, blocking }
    }

    async function aheadOf(engine: Engine): Promise<readonly Run[]> {
      // Claimed runs show running; those not started are the ones held ahead.
      return (await engine.listRuns({ task: 'blocking', status: 'running' })).data
    }

    it('holds runs ahead only after fast completions, cancels them at once, returns them unspent on stop', async () => {
      const { started, quick, blocking } = scenario()
      // A clock that stands still: every completion falls in the current rate window, so the
      // worker surely holds its full prefetch once the quick runs are through, however slow
      // the store is on a loaded machine.
      const now = Date.now()
      const engine = engineWith({ tasks: [quick, blocking], clock: () => now })
      await engine.enqueueMany(quick, Array.from({ length: 50 }, () => ({})), { priority: 1 })
      await engine.enqueueMany(blocking, Array.from({ length: 6 }, () => ({})))
      await engine.start({ concurrency: 1, prefetch: 4 })
      await vi.waitFor(async () => expect((await aheadOf(engine)).length).toBe(5), { timeout: 5000 })
      expect(started).toHaveLength(1)
      const held = (await aheadOf(engine)).filter((r) => !started.includes(r.id))
      expect(held).toHaveLength(4)
      await engine.cancel(held[0]!.id)
      await runReaches(engine, held[0]!.id, 'cancelled')
      await engine.stop({ graceMs: 0 })
      expect(started).toHaveLength(1)
      // Never started: as if never claimed. The one that ran spent its attempt.
      for (const run of held.slice(1)) expect(await engine.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 0, attemptBase: 0, attempts: [], startedAt: null })
      expect(await engine.getRun(started[0]!)).toMatchObject({ status: 'pending', attempt: 1, attemptBase: 0, attempts: [{ outcome: 'interrupted' }] })
      expect(await engine.getRun(held[0]!.id)).toMatchObject({ status: 'cancelled', attempt: 0, attempts: [] })
    })

    it('gives back runs it could not start within a second, so other workers can take them', async () => {
      const { started, quick, blocking } = scenario()
      // A clock that moves only when the test moves it: every completion falls in the current
      // rate window, so the worker surely holds its full prefetch however slow the machine is;
      // the second passes when the test says so.
      const clock = { now: Date.now() }
      const engine = engineWith({ tasks: [quick, blocking], clock: () => clock.now })
      await engine.enqueueMany(quick, Array.from({ length: 50 }, () => ({})), { priority: 1 })
      await engine.enqueueMany(blocking, Array.from({ length: 4 }, () => ({})))
      await engine.start({ concurrency: 1, prefetch: 3 })
      await vi.waitFor(async () => expect((await aheadOf(engine)).length).toBe(4), { timeout: 5000 })
      clock.now += LOCAL_TTL_MS
      await vi.waitFor(async () => expect((await engine.listRuns({ task: 'blocking', status: 'pending' })).total).toBe(3), { timeout: 3000 })
      expect(started).toHaveLength(1)
    })

    // maxAttempts 1: every claim is a last attempt (no start until the worker stores one);
    // maxAttempts 3: the claim counts the attempt, and a hold takes it back for the runs held.
    for (const maxAttempts of [1, 3]) {
      it(`a worker that dies holding runs ahead leaves them as if never claimed; the run it executed spends its attempt (maxAttempts ${maxAttempts})`, async () => {
        const open = backend.database()
        const started: string[] = []
        const quick = defineTask({ key: 'quick', run: () => 'ok' })
        const once = defineTask({
          key: 'once',
          maxAttempts,
          run: (ctx) =>
            new Promise((_, reject) => {
              started.push(ctx.runId)
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
            }),
        })
        const dying = severable(open())
        const victim = engineWith({ tasks: [quick, once], store: dying.store, leaseMs: 400, onError: () => undefined })
        await victim.enqueueMany(quick, Array.from({ length: 50 }, () => ({})), { priority: 1 })
        const runs = await victim.enqueueMany(once, Array.from({ length: 5 }, () => ({})))
        await victim.start({ concurrency: 1, prefetch: 4 })
        // One executes (its attempt stored as started), four wait in the victim's buffer,
        // claimed ahead and stored as not started. (Held runs are given back after a second:
        // the victim dies well before.)
        await vi.waitFor(
          async () => {
            const running = (await victim.listRuns({ task: 'once', status: 'running' })).data
            expect(running).toHaveLength(5)
            expect(running.filter((r) => r.startedAt !== null).map((r) => r.id)).toEqual([started[0]])
          },
          { interval: 5 },
        )
        dying.sever()
        // Another process notices the expired leases.
        const survivor = engineWith({ tasks: [quick, once], store: open(), leaseMs: 200 })
        const ahead = runs.map((r) => r.id).filter((id) => id !== started[0])
        const events: RunEvent[] = []
        survivor.subscribe((event) => events.push(event))
        await survivor.start({ queues: ['nothing-here'] })
        const executed = await runReaches(survivor, started[0]!, maxAttempts === 1 ? 'failed' : 'pending')
        expect(executed).toMatchObject({ attempt: 1, error: { code: 'ERR_WORKER_LOST' }, attempts: [{ number: 1, error: { code: 'ERR_WORKER_LOST' } }] })
        // The held runs come back as if never claimed: no attempt spent, none recorded.
        for (const id of ahead) await vi.waitFor(async () => expect(await survivor.getRun(id)).toMatchObject({ status: 'pending', attempt: 0, attemptBase: 0, attempts: [], workerId: null }))
        expect(started).toHaveLength(1)
        // Only the run that executed is announced: the others were never tried.
        expect(events.filter((e) => e.type === 'retrying' || e.type === 'failed').map((e) => [e.runId, e.type])).toEqual([[started[0], maxAttempts === 1 ? 'failed' : 'retrying']])
      })
    }

    it('retries a run whose worker died after its backoff, like any failed attempt, not at once', async () => {
      const open = backend.database()
      const starts: number[] = []
      const flaky = defineTask({
        key: 'flaky',
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 800 },
        run: (ctx) => {
          starts.push(Date.now())
          // The first attempt hangs until its worker goes; the second succeeds.
          if (ctx.attempt > 1) return 'second'
          return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))
        },
      })
      const dying = severable(open())
      const victim = engineWith({ tasks: [flaky], store: dying.store, leaseMs: 300, onError: () => undefined })
      const run = await victim.enqueue(flaky, {})
      await victim.start()
      await vi.waitFor(() => expect(starts).toHaveLength(1))
      dying.sever()
      const survivor = engineWith({ tasks: [flaky], store: open(), leaseMs: 300 })
      await survivor.start()
      const done = await runReaches(survivor, run.id, 'succeeded')
      expect(done.attempts.map((a) => [a.number, a.outcome, a.error?.code ?? null])).toEqual([
        [1, 'retry', 'ERR_WORKER_LOST'],
        [2, 'succeeded', null],
      ])
      // The rescue recorded the lost attempt, then the run waited its 800 ms before the next one.
      expect(done.attempts[1]!.startedAt.getTime() - done.attempts[0]!.finishedAt.getTime()).toBeGreaterThanOrEqual(800)
      expect(starts).toHaveLength(2)
    })

    it('never holds runs ahead with prefetch 0', async () => {
      const { started, quick, blocking } = scenario()
      const watched = observed(backend.store())
      const engine = engineWith({ tasks: [quick, blocking], store: watched.store, leaseMs: 300 })
      await engine.enqueueMany(quick, Array.from({ length: 50 }, () => ({})), { priority: 1 })
      await engine.enqueueMany(blocking, Array.from({ length: 4 }, () => ({})))
      await engine.start({ concurrency: 1, prefetch: 0 })
      await vi.waitFor(() => expect(started).toHaveLength(1))
      // Three heartbeats later the worker still holds just the run it executes.
      const from = watched.renewals.length
      await moreCalls(watched, 'renewLeases', 3)
      const held = watched.renewals.slice(from).map((leases) => leases.map((l) => l.id))
      expect(held.length).toBeGreaterThanOrEqual(3)
      for (const ids of held) expect(ids).toEqual(started)
      expect((await aheadOf(engine)).length).toBe(1)
    })
  })

  describe('a last attempt starts only once its start is stored', () => {
    /** A store whose batches carrying starts wait until the test opens the gate; everything else passes. */
    function startGate(store: Store): { store: Store; waiting: () => number; open(): void } {
      let opened = false
      let waiting = 0
      let open: () => void = () => undefined
      const gate = new Promise<void>((resolve) => (open = resolve))
      const proxy = new Proxy(store, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver)
          if (typeof value !== 'function') return value
          if (key !== 'writeBatch') return (value as (...args: unknown[]) => unknown).bind(target)
          return async (batch: WriteBatch) => {
            if (!opened && (batch.starts?.length ?? 0) > 0) {
              waiting++
              await gate
            }
            return target.writeBatch(batch)
          }
        },
      })
      return {
        store: proxy,
        waiting: () => waiting,
        open: () => {
          opened = true
          open()
        },
      }
    }

    /** A worker taking a run on its last attempt, held where its start is being stored. */
    async function startBeingStored(): Promise<{ engine: Engine; run: Run; called: string[]; gated: ReturnType<typeof startGate> }> {
      const called: string[] = []
      const gated = startGate(backend.store())
      const engine = engineWith({ tasks: [defineTask({ key: 'once', maxAttempts: 1, run: (ctx) => void called.push(ctx.runId) })], store: gated.store })
      const run = await engine.enqueue('once', {})
      await engine.start()
      await vi.waitFor(() => expect(gated.waiting()).toBe(1))
      return { engine, run, called, gated }
    }

    it('a cancel that arrives while the start is being stored ends the run cancelled; the handler never runs', async () => {
      const { engine, run, called, gated } = await startBeingStored()
      expect(await engine.getRun(run.id)).toMatchObject({ status: 'running', startedAt: null })
      await engine.cancel(run.id, 'changed my mind')
      gated.open()
      const cancelled = await runReaches(engine, run.id, 'cancelled')
      expect(cancelled).toMatchObject({ attempt: 0, attempts: [], error: { code: 'ERR_CANCELLED' } })
      expect(called).toEqual([])
    })

    it('a stop while the start is being stored hands the run back unspent; the handler never runs', async () => {
      const { engine, run, called, gated } = await startBeingStored()
      const stopping = engine.stop({ graceMs: 10_000 })
      gated.open()
      await stopping
      expect(await engine.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 0, attempts: [], startedAt: null, workerId: null })
      expect(called).toEqual([])
    })
  })
}
