/** Rollups: the fold of finished runs into per-minute rows, reads over ranges, purges, the latest finished runs. */
import { describe, expect, it } from 'vitest'
import type { Completion } from '../contract/queue.js'
import { histogramBucket, histogramPercentile } from '../rollup-histogram.js'
import { T0, newRun, claimRequest, completion, EMPTY_BATCH } from './fixtures.js'
import type { SuiteContext } from './suite.js'

const MIN = 60_000
const DAY = 86_400_000
const FAILED = { data: undefined, error: { message: 'x', code: 'E', name: 'Error' } }

/** Runs of `task` due at `runAt`, claimed at T0 (their start), finished as `outcomes` say. */
async function finish(suite: SuiteContext, outcomes: readonly [Completion['status'], number][], overrides: { task?: string; queue?: string; runAt?: number } = {}): Promise<string[]> {
  const rows = outcomes.map(() => newRun({ task: overrides.task ?? 'work', queue: overrides.queue ?? 'default', runAt: overrides.runAt ?? T0 }))
  await suite.store.insertRuns(rows)
  const claimed = await suite.store.claimRuns(claimRequest({ limit: rows.length, tasks: [overrides.task ?? 'work'], queues: [overrides.queue ?? 'default'] }))
  expect(claimed).toHaveLength(rows.length)
  await suite.store.writeBatch({
    ...EMPTY_BATCH,
    completions: outcomes.map(([status, finishedAt], i) => completion(claimed[i]!, claimed[i]!.token, status === 'succeeded' ? { status, finishedAt } : { status, finishedAt, ...FAILED })),
  })
  return claimed.map((c) => c.id)
}

/** Rollups. */
export function describeRollups(suite: SuiteContext): void {
  describe('rollups', () => {
    it('folds closed minutes once into counts and histograms, and reads ranges from rollups and, after the watermark, from the runs', async () => {
      // Due 4 s before T0, started at T0: waits of 4 s; durations 10 ms to 100 s.
      await finish(
        suite,
        [
          ['succeeded', T0 + 10],
          ['succeeded', T0 + 1000],
          ['failed', T0 + MIN + 5],
          ['cancelled', T0 + MIN + 100_000 - MIN],
          ['succeeded', T0 + 2 * MIN + 100_000],
        ],
        { runAt: T0 - 4000 },
      )
      await finish(suite, [['succeeded', T0 + 30]], { task: 'other', queue: 'mail' })
      const empty = await suite.store.readRollups({ since: T0, until: T0 + 5 * MIN, bucketMs: MIN, totals: true })
      expect(empty.foldedUntil).toBeNull()
      // Before any fold, the read comes from the runs alone.
      expect(empty.buckets.map((b) => [b.succeeded, b.failed, b.cancelled])).toEqual([
        [3, 0, 0],
        [0, 1, 1],
        [0, 0, 0],
        [1, 0, 0],
        [0, 0, 0],
      ])

      // Fold up to T0 + 2 min 30 s: the minutes T0 and T0 + 1 min close; the third stays open.
      const fold = await suite.store.foldRollups(T0 + 2 * MIN + 30_000, T0 - DAY, 3_600_000)
      expect(fold).toEqual({ from: null, to: T0 + 2 * MIN, rows: 3 })
      expect(await suite.store.foldRollups(T0 + 2 * MIN + 30_000, T0 - DAY, 3_600_000)).toEqual({ from: T0 + 2 * MIN, to: T0 + 2 * MIN, rows: 0 })
      const report = await suite.store.readRollups({ since: T0, until: T0 + 5 * MIN, bucketMs: MIN, totals: true })
      expect(report.foldedUntil).toBe(T0 + 2 * MIN)
      expect(report.buckets).toEqual(empty.buckets)
      expect(report.totals).toMatchObject({ succeeded: 4, failed: 1, cancelled: 1, retries: 0 })
      expect(report.totals).toEqual(empty.totals)
      const totals = report.totals!
      expect(totals.duration.max).toBe(220_000)
      expect(totals.duration.counts).toEqual({ [histogramBucket(10)]: 1, [histogramBucket(30)]: 1, [histogramBucket(1000)]: 1, [histogramBucket(60_005)]: 1, [histogramBucket(100_000)]: 1, [histogramBucket(220_000)]: 1 })
      expect(histogramPercentile(totals.duration, 50)).toBe(2 ** (histogramBucket(1000) / 4))
      expect(totals.wait).toEqual({ counts: { [histogramBucket(4000)]: 5, '0': 1 }, sum: 20_000, max: 4000 })
      expect(totals.duration.sum).toBe(10 + 1000 + 60_005 + 100_000 + 220_000 + 30)
      expect(histogramPercentile(totals.wait, 95)).toBe(4000)

      // One task; buckets of two minutes.
      const other = await suite.store.readRollups({ since: T0, until: T0 + 4 * MIN, bucketMs: 2 * MIN, task: 'other', totals: true })
      expect(other.buckets.map((b) => [b.start.getTime(), b.succeeded])).toEqual([
        [T0, 1],
        [T0 + 2 * MIN, 0],
      ])
      expect(other.totals).toMatchObject({ succeeded: 1, failed: 0, duration: { max: 30 } })

      // The rest folds later; the fold skips the idle stretch after it and moves on to `until`.
      expect(await suite.store.foldRollups(T0 + 60 * MIN, T0 - DAY, 3_600_000)).toEqual({ from: T0 + 2 * MIN, to: T0 + 60 * MIN, rows: 1 })
      const later = await suite.store.readRollups({ since: T0, until: T0 + 5 * MIN, bucketMs: MIN, totals: true })
      expect(later.buckets).toEqual(empty.buckets)
      expect(later.totals).toEqual(empty.totals)
      // Without totals, none are read.
      expect((await suite.store.readRollups({ since: T0, until: T0 + MIN, bucketMs: MIN })).totals).toBeNull()
    })

    it('counts retried attempts, starts at the floor, folds at most maxMs at a time, and folds racing each other count each run once', async () => {
      const rows = [newRun({ maxAttempts: 3 }), newRun({ maxAttempts: 3 })]
      await suite.store.insertRuns(rows)
      // A first attempt of each goes back to pending (a retry), then succeeds on the second.
      const first = await suite.store.claimRuns(claimRequest({ limit: 2 }))
      await suite.store.writeBatch({
        ...EMPTY_BATCH,
        completions: first.map((run) => completion(run, run.token, { status: 'pending', runAt: T0, ...FAILED })),
      })
      const second = await suite.store.claimRuns(claimRequest({ limit: 2 }))
      expect(second.map((r) => r.attempt)).toEqual([2, 2])
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: second.map((run, i) => completion(run, run.token, { finishedAt: T0 + i * 3 * MIN })) })
      await finish(suite, [['succeeded', T0 - 2 * DAY]])

      // The floor leaves out what finished before it; one minute at most per fold, two folds racing.
      let written = 0
      for (let round = 0; ; round++) {
        const folds = await Promise.all([suite.store.foldRollups(T0 + 10 * MIN, T0 - DAY, MIN), suite.store.foldRollups(T0 + 10 * MIN, T0 - DAY, MIN)])
        written += folds.reduce((n, f) => n + f.rows, 0)
        if (folds.every((f) => f.to === f.from)) break
        expect(round).toBeLessThan(20)
      }
      expect(written).toBe(2)
      const report = await suite.store.readRollups({ since: T0 - 3 * DAY, until: T0 + 10 * MIN, bucketMs: 60 * MIN, totals: true })
      expect(report.foldedUntil).toBe(T0 + 10 * MIN)
      // The run before the floor is read from the runs only where no rollup covers it: it was
      // skipped by the fold, and the range before the watermark comes from rollups.
      expect(report.totals).toMatchObject({ succeeded: 2, failed: 0, retries: 2 })
    })

    it('keeps hourly rollups that agree with the minutes, whole hours read from them, also when an hour is folded in parts', async () => {
      const HOUR = 60 * MIN
      await finish(suite, [
        ['succeeded', T0 + 10],
        ['failed', T0 + 40 * MIN],
        ['succeeded', T0 + HOUR + 5 * MIN],
        ['cancelled', T0 + 2 * HOUR + 50 * MIN],
      ])
      await finish(suite, [['succeeded', T0 + 20 * MIN]], { task: 'other', queue: 'mail' })
      // Half an hour per fold: each hour is folded in two parts, the second merged into the first.
      const folds: number[] = []
      for (;;) {
        const fold = await suite.store.foldRollups(T0 + 2 * HOUR + 30 * MIN, T0 - DAY, 30 * MIN)
        if (fold.to === fold.from) break
        folds.push(fold.to!)
      }
      expect(folds.at(-1)).toBe(T0 + 2 * HOUR + 30 * MIN)
      const query = { since: T0, until: T0 + 4 * HOUR, totals: true } as const
      const byHour = await suite.store.readRollups({ ...query, bucketMs: HOUR })
      const byMinute = await suite.store.readRollups({ ...query, bucketMs: MIN })
      expect(byHour.buckets.map((b) => [b.succeeded, b.failed, b.cancelled])).toEqual([
        [2, 1, 0],
        [1, 0, 0],
        [0, 0, 1],
        [0, 0, 0],
      ])
      expect(byHour.totals).toEqual(byMinute.totals)
      expect(byHour.totals).toMatchObject({ succeeded: 3, failed: 1, cancelled: 1 })
      const task = await suite.store.readRollups({ ...query, bucketMs: 2 * HOUR, task: 'work' })
      expect(task.buckets.map((b) => [b.succeeded, b.failed, b.cancelled])).toEqual([
        [2, 1, 0],
        [0, 0, 1],
      ])
      expect(task.totals?.duration.max).toBe(2 * HOUR + 50 * MIN)
    })

    it('purges rollup rows of minutes before a cut-off', async () => {
      await finish(suite, [
        ['succeeded', T0 + 10],
        ['succeeded', T0 + 5 * MIN],
      ])
      expect((await suite.store.foldRollups(T0 + 10 * MIN, T0 - DAY, 3_600_000)).rows).toBe(2)
      expect(await suite.store.purgeRollups(T0 + MIN)).toBe(1)
      expect(await suite.store.purgeRollups(T0 + MIN)).toBe(0)
      const report = await suite.store.readRollups({ since: T0, until: T0 + 10 * MIN, bucketMs: 10 * MIN, totals: true })
      expect(report.buckets[0]?.succeeded).toBe(1)
    })

    it('lists the runs that finished last with a status, newest finish first, one creator\'s when asked', async () => {
      const ids = await finish(suite, [
        ['failed', T0 + 300],
        ['failed', T0 + 100],
        ['succeeded', T0 + 400],
        ['failed', T0 + 200],
      ])
      const failed = await suite.store.recentlyFinished('failed', 2)
      expect(failed.map((r) => r.id)).toEqual([ids[0], ids[3]])
      expect(await suite.store.recentlyFinished('failed', 10, 'nobody')).toEqual([])
      await suite.store.deleteRun(ids[0]!, T0 + 500)
      expect((await suite.store.recentlyFinished('failed', 10)).map((r) => r.id)).toEqual([ids[3], ids[1]])
    })
  })
}
