/** Reads of runs: one by id, lists (filters shared: `../sql/run-filter.ts`), logs, a reusable result. */
import type { LogEntry } from '../../task/context.js'
import type { Run, RunFilter, RunPage } from '../contract/runs.js'
import { checkSortAndCursor, countSql, pageOf, runFilterSql, runOrderSql, type ScanWindow } from '../sql/run-filter.js'
import { toLogEntry, toRun, type LogRow, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'
import { namedBinder, SQLITE_DIALECT } from './dialect.js'

/** A run by id; a deleted one only with `includeDeleted`. */
export function getRun(db: SqliteConnection, id: string, options: { readonly includeDeleted?: boolean }): Run | undefined {
  const row = db.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
  if (row === undefined || (row.deleted_at !== null && options.includeDeleted !== true)) return undefined
  return toRun(row)
}

/** One page of runs, newest first (by `seq`, the insertion order) unless `sort` says otherwise. */
export function listRuns(db: SqliteConnection, filter: RunFilter): RunPage {
  checkSortAndCursor(filter)
  const scan = filter.scanLimit === undefined ? undefined : scanWindow(db, filter.before, filter.scanLimit)
  const { countWhere, countParams, where, params } = runFilterSql(filter, SQLITE_DIALECT, namedBinder(), scan?.window)
  const { page, pageSize, offset } = pageOf(filter)
  const rows = db.stmt(`SELECT * FROM runs ${where} ORDER BY ${runOrderSql(filter.sort, 'seq')} LIMIT @limit OFFSET @offset`).all({ ...params, limit: pageSize, offset }) as RunRow[]
  // A page that ends the list (short, and not past the end) tells the total: a search matching a
  // few runs reads the table once instead of twice. With a cursor the count (which has none) would differ, but not in a window below it.
  const ends = (filter.before === undefined || scan !== undefined) && rows.length < pageSize && (rows.length > 0 || offset === 0) && offset + rows.length < (filter.countLimit ?? Infinity)
  const total = filter.count === false ? -1 : ends ? offset + rows.length : (db.stmt(countSql('runs', countWhere, filter.countLimit)).get(countParams) as { n: number }).n
  return {
    data: rows.map(toRun),
    total,
    page,
    pageSize,
    ...(filter.countLimit !== undefined && total >= filter.countLimit ? { totalCapped: true } : {}),
    ...(scan?.scanBefore === undefined ? {} : { scanBefore: scan.scanBefore }),
  }
}

/**
 * The `seq` range a `scanLimit` examines: the `limit` values of `seq` below the cursor's run (or
 * the newest), and the oldest run in it (`scanBefore`) when older ones are left. A range of
 * `seq`, not a count of rows: the table is read by rowid from its top, without an index, and
 * deleted rows leave gaps that only make the slice smaller.
 */
function scanWindow(db: SqliteConnection, before: string | undefined, limit: number): { readonly window: ScanWindow; readonly scanBefore: string | undefined } {
  const top = db
    .stmt('SELECT CASE WHEN @id IS NULL THEN max(seq) + 1 ELSE coalesce((SELECT seq FROM runs WHERE id = @id), (SELECT min(seq) FROM runs WHERE id > @id), max(seq) + 1) END FROM runs')
    .pluck()
    .get({ id: before ?? null }) as number | null
  const from = (top ?? 1) - limit
  // The oldest run of the slice, when a run older than the slice is left to go on with.
  const scanBefore =
    (db.stmt('SELECT (SELECT id FROM runs WHERE seq >= @from ORDER BY seq LIMIT 1) WHERE EXISTS (SELECT 1 FROM runs WHERE seq < @from)').pluck().get({ from }) as string | null | undefined) ?? undefined
  return { window: { column: 'seq', from: scanBefore === undefined ? undefined : from, below: before === undefined ? undefined : (top ?? undefined) }, scanBefore }
}

/** Log lines of a run after `after`, oldest first. */
export function getLogs(db: SqliteConnection, runId: string, after: number, limit: number): LogEntry[] {
  const rows = db.stmt('SELECT seq, time, level, message FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(runId, after, limit) as LogRow[]
  return rows.map(toLogEntry)
}

/** The newest success of `task` with `argsHash` since `since`. */
export function findReusable(db: SqliteConnection, task: string, argsHash: string, since: number): Run | undefined {
  const row = db
    .stmt(
      `SELECT * FROM runs WHERE task = ? AND args_hash = ? AND status = 'succeeded' AND finished_at >= ? AND deleted_at IS NULL
       ORDER BY finished_at DESC LIMIT 1`,
    )
    .get(task, argsHash, since) as RunRow | undefined
  return row === undefined ? undefined : toRun(row)
}
