/** Reads of runs: one by id, lists (filters shared: `../sql/run-filter.ts`), logs, a reusable result. */
import type { LogEntry } from '../../task/context.js'
import type { Run, RunFilter, RunPage } from '../contract/runs.js'
import { checkSortAndCursor, countSql, pageOf, runFilterSql, runOrderSql, type ScanWindow } from '../sql/run-filter.js'
import { toLogEntry, toRun, type LogRow, type RunRow } from '../sql/run-rows.js'
import { TYPES, type PostgresConnection } from './connection.js'
import { positionalBinder, RUN_COLUMNS } from './dialect.js'

/** A run by id; a deleted one only with `includeDeleted`. */
export async function getRun(conn: PostgresConnection, id: string, options: { readonly includeDeleted?: boolean }): Promise<Run | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${conn.tables.runs} WHERE id = $1`, [id])
  if (row === undefined || (row.deleted_at !== null && options.includeDeleted !== true)) return undefined
  return toRun(row)
}

/**
 * One page of runs, newest first (by id: UUIDv7). Lists filtered by status or task walk the
 * primary key newest first (there is no index on either, see migration 1). The SQL varies with
 * the filter, so it is sent unnamed.
 */
export async function listRuns(conn: PostgresConnection, filter: RunFilter): Promise<RunPage> {
  checkSortAndCursor(filter)
  const db = await conn.db()
  const window = filter.scanLimit === undefined ? undefined : await scanWindow(conn, filter.before, filter.scanLimit)
  const { countWhere, countParams, where, params } = runFilterSql(filter, conn.dialect, positionalBinder(), window)
  const { page, pageSize, offset } = pageOf(filter)
  const [count, rows] = await Promise.all([
    filter.count === false ? undefined : db.query<{ n: number }>({ text: countSql(conn.tables.runs, countWhere, filter.countLimit), values: countParams, types: TYPES }),
    db.query<RunRow>({ text: `SELECT ${RUN_COLUMNS} FROM ${conn.tables.runs} ${where} ORDER BY ${runOrderSql(filter.sort, 'id')} LIMIT ${pageSize} OFFSET ${offset}`, values: params, types: TYPES }),
  ])
  const total = count === undefined ? -1 : Number(count.rows[0]?.n ?? 0)
  return {
    data: rows.rows.map(toRun),
    total,
    page,
    pageSize,
    ...(filter.countLimit !== undefined && total >= filter.countLimit ? { totalCapped: true } : {}),
    ...(window?.from === undefined ? {} : { scanBefore: window.from as string }),
  }
}

/**
 * The ids a `scanLimit` examines: the `limit` newest below the cursor (or the newest), found on the
 * primary key alone; `from` (the oldest of them) is left out when no older run is left.
 */
async function scanWindow(conn: PostgresConnection, before: string | undefined, limit: number): Promise<ScanWindow> {
  const runs = conn.tables.runs
  const [row] = await conn.query<{ from: string | null; older: boolean }>(
    await conn.db(),
    `WITH edge AS (SELECT id FROM ${runs} WHERE $1::text IS NULL OR id < $1 ORDER BY id DESC OFFSET $2::bigint - 1 LIMIT 1)
     SELECT (SELECT id FROM edge) AS from, EXISTS (SELECT 1 FROM ${runs} WHERE id < (SELECT id FROM edge)) AS older`,
    [before ?? null, limit],
  )
  return { column: 'id', from: row?.older === true ? (row.from ?? undefined) : undefined, below: before }
}

/** Log lines of a run after `after`, oldest first. */
export async function getLogs(conn: PostgresConnection, runId: string, after: number, limit: number): Promise<LogEntry[]> {
  const db = await conn.db()
  const rows = await conn.query<LogRow>(db, `SELECT seq, time, level, message FROM ${conn.tables.logs} WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [runId, after, limit])
  return rows.map(toLogEntry)
}

/** The newest success of `task` with `argsHash` since `since`. */
export async function findReusable(conn: PostgresConnection, task: string, argsHash: string, since: number): Promise<Run | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<RunRow>(
    db,
    `SELECT ${RUN_COLUMNS} FROM ${conn.tables.runs} WHERE task = $1 AND args_hash = $2 AND status = 'succeeded' AND finished_at >= $3 AND deleted_at IS NULL
       ORDER BY finished_at DESC LIMIT 1`,
    [task, argsHash, since],
  )
  return row === undefined ? undefined : toRun(row)
}
