/** Dashboard counts: runs by status and queue, and finished runs per time bucket, as index scans. */
import type { StoreStats, ThroughputBucket } from '../contract/admin.js'
import { bucketsFrom, statsFrom, type LeasedRow, type PendingRow } from '../sql/stats-rows.js'
import type { PostgresConnection } from './connection.js'

/** Run counts by status and queue; `now` decides which pending runs are due. */
export async function stats(conn: PostgresConnection, now: number): Promise<StoreStats> {
  const db = await conn.db()
  const t = conn.tables
  // Index reads instead of a scan of every run: pending runs (never deleted: deleting a pending
  // run cancels it), running and waiting ones, and an index-only scan of the finished ones.
  const [pending, leased, finished] = await Promise.all([
    conn.query<PendingRow>(
      db,
      `SELECT queue, count(*) AS n, min(CASE WHEN run_at <= $1 THEN run_at END) AS oldest, min(run_at) AS next FROM ${t.runs} WHERE status = 'pending' GROUP BY queue`,
      [now],
    ),
    conn.query<LeasedRow>(db, `SELECT queue, status, deleted_at IS NULL AS live, count(*) AS n FROM ${t.runs} WHERE status IN ('running', 'waiting') GROUP BY queue, status, live`, []),
    conn.query<{ succeeded: number; failed: number; cancelled: number }>(
      db,
      `SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded, count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled
         FROM ${t.runs} WHERE finished_at IS NOT NULL AND deleted_at IS NULL`,
      [],
    ),
  ])
  return statsFrom(pending, leased, {
    succeeded: Number(finished[0]?.succeeded ?? 0),
    failed: Number(finished[0]?.failed ?? 0),
    cancelled: Number(finished[0]?.cancelled ?? 0),
  })
}

/** Finished runs per `bucketMs` from `since` to `until`. */
export async function throughput(conn: PostgresConnection, since: number, until: number, bucketMs: number): Promise<ThroughputBucket[]> {
  const db = await conn.db()
  // An index-only range scan of runs_finished, hashed per bucket. BIGINT division truncates,
  // which is floor here: finished_at >= since.
  const rows = await conn.query<{ b: number; succeeded: number; failed: number; cancelled: number }>(
    db,
    `SELECT (finished_at - $1::int8) / $3::int8 AS b, count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status = 'failed') AS failed, count(*) FILTER (WHERE status = 'cancelled') AS cancelled
       FROM ${conn.tables.runs} WHERE finished_at >= $1::int8 AND finished_at < $2::int8 AND deleted_at IS NULL GROUP BY b`,
    [since, until, bucketMs],
  )
  const counts = rows.flatMap((row) =>
    (['succeeded', 'failed', 'cancelled'] as const).filter((status) => Number(row[status]) > 0).map((status) => ({ b: row.b, status, n: row[status] })),
  )
  return bucketsFrom(counts, since, until, bucketMs)
}
