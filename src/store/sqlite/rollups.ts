/**
 * Rollups on SQLite: the fold reads the runs finished in its window through `runs_finished`
 * outside any write transaction (a WAL reader holds no lock), then writes the rows and moves the
 * watermark in one IMMEDIATE transaction that first checks the watermark is still the one it
 * started from, so workers claiming and completing wait for the inserts only, and two processes
 * folding at once never fold a minute twice.
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
import type { SqliteConnection } from './connection.js'
import { FAILED_RUNS } from './stats.js'

/** The bucket of a value in ms: 0 up to 1 ms, else ceil(log2(ms) * 4) (`rollup-histogram.ts`). */
const bucket = (ms: string): string => `CASE WHEN started_at IS NULL THEN NULL WHEN ${ms} <= 1 THEN 0 ELSE CAST(ceil(log2(${ms}) * 4) AS INTEGER) END`

/** Finished runs grouped by minute, task, queue, status and histogram buckets. */
const FOLD_SQL = `SELECT (finished_at / 60000) * 60000 AS minute, task, queue, status,
    ${bucket('(finished_at - started_at)')} AS db, ${bucket('(started_at - run_at)')} AS wb,
    count(*) AS n, sum(max(attempt - attempt_base - 1, 0)) AS retries,
    max(finished_at - started_at) AS dmax, max(started_at - run_at) AS wmax,
    sum(finished_at - started_at) AS dsum, sum(max(started_at - run_at, 0)) AS wsum
  FROM runs INDEXED BY runs_finished
  WHERE finished_at >= @start AND finished_at < @end AND deleted_at IS NULL
  GROUP BY minute, task, queue, status, db, wb`

const watermark = (db: SqliteConnection): number | null => db.stmt('SELECT folded_until FROM rollup_state WHERE id = 1').pluck().get() as number | null

/** Rollup rows of the runs finished in [start, end). */
function foldRows(db: SqliteConnection, start: number, end: number): RollupRow[] {
  return rollupsFrom(db.stmt(FOLD_SQL).all({ start, end }) as FoldRow[])
}

/** A rollup row's statement parameters. */
const bind = (r: RollupRow) => ({
  minute: r.minute,
  task: r.task,
  queue: r.queue,
  succeeded: r.succeeded,
  failed: r.failed,
  cancelled: r.cancelled,
  retries: r.retries,
  dh: JSON.stringify(r.duration.counts),
  dsum: r.duration.sum,
  dmax: r.duration.max,
  wh: JSON.stringify(r.wait.counts),
  wsum: r.wait.sum,
  wmax: r.wait.max,
})

/** Folds the closed minutes after the watermark; see {@link RollupStore.foldRollups}. */
export function foldRollups(db: SqliteConnection, until: number, floor: number, maxMs: number): RollupFold {
  const from = watermark(db)
  const window = foldWindow(from, until, floor)
  if (window === null) return { from, to: from, rows: 0 }
  const first = db.stmt('SELECT min(finished_at) FROM runs INDEXED BY runs_finished WHERE finished_at >= ? AND deleted_at IS NULL').pluck().get(window.start) as number | null
  const { start, end } = skipIdle(window, first, maxMs)
  const rows = start < end ? foldRows(db, start, end) : []
  return db.write(() => {
    // Another process folded meanwhile: its rows stand, these are dropped.
    if (watermark(db) !== from) return { from, to: watermark(db), rows: 0 }
    const insert = db.stmt(
      `INSERT INTO run_rollups (minute, task, queue, succeeded, failed, cancelled, retries, duration_hist, duration_sum, duration_max, wait_hist, wait_sum, wait_max)
       VALUES (@minute, @task, @queue, @succeeded, @failed, @cancelled, @retries, @dh, @dsum, @dmax, @wh, @wsum, @wmax)`,
    )
    for (const r of rows) insert.run(bind(r))
    // The hours these minutes are in, with what earlier folds stored of them.
    const existing = db.stmt('SELECT hour AS minute, * FROM run_rollups_hourly WHERE hour = ? AND task = ? AND queue = ?')
    const hours = rollupsPer(ROLLUP_HOUR_MS, rows)
    const stored = hours.flatMap((h) => (existing.all(h.minute, h.task, h.queue) as (StoredTotalsRow & { minute: number; task: string; queue: string })[]).map(rollupOfStored))
    const upsert = db.stmt(
      `INSERT OR REPLACE INTO run_rollups_hourly (hour, task, queue, succeeded, failed, cancelled, retries, duration_hist, duration_sum, duration_max, wait_hist, wait_sum, wait_max)
       VALUES (@minute, @task, @queue, @succeeded, @failed, @cancelled, @retries, @dh, @dsum, @dmax, @wh, @wsum, @wmax)`,
    )
    for (const h of rollupsPer(ROLLUP_HOUR_MS, hours, stored)) upsert.run(bind(h))
    db.stmt('UPDATE rollup_state SET folded_until = ? WHERE id = 1').run(end)
    return { from, to: end, rows: rows.length }
  })
}

/** Finished runs per bucket over a range; see {@link RollupStore.readRollups}. */
export function readRollups(db: SqliteConnection, query: RollupQuery): RollupReport {
  const foldedUntil = watermark(db)
  const cut = rollupCut(query, foldedUntil)
  const task = query.task === undefined ? '' : ' AND task = @task'
  const counts: { b: number; succeeded: number; failed: number; cancelled: number }[] = []
  const totals: StoredTotalsRow[] = []
  for (const range of storedRanges(query, cut)) {
    const [table, at] = range.hourly ? ['run_rollups_hourly', 'hour'] : ['run_rollups', 'minute']
    const params = { since: query.since, from: range.from, to: range.to, bucket: query.bucketMs, ...(query.task === undefined ? {} : { task: query.task }) }
    counts.push(
      ...(db
        .stmt(
          `SELECT (${at} - @since) / @bucket AS b, sum(succeeded) AS succeeded, sum(failed) AS failed, sum(cancelled) AS cancelled
           FROM ${table} WHERE ${at} >= @from AND ${at} < @to${task} GROUP BY b`,
        )
        .all(params) as { b: number; succeeded: number; failed: number; cancelled: number }[]),
    )
    if (query.totals !== true) continue
    const { bucket: _, since: __, ...rangeParams } = params
    totals.push(
      ...(db
        .stmt(
          `SELECT succeeded, failed, cancelled, retries, duration_hist, duration_sum, duration_max, wait_hist, wait_sum, wait_max
           FROM ${table} WHERE ${at} >= @from AND ${at} < @to${task}`,
        )
        .all(rangeParams) as StoredTotalsRow[]),
    )
  }
  const live = cut < query.until ? foldRows(db, cut, query.until) : []
  return rollupReport(query, foldedUntil, counts, totals, live)
}

/** Deletes rollup rows of minutes before `before`; returns how many. */
export function purgeRollups(db: SqliteConnection, before: number): number {
  return db.write(() => {
    // An hour goes once all of it is before the cut-off.
    db.stmt('DELETE FROM run_rollups_hourly WHERE hour + 3600000 <= ?').run(before)
    return db.stmt('DELETE FROM run_rollups WHERE minute < ?').run(before).changes
  })
}

/** The runs that finished last with `status`; see {@link RollupStore.recentlyFinished}. */
export function recentlyFinished(db: SqliteConnection, status: string, limit: number, createdBy: string | undefined): Run[] {
  // Failed and cancelled runs are in runs_failed by status, newest last: the page is the end of a range.
  const from = status === 'failed' || status === 'cancelled' ? `runs INDEXED BY runs_failed WHERE ${FAILED_RUNS}` : 'runs INDEXED BY runs_finished WHERE finished_at IS NOT NULL AND deleted_at IS NULL'
  const rows =
    createdBy === undefined
      ? db.stmt(`SELECT * FROM ${from} AND status = ? ORDER BY finished_at DESC LIMIT ?`).all(status, limit)
      : db.stmt(`SELECT * FROM ${from} AND status = ? AND created_by = ? ORDER BY finished_at DESC LIMIT ?`).all(status, createdBy, limit)
  return (rows as RunRow[]).map(toRun)
}
