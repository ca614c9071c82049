/** Rows of the `bulk_jobs` table ↔ bulk jobs, and the statements both SQL backends send alike. */
import type { BulkAction, BulkJob, BulkState } from '../contract/bulk.js'
import { date, fromJson, maybeDate, num } from './columns.js'

/** A row of `bulk_jobs` as a driver returns it. */
export interface BulkRow {
  id: string
  action: string
  filter: unknown
  up_to: string | null
  cursor: string | null
  total: number | string
  done: number | string
  skipped: number | string
  state: string
  error: string | null
  created_by: string | null
  created_at: number | string
  updated_at: number | string
  finished_at: number | string | null
  owner: string | null
  lease_expires_at: number | string | null
}

/** The columns of a job, named (PostgreSQL prepares statements once). */
export const BULK_COLUMNS = 'id, action, filter, up_to, cursor, total, done, skipped, state, error, created_by, created_at, updated_at, finished_at, owner, lease_expires_at'

/** Maps a `bulk_jobs` row to a {@link BulkJob}. */
export function toBulkJob(row: BulkRow): BulkJob {
  return {
    id: row.id,
    action: row.action as BulkAction,
    filter: (fromJson(row.filter) ?? {}) as Record<string, unknown>,
    upTo: row.up_to,
    cursor: row.cursor,
    total: num(row.total),
    done: num(row.done),
    skipped: num(row.skipped),
    state: row.state as BulkState,
    error: row.error,
    createdBy: row.created_by,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    finishedAt: maybeDate(row.finished_at),
    owner: row.owner,
    leaseExpiresAt: maybeDate(row.lease_expires_at),
  }
}

/** Placeholders of {@link saveBulkProgressSql}. */
export interface BulkProgressParams {
  readonly id: string
  readonly owner: string
  readonly cursor: string
  readonly done: string
  readonly skipped: string
  /** `running`, `finished` or `failed`. */
  readonly state: string
  readonly error: string
  /** The total, or NULL to keep it. */
  readonly total: string
  readonly now: string
  readonly leaseUntil: string
}

/** Saves a batch's progress, fenced by owner and state `running`; returns the job when it did. */
export function saveBulkProgressSql(table: string, p: BulkProgressParams): string {
  const ends = `${p.state} <> 'running'`
  return `UPDATE ${table} SET cursor = ${p.cursor}, done = ${p.done}, skipped = ${p.skipped}, state = ${p.state}, error = ${p.error},
     total = coalesce(${p.total}, total), updated_at = ${p.now},
     finished_at = CASE WHEN ${ends} THEN ${p.now} ELSE NULL END,
     owner = CASE WHEN ${ends} THEN NULL ELSE owner END,
     lease_expires_at = CASE WHEN ${ends} THEN NULL ELSE ${p.leaseUntil} END
   WHERE id = ${p.id} AND owner = ${p.owner} AND state = 'running' RETURNING ${BULK_COLUMNS}`
}

/** Takes a running job nobody holds (or `owner` holds) until `leaseUntil`. */
export function claimBulkJobSql(table: string, p: { id: string; owner: string; now: string; leaseUntil: string }): string {
  return `UPDATE ${table} SET owner = ${p.owner}, lease_expires_at = ${p.leaseUntil}, updated_at = ${p.now}
   WHERE id = ${p.id} AND state = 'running' AND (owner IS NULL OR owner = ${p.owner} OR lease_expires_at < ${p.now}) RETURNING ${BULK_COLUMNS}`
}
