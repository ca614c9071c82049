/** Dashboard counts: runs by status and queue, and finished runs per time bucket, from partial indexes. */
import type { StoreStats, ThroughputBucket } from '../contract/admin.js'
import { bucketsFrom, statsFrom, type LeasedRow, type PendingRow } from '../sql/stats-rows.js'
import type { SqliteConnection } from './connection.js'

/**
 * The condition of the runs_failed index (migration 17), word for word: SQLite uses a partial index
 * only for a query whose WHERE holds each of its terms (`status = 'failed'` alone does not).
 */
export const FAILED_RUNS = `status IN ('failed', 'cancelled') AND finished_at IS NOT NULL AND deleted_at IS NULL`

/** Run counts by status and queue; `now` decides which pending runs are due. */
export function stats(db: SqliteConnection, now: number): StoreStats {
  // Index reads instead of a scan of every run: pending runs from runs_pending, running and
  // waiting ones from runs_leased, and the finished ones from runs_finished and runs_failed.
  const pending = db
    .stmt(
      `SELECT queue, count(*) AS n, min(CASE WHEN run_at <= ? THEN run_at END) AS oldest, min(run_at) AS next FROM runs INDEXED BY runs_pending WHERE status = 'pending' GROUP BY queue`,
    )
    .all(now) as PendingRow[]
  const leased = db
    .stmt(`SELECT queue, status, deleted_at IS NULL AS live, count(*) AS n FROM runs INDEXED BY runs_leased WHERE status IN ('running', 'waiting') GROUP BY queue, status, live`)
    .all() as LeasedRow[]
  // Finished runs: all of them counted on runs_finished without reading a column, the failed and
  // cancelled ones on runs_failed; the rest succeeded (a run has a finish time exactly when its
  // status is final). Reading each finished run's status took five times as long.
  const [finished, failed, cancelled] = db
    .raw(
      `SELECT (SELECT count(*) FROM runs INDEXED BY runs_finished WHERE finished_at IS NOT NULL AND deleted_at IS NULL),
              (SELECT count(*) FROM runs INDEXED BY runs_failed WHERE ${FAILED_RUNS} AND status = 'failed'),
              (SELECT count(*) FROM runs INDEXED BY runs_failed WHERE ${FAILED_RUNS} AND status = 'cancelled')`,
    )
    .get() as [number, number, number]
  return statsFrom(pending, leased, { succeeded: Math.max(0, finished - failed - cancelled), failed, cancelled })
}

/** Finished runs per `bucketMs` from `since` to `until`. */
export function throughput(db: SqliteConnection, since: number, until: number, bucketMs: number): ThroughputBucket[] {
  // One range of runs_finished per bucket (a GROUP BY over the window would sort every run in it).
  const rows = db
    .raw(
      `WITH RECURSIVE b(i, lo, hi) AS (SELECT 0, @since, @since + @bucket UNION ALL SELECT i + 1, hi, hi + @bucket FROM b WHERE hi < @until)
       SELECT i, (SELECT json_array(sum(status = 'succeeded'), sum(status = 'failed'), sum(status = 'cancelled')) FROM runs INDEXED BY runs_finished
                  WHERE finished_at >= lo AND finished_at < min(hi, @until) AND deleted_at IS NULL) FROM b`,
    )
    .all({ since, until, bucket: bucketMs }) as [number, string][]
  const counts: { b: number; status: string; n: number }[] = []
  for (const [b, sums] of rows) {
    const [succeeded, failed, cancelled] = JSON.parse(sums) as (number | null)[]
    if (succeeded) counts.push({ b, status: 'succeeded', n: succeeded })
    if (failed) counts.push({ b, status: 'failed', n: failed })
    if (cancelled) counts.push({ b, status: 'cancelled', n: cancelled })
  }
  return bucketsFrom(counts, since, until, bucketMs)
}
