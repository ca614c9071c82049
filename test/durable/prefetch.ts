/**
 * Runs claimed but not started: held ahead of free slots (prefetch), given back, left by a worker
 * that died; and a last attempt, which starts only once its start is stored.
 */
import { describe, expect, it, vi } from 'vitest'
import { defineTask, type Engine, type Run, type RunEvent } from '../../src/index.js'
import { LOCAL_TTL_MS } from '../../src/engine/durable/local-buffer.js'
import type { Store, WriteBatch } from '../../src/store/types.js'
import { runReaches } from '../helpers/runs.js'
import { moreCalls, observed, severable, type DurableSuite } from './harness.js'

export function describePrefetch({ backend, engineWith }: DurableSuite): void {
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

    it('a claim on its way when the worker stops: stop waits for its answer and hands its runs back unspent', async () => {
      // The worker's first claim takes the run in the store, but its answer is held until the
      // worker is stopping: the run is this worker's, and no handler may start it.
      const held = heldClaim(backend.store())
      const { quick } = scenario()
      const engine = engineWith({ tasks: [quick], store: held.store })
      const run = await engine.enqueue(quick, {})
      await engine.start({ concurrency: 1 })
      await held.taken
      expect(await engine.getRun(run.id)).toMatchObject({ status: 'running' })
      const stopping = engine.stop({ graceMs: 0 })
      // Before, the worker left at once (its row removed) with the claim still out: its runs came
      // back after it had gone, and their hand-back was written after its last drain, if ever.
      // Now nothing happens until the answer comes, so no event can end this wait: it is bounded.
      await Promise.race([held.removed, stopping, new Promise((resolve) => setTimeout(resolve, 500))])
      held.answer()
      await stopping
      expect(await engine.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 0, attempts: [], startedAt: null, workerId: null })
      await engine.close()
      expect(held.writesAfterRemoval(), 'writes after the worker row was removed').toBe(0)
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
        // Only the run that executed is announced: the others were never tried. (The rescue
        // announces it after its write commits: the store may show it a moment before.)
        await vi.waitFor(() => expect(events.filter((e) => e.type === 'retrying' || e.type === 'failed').map((e) => [e.runId, e.type])).toEqual([[started[0], maxAttempts === 1 ? 'failed' : 'retrying']]))
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
}

/**
 * A store whose first claim is made, but its answer held until `answer()`: `taken` resolves once
 * the claim has taken its runs in the store, `removed` once a worker row is removed; it counts
 * the writes made after that.
 */
function heldClaim(store: Store): { store: Store; taken: Promise<void>; removed: Promise<void>; answer(): void; writesAfterRemoval(): number } {
  let answer: () => void = () => undefined
  const answered = new Promise<void>((resolve) => (answer = resolve))
  let taken: () => void = () => undefined
  const tookRuns = new Promise<void>((resolve) => (taken = resolve))
  let removed: () => void = () => undefined
  const wasRemoved = new Promise<void>((resolve) => (removed = resolve))
  let first = true
  let gone = false
  let late = 0
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      if (key === 'removeWorker') {
        gone = true
        removed()
      }
      if (key === 'writeBatch' && gone) late++
      if (key !== 'claimRuns') return (value as (...args: unknown[]) => unknown).bind(target)
      return async (...args: Parameters<Store['claimRuns']>) => {
        const claimed = await target.claimRuns(...args)
        if (first && claimed.length > 0) {
          first = false
          taken()
          await answered
        }
        return claimed
      }
    },
  })
  return { store: proxy, taken: tookRuns, removed: wasRemoved, answer, writesAfterRemoval: () => late }
}

export function describeLastAttemptStart({ backend, engineWith }: DurableSuite): void {
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
