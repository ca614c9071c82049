/**
 * Rollups on PostgreSQL: a fold is one transaction that locks the watermark's row (a second
 * folder waits, then finds the minutes folded), reads the runs finished in its window by the
 * `runs_finished` index, inserts the rows and moves the watermark. Claims and completions never
 * touch that row, so the fold does not hold them up.
 */
import type { Run } from '../contract/runs.js'
import type { RollupFold, RollupQuery, RollupReport } from '../contract/rollups.js'
import {
  foldWindow,
  rollupCut,
  rollupOfStored,
  rollupReport,
  rollupsFrom,
  rollupsPer,
  ROLLUP_HOUR_MS,
  skipIdle,
  storedRanges,
  type FoldRow,
  type RollupRow,
  type StoredTotalsRow,
} from '../sql/rollup-rows.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import { TYPES, type PostgresConnection, type Queryable } from './connection.js'
import { RUN_COLUMNS } from './dialect.js'

/** The bucket of a value in ms: 0 up to 1 ms, else ceil(log2(ms) * 4), in numeric (exact at powers of two, as C's log2). */
const bucket = (ms: string): string => `CASE WHEN started_at IS NULL THEN NULL WHEN ${ms} <= 1 THEN 0 ELSE ceil(log(2, (${ms})::numeric) * 4)::int END`

const foldSql = (runs: string): string => `SELECT (finished_at / 60000) * 60000 AS minute, task, queue, status,
    ${bucket('finished_at - started_at')} AS db, ${bucket('started_at - run_at')} AS wb,
    count(*) AS n, sum(greatest(attempt - attempt_base - 1, 0)) AS retries,
    max(finished_at - started_at) AS dmax, max(started_at - run_at) AS wmax,
    sum(finished_at - started_at) AS dsum, sum(greatest(started_at - run_at, 0)) AS wsum
  FROM ${runs}
  WHERE finished_at >= $1::int8 AND finished_at < $2::int8 AND deleted_at IS NULL
  GROUP BY 1, 2, 3, 4, 5, 6`

/** An insert of rollup rows sent as parallel arrays ({@link columns}). */
const insertSql = (table: string, at: string, onConflict: string): string =>
  `INSERT INTO ${table} (${at}, task, queue, succeeded, failed, cancelled, retries, duration_hist, duration_sum, duration_max, wait_hist, wait_sum, wait_max)
   SELECT m, k, q, s, f, c, r, dh::json, ds, dm, wh::json, ws, wm
   FROM unnest($1::int8[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[], $8::text[], $9::int8[], $10::int8[], $11::text[], $12::int8[], $13::int8[])
     AS u(m, k, q, s, f, c, r, dh, ds, dm, wh, ws, wm) ${onConflict}`

/** Rollup rows as the parallel arrays of {@link insertSql}. */
const columns = (rows: readonly RollupRow[]): unknown[] => [
  rows.map((r) => r.minute),
  rows.map((r) => r.task),
  rows.map((r) => r.queue),
  rows.map((r) => r.succeeded),
  rows.map((r) => r.failed),
  rows.map((r) => r.cancelled),
  rows.map((r) => r.retries),
  rows.map((r) => JSON.stringify(r.duration.counts)),
  rows.map((r) => r.duration.sum),
  rows.map((r) => r.duration.max),
  rows.map((r) => JSON.stringify(r.wait.counts)),
  rows.map((r) => r.wait.sum),
  rows.map((r) => r.wait.max),
]

async function foldRows(conn: PostgresConnection, db: Queryable, start: number, end: number): Promise<RollupRow[]> {
  return rollupsFrom(await conn.query<FoldRow>(db, foldSql(conn.tables.runs), [start, end]))
}

/** Folds the closed minutes after the watermark; see {@link RollupStore.foldRollups}. */
export async function foldRollups(conn: PostgresConnection, until: number, floor: number, maxMs: number): Promise<RollupFold> {
  await conn.db()
  const t = conn.tables
  return conn.transaction(async (client) => {
    const [state] = await conn.query<{ folded_until: number | null }>(client, `SELECT folded_until FROM ${t.rollupState} WHERE id = 1 FOR UPDATE`, [])
    const from = state?.folded_until ?? null
    const window = foldWindow(from, until, floor)
    if (window === null) return { from, to: from, rows: 0 }
    const [first] = await conn.query<{ first: number | null }>(
      client,
      `SELECT min(finished_at) AS first FROM ${t.runs} WHERE finished_at >= $1::int8 AND deleted_at IS NULL`,
      [window.start],
    )
    const { start, end } = skipIdle(window, first?.first ?? null, maxMs)
    const rows = start < end ? await foldRows(conn, client, start, end) : []
    if (rows.length > 0) {
      await client.query({ text: insertSql(t.rollups, 'minute', ''), values: columns(rows) })
      // The hours these minutes are in, with what earlier folds stored of them.
      const hours = rollupsPer(ROLLUP_HOUR_MS, rows)
      const { rows: stored } = await client.query<StoredTotalsRow & { minute: number; task: string; queue: string }>({
        text: `SELECT h.hour AS minute, h.task, h.queue, succeeded, failed, cancelled, retries, duration_hist, duration_sum, duration_max, wait_hist, wait_sum, wait_max
               FROM ${t.rollupsHourly} h JOIN unnest($1::int8[], $2::text[], $3::text[]) AS k(hour, task, queue) USING (hour, task, queue)`,
        values: [hours.map((h) => h.minute), hours.map((h) => h.task), hours.map((h) => h.queue)],
        types: TYPES,
      })
      const merged = rollupsPer(ROLLUP_HOUR_MS, hours, stored.map(rollupOfStored))
      await client.query({
        text: insertSql(
          t.rollupsHourly,
          'hour',
          `ON CONFLICT (hour, task, queue) DO UPDATE SET succeeded = excluded.succeeded, failed = excluded.failed, cancelled = excluded.cancelled, retries = excluded.retries,
             duration_hist = excluded.duration_hist, duration_sum = excluded.duration_sum, duration_max = excluded.duration_max,
             wait_hist = excluded.wait_hist, wait_sum = excluded.wait_sum, wait_max = excluded.wait_max`,
        ),
        values: columns(merged),
      })
    }
    await client.query({ text: `UPDATE ${t.rollupState} SET folded_until = $1 WHERE id = 1`, values: [end] })
    return { from, to: end, rows: rows.length }
  })
}

/** Finished runs per bucket over a range; see {@link RollupStore.readRollups}. */
export async function readRollups(conn: PostgresConnection, query: RollupQuery): Promise<RollupReport> {
  const db = await conn.db()
  const t = conn.tables
  const [state] = await conn.query<{ folded_until: number | null }>(db, `SELECT folded_until FROM ${t.rollupState} WHERE id = 1`, [])
  const foldedUntil = state?.folded_until ?? null
  const cut = rollupCut(query, foldedUntil)
  const taskParam = query.task === undefined ? [] : [query.task]
  const ranges = storedRanges(query, cut)
  const [stored, live] = await Promise.all([
    Promise.all(
      ranges.map(async (range) => {
        const [table, at] = range.hourly ? [t.rollupsHourly, 'hour'] : [t.rollups, 'minute']
        const [counts, totals] = await Promise.all([
          conn.query<{ b: number; succeeded: number; failed: number; cancelled: number }>(
            db,
            `SELECT (${at} - $4::int8) / $3::int8 AS b, sum(succeeded)::int8 AS succeeded, sum(failed)::int8 AS failed, sum(cancelled)::int8 AS cancelled
             FROM ${table} WHERE ${at} >= $1::int8 AND ${at} < $2::int8${query.task === undefined ? '' : ' AND task = $5'} GROUP BY 1`,
            [range.from, range.to, query.bucketMs, query.since, ...taskParam],
          ),
          query.totals === true
            ? conn.query<StoredTotalsRow>(
                db,
                `SELECT succeeded, failed, cancelled, retries, duration_hist, duration_sum, duration_max, wait_hist, wait_sum, wait_max
                 FROM ${table} WHERE ${at} >= $1::int8 AND ${at} < $2::int8${query.task === undefined ? '' : ' AND task = $3'}`,
                [range.from, range.to, ...taskParam],
              )
            : [],
        ])
        return { counts, totals }
      }),
    ),
    cut < query.until ? foldRows(conn, db, cut, query.until) : [],
  ])
  const counts = stored.flatMap((s) => s.counts)
  const totals = stored.flatMap((s) => s.totals)
  return rollupReport(query, foldedUntil, counts, totals, live)
}

/** Deletes rollup rows of minutes before `before`; returns how many. */
export async function purgeRollups(conn: PostgresConnection, before: number): Promise<number> {
  const db = await conn.db()
  // An hour goes once all of it is before the cut-off.
  await db.query({ text: `DELETE FROM ${conn.tables.rollupsHourly} WHERE hour + 3600000 <= $1`, values: [before] })
  const result = await db.query({ text: `DELETE FROM ${conn.tables.rollups} WHERE minute < $1`, values: [before] })
  return result.rowCount ?? 0
}

/** The runs that finished last with `status`; see {@link RollupStore.recentlyFinished}. */
export async function recentlyFinished(conn: PostgresConnection, status: string, limit: number, createdBy: string | undefined): Promise<Run[]> {
  const db = await conn.db()
  const t = conn.tables
  const rows =
    createdBy === undefined
      ? await conn.query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE finished_at IS NOT NULL AND deleted_at IS NULL AND status = $1 ORDER BY finished_at DESC LIMIT $2`, [status, limit])
      : await conn.query<RunRow>(
          db,
          `SELECT ${RUN_COLUMNS} FROM ${t.runs} WHERE finished_at IS NOT NULL AND deleted_at IS NULL AND status = $1 AND created_by = $2 ORDER BY finished_at DESC LIMIT $3`,
          [status, createdBy, limit],
        )
  return rows.map(toRun)
}
