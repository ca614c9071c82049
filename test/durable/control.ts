/** Control: cancel, retry and delete (from this process or another sharing the store), and a graceful stop. */
import { describe, expect, it, vi } from 'vitest'
import { ConflictError, NotFoundError, defineTask } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { blocking, moreCalls, observed, type DurableSuite } from './harness.js'

export function describeControl({ backend, engineWith }: DurableSuite): void {
  describe('control', () => {

    it('cancels a pending run at once and a running one through its signal', async () => {
      const { task, started, aborted } = blocking()
      const engine = engineWith({ tasks: [task] })
      const pending = await engine.enqueue(task, {}, { delayMs: 60_000 })
      await expect(engine.cancel(pending.id, 'x', { by: '' })).rejects.toThrow('options.by: expected a non-empty string of at most 200 characters, got "" (string)')
      expect(await engine.cancel(pending.id, 'not needed', { by: 'ada' })).toMatchObject({ status: 'cancelled', cancelReason: 'not needed', cancelledBy: 'ada' })
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
}
