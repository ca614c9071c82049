/** Rows of the `schedules` table ↔ schedule states, for both SQL backends. */
import type { ScheduleState } from '../contract/schedules.js'
import { num } from './columns.js'

/** The columns of a {@link ScheduleRow}, in a statement's select list. */
export const SCHEDULE_COLUMNS = 'id, enabled, last_tick_at, last_run_id, next_tick_at, updated_at'

/** A row of the `schedules` table (`enabled`: 0/1 in SQLite, a boolean in PostgreSQL). */
export interface ScheduleRow {
  id: string
  enabled: number | boolean
  last_tick_at: number | string | null
  last_run_id: string | null
  next_tick_at: number | string | null
  updated_at: number | string
}

/** Maps a `schedules` row to a {@link ScheduleState}. */
export function toScheduleState(row: ScheduleRow): ScheduleState {
  return {
    id: row.id,
    enabled: row.enabled === true || row.enabled === 1,
    lastTickAt: row.last_tick_at === null ? null : num(row.last_tick_at),
    lastRunId: row.last_run_id,
    nextTickAt: row.next_tick_at === null ? null : num(row.next_tick_at),
    updatedAt: num(row.updated_at),
  }
}
