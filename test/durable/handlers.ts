/** A running handler: its progress throttled to the store, failing hooks, a lease lost or kept by heartbeat. */
import { describe, expect, it, vi } from 'vitest'
import { LeaseLostError, defineTask } from '../../src/index.js'
import { rescueExpiredRuns } from '../../src/engine/durable/rescuer.js'
import { TaskRegistry } from '../../src/task/registry.js'
import { runReaches } from '../helpers/runs.js'
import { observed, type DurableSuite } from './harness.js'

export function describeRunningHandlers({ backend, engineWith }: DurableSuite): void {
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
      // The handler ends after nine heartbeats (one every 100 ms): three times its 300 ms lease.
      const watched = observed(backend.store())
      const long = defineTask({ key: 'long', run: () => watched.more('renewLeases', 9).then(() => 'outlived its lease three times') })
      const engine = engineWith({ tasks: [long], store: watched.store, leaseMs: 300 })
      await engine.start()
      const run = await engine.enqueue(long, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done).toMatchObject({ data: 'outlived its lease three times', attempt: 1 })
      expect(done.attempts.map((a) => [a.outcome, a.error])).toEqual([['succeeded', null]])
    })
  })
}
