/** Schedule state: first registration, lists, toggles, and the atomic take of a tick with its run. */
import type { FireOutcome, ScheduleFire, ScheduleInit, ScheduleState } from '../contract/schedules.js'
import { SCHEDULE_COLUMNS, toScheduleState, type ScheduleRow } from '../sql/schedule-rows.js'
import type { PostgresConnection } from './connection.js'
import { insertRuns } from './insert-runs.js'

/** Records a schedule unless known; returns its state. */
export async function initSchedule(conn: PostgresConnection, init: ScheduleInit): Promise<ScheduleState> {
  const db = await conn.db()
  const t = conn.tables.schedules
  const [row] = await conn.query<ScheduleRow>(
    db,
    `WITH ins AS (
         INSERT INTO ${t} (id, enabled, last_tick_at, next_tick_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (id) DO NOTHING RETURNING ${SCHEDULE_COLUMNS}
       )
       SELECT * FROM ins UNION ALL SELECT ${SCHEDULE_COLUMNS} FROM ${t} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
    [init.id, init.enabled, init.since, init.nextTickAt, init.now],
  )
  if (row !== undefined) return toScheduleState(row)
  // Another process inserted it after this statement's snapshot was taken (its insert
  // committed while ours waited on the conflict): a new statement sees it.
  const [after] = await conn.query<ScheduleRow>(db, `SELECT ${SCHEDULE_COLUMNS} FROM ${t} WHERE id = $1`, [init.id])
  return toScheduleState(after!)
}

/** Every schedule, by id. */
export async function listSchedules(conn: PostgresConnection): Promise<ScheduleState[]> {
  const db = await conn.db()
  return (await conn.query<ScheduleRow>(db, `SELECT ${SCHEDULE_COLUMNS} FROM ${conn.tables.schedules} ORDER BY id`, [])).map(toScheduleState)
}

/** Turns a schedule on or off (on: ticks up to `now` count as handled). */
export async function setScheduleEnabled(conn: PostgresConnection, id: string, enabled: boolean, now: number): Promise<ScheduleState | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<ScheduleRow>(
    db,
    `UPDATE ${conn.tables.schedules} SET enabled = $2, updated_at = $3,
         last_tick_at = CASE WHEN $2 AND NOT enabled THEN greatest(coalesce(last_tick_at, 0), $3) ELSE last_tick_at END
       WHERE id = $1 RETURNING ${SCHEDULE_COLUMNS}`,
    [id, enabled, now],
  )
  return row === undefined ? undefined : toScheduleState(row)
}

/** Takes a tick and inserts its run in one transaction, unless another caller took it (or a later one). */
export async function fireSchedule(conn: PostgresConnection, fire: ScheduleFire): Promise<FireOutcome> {
  await conn.db()
  const run = fire.run
  const outcome = await conn.transaction(async (client) => {
    // The row lock orders processes taking the same tick: the second sees the first's tick.
    const { rowCount } = await client.query({
      text: `UPDATE ${conn.tables.schedules} SET last_tick_at = $2, next_tick_at = $3, updated_at = $4, last_run_id = coalesce($5, last_run_id)
          WHERE id = $1 AND (last_tick_at IS NULL OR last_tick_at < $2)`,
      values: [fire.id, fire.tickAt, fire.nextTickAt, fire.now, run?.id ?? null],
    })
    if (rowCount === 0) return { fired: false }
    if (run === null) return { fired: true }
    const [insert] = await insertRuns(conn, [run], { client })
    return { fired: true, insert: insert! }
  })
  if (outcome.insert?.created === true) conn.notify()
  return outcome
}
