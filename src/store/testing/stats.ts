/** Dashboard counts: runs by status and queue, finished runs per time bucket. */
import { describe, expect, it } from 'vitest'
import type { Completion } from '../contract/queue.js'
import { T0, newRun, claimRequest, completion, EMPTY_BATCH } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Dashboard counts. */
export function describeStats(suite: SuiteContext): void {
  describe('stats', () => {
    it('counts runs by status and queue, with the oldest due pending run, and finished runs per bucket', async () => {
      await suite.store.insertRuns([newRun({ queue: 'a', runAt: T0 - 5000 }), newRun({ queue: 'a', runAt: T0 + 1e6 }), newRun({ queue: 'b', runAt: T0 - 100 })])
      const claimed = await suite.store.claimRuns(claimRequest({ limit: 1, queues: ['b'] }))
      await suite.store.insertRuns([newRun({ queue: 'b' }), newRun({ queue: 'c' })])
      const [done] = await suite.store.claimRuns(claimRequest({ limit: 1, queues: ['c'] }))
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(done!, done!.token, { finishedAt: T0 + 90_000 })] })
      const stats = await suite.store.stats(T0)
      expect(stats.statuses).toEqual({ pending: 3, running: 1, waiting: 0, succeeded: 1, failed: 0, cancelled: 0 })
      expect(stats.queues).toEqual([
        { queue: 'a', pending: 2, running: 0, oldestPendingAt: new Date(T0 - 5000), nextDueAt: new Date(T0 - 5000) },
        { queue: 'b', pending: 1, running: 1, oldestPendingAt: new Date(T0), nextDueAt: new Date(T0) },
      ])
      expect(claimed).toHaveLength(1)
      const buckets = await suite.store.throughput(T0, T0 + 180_000, 60_000)
      expect(buckets).toEqual([
        { start: new Date(T0), succeeded: 0, failed: 0, cancelled: 0 },
        { start: new Date(T0 + 60_000), succeeded: 1, failed: 0, cancelled: 0 },
        { start: new Date(T0 + 120_000), succeeded: 0, failed: 0, cancelled: 0 },
      ])
    })
  })

  describe('stats of finished runs', () => {
    it('counts every status, leaves deleted runs out of counts and throughput, and buckets each finished run once', async () => {
      const rows = Array.from({ length: 8 }, () => newRun())
      await suite.store.insertRuns(rows)
      const claimed = await suite.store.claimRuns(claimRequest({ limit: 8 }))
      const outcomes: [Completion['status'], number][] = [
        ['succeeded', T0 + 10],
        ['succeeded', T0 + 59_999],
        ['failed', T0 + 60_000],
        ['cancelled', T0 + 61_000],
        ['succeeded', T0 + 150_000],
        ['succeeded', T0 + 10],
      ]
      await suite.store.writeBatch({
        ...EMPTY_BATCH,
        completions: outcomes.map(([status, finishedAt], i) =>
          completion(claimed[i]!, claimed[i]!.token, status === 'succeeded' ? { status, finishedAt } : { status, finishedAt, data: undefined, error: { message: 'x', code: 'E', name: 'Error' } }),
        ),
      })
      // One still runs, one waits on a pool, one finished run is deleted.
      await suite.store.writeBatch({ ...EMPTY_BATCH, waits: [{ id: claimed[7]!.id, token: claimed[7]!.token, waiting: true }] })
      await suite.store.deleteRun(claimed[5]!.id, T0 + 20)
      await suite.store.insertRuns([newRun({ runAt: T0 + 1e9 })])
      const stats = await suite.store.stats(T0)
      expect(stats.statuses).toEqual({ pending: 1, running: 1, waiting: 1, succeeded: 3, failed: 1, cancelled: 1 })
      expect(stats.queues).toEqual([{ queue: 'default', pending: 1, running: 2, oldestPendingAt: null, nextDueAt: new Date(T0 + 1e9) }])
      expect(await suite.store.throughput(T0, T0 + 150_000, 60_000)).toEqual([
        { start: new Date(T0), succeeded: 2, failed: 0, cancelled: 0 },
        { start: new Date(T0 + 60_000), succeeded: 0, failed: 1, cancelled: 1 },
        // The last bucket ends at `until`: a run finished at `until` is not in it.
        { start: new Date(T0 + 120_000), succeeded: 0, failed: 0, cancelled: 0 },
      ])
      expect(await suite.store.throughput(T0 + 60_000, T0 + 60_000, 60_000)).toEqual([])
      expect((await suite.store.throughput(T0 - 600_000, T0 + 600_000, 1000)).reduce((n, b) => n + b.succeeded + b.failed + b.cancelled, 0)).toBe(5)
    })
  })
}
