/** Schedule state: first registration, lists, toggles, and the atomic take of a tick with its run. */
import type { FireOutcome, ScheduleFire, ScheduleInit, ScheduleState } from '../contract/schedules.js'
import { toScheduleState, type ScheduleRow } from '../sql/schedule-rows.js'
import type { SqliteConnection } from './connection.js'
import { insertOutcomes, insertRows } from './insert-runs.js'

/** Records a schedule unless known; returns its state. */
export function initSchedule(db: SqliteConnection, init: ScheduleInit): ScheduleState {
  const row = db.write(() => {
    db.stmt(
      `INSERT INTO schedules (id, enabled, last_tick_at, next_tick_at, created_at, updated_at) VALUES (@id, @enabled, @since, @next, @now, @now)
         ON CONFLICT (id) DO NOTHING`,
    ).run({ id: init.id, enabled: init.enabled ? 1 : 0, since: init.since, next: init.nextTickAt, now: init.now })
    return db.stmt('SELECT * FROM schedules WHERE id = ?').get(init.id) as ScheduleRow
  })
  return toScheduleState(row)
}

/** Every schedule, by id. */
export function listSchedules(db: SqliteConnection): ScheduleState[] {
  return (db.stmt('SELECT * FROM schedules ORDER BY id').all() as ScheduleRow[]).map(toScheduleState)
}

/** Turns a schedule on or off (on: ticks up to `now` count as handled). */
export function setScheduleEnabled(db: SqliteConnection, id: string, enabled: boolean, now: number): ScheduleState | undefined {
  const row = db
    .stmt(
      `UPDATE schedules SET enabled = @enabled, updated_at = @now,
         last_tick_at = CASE WHEN @enabled = 1 AND enabled = 0 THEN max(coalesce(last_tick_at, 0), @now) ELSE last_tick_at END
       WHERE id = @id RETURNING *`,
    )
    .get({ id, enabled: enabled ? 1 : 0, now }) as ScheduleRow | undefined
  return row === undefined ? undefined : toScheduleState(row)
}

/** Takes a tick and inserts its run in one transaction, unless another caller took it (or a later one). */
export function fireSchedule(db: SqliteConnection, fire: ScheduleFire): FireOutcome {
  const result = db.write(() => {
    const taken = db
      .stmt(
        `UPDATE schedules SET last_tick_at = @tick, next_tick_at = @next, updated_at = @now,
           last_run_id = coalesce(@runId, last_run_id)
         WHERE id = @id AND (last_tick_at IS NULL OR last_tick_at < @tick)`,
      )
      .run({ id: fire.id, tick: fire.tickAt, next: fire.nextTickAt, now: fire.now, runId: fire.run?.id ?? null }).changes
    if (taken === 0) return { fired: false as const }
    return { fired: true as const, inserted: fire.run === null ? undefined : insertRows(db, [fire.run]) }
  })
  if (!result.fired || fire.run === null) return { fired: result.fired }
  return { fired: true, insert: insertOutcomes(db, [fire.run], result.inserted)[0]! }
}
