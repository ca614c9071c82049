/** Bulk jobs and the selection they walk (see `../contract/bulk.ts`). */
import type { BulkBound, BulkJob, BulkProgress, NewBulkJob } from '../contract/bulk.js'
import type { RunFilter } from '../contract/runs.js'
import { BULK_COLUMNS, claimBulkJobSql, saveBulkProgressSql, toBulkJob, type BulkRow } from '../sql/bulk-rows.js'
import { bulkSelectionSql, runFilterSql } from '../sql/run-filter.js'
import type { SqliteConnection } from './connection.js'
import { namedBinder, SQLITE_DIALECT } from './dialect.js'

export function bulkBound(db: SqliteConnection, filter: RunFilter): BulkBound {
  const { countWhere, countParams } = runFilterSql(filter, SQLITE_DIALECT, namedBinder())
  const row = db.stmt(`SELECT count(*) AS n, max(id) AS up_to FROM runs ${countWhere}`).get(countParams) as { n: number; up_to: string | null }
  return { count: row.n, upTo: row.up_to }
}

export function bulkSelection(db: SqliteConnection, filter: RunFilter, upTo: string, after: string | null, limit: number): string[] {
  const { where, params } = bulkSelectionSql(filter, upTo, after, SQLITE_DIALECT, namedBinder())
  return (db.stmt(`SELECT id FROM runs ${where} ORDER BY id LIMIT @limit`).all({ ...params, limit }) as { id: string }[]).map((r) => r.id)
}

export function insertBulkJob(db: SqliteConnection, job: NewBulkJob): BulkJob {
  const row = db
    .stmt(
      `INSERT INTO bulk_jobs (id, action, filter, up_to, total, state, created_by, created_at, updated_at)
       VALUES (@id, @action, @filter, @upTo, @total, 'running', @createdBy, @now, @now) RETURNING ${BULK_COLUMNS}`,
    )
    .get({ id: job.id, action: job.action, filter: JSON.stringify(job.filter), upTo: job.upTo, total: job.total, createdBy: job.createdBy, now: job.now }) as BulkRow
  return toBulkJob(row)
}

export function getBulkJob(db: SqliteConnection, id: string): BulkJob | undefined {
  const row = db.stmt(`SELECT ${BULK_COLUMNS} FROM bulk_jobs WHERE id = ?`).get(id) as BulkRow | undefined
  return row === undefined ? undefined : toBulkJob(row)
}

export function listBulkJobs(db: SqliteConnection, limit: number): BulkJob[] {
  return (db.stmt(`SELECT ${BULK_COLUMNS} FROM bulk_jobs ORDER BY id DESC LIMIT ?`).all(limit) as BulkRow[]).map(toBulkJob)
}

export function orphanBulkJobs(db: SqliteConnection, now: number): string[] {
  const rows = db.stmt(`SELECT id FROM bulk_jobs WHERE state = 'running' AND (owner IS NULL OR lease_expires_at < ?) ORDER BY id`).all(now) as { id: string }[]
  return rows.map((r) => r.id)
}

export function claimBulkJob(db: SqliteConnection, id: string, owner: string, now: number, leaseMs: number): BulkJob | undefined {
  const row = db.stmt(claimBulkJobSql('bulk_jobs', { id: '@id', owner: '@owner', now: '@now', leaseUntil: '@leaseUntil' })).get({ id, owner, now, leaseUntil: now + leaseMs }) as BulkRow | undefined
  return row === undefined ? undefined : toBulkJob(row)
}

const SAVE_PROGRESS = saveBulkProgressSql('bulk_jobs', {
  id: '@id',
  owner: '@owner',
  cursor: '@cursor',
  done: '@done',
  skipped: '@skipped',
  state: '@state',
  error: '@error',
  total: '@total',
  now: '@now',
  leaseUntil: '@leaseUntil',
})

export function saveBulkProgress(db: SqliteConnection, id: string, owner: string, progress: BulkProgress, now: number, leaseMs: number): BulkJob | undefined {
  const row = db.stmt(SAVE_PROGRESS).get({
    id,
    owner,
    cursor: progress.cursor,
    done: progress.done,
    skipped: progress.skipped,
    state: progress.state ?? 'running',
    error: progress.error ?? null,
    total: progress.total ?? null,
    now,
    leaseUntil: now + leaseMs,
  }) as BulkRow | undefined
  return row === undefined ? undefined : toBulkJob(row)
}

export function releaseBulkJob(db: SqliteConnection, id: string, owner: string, now: number): void {
  db.stmt(`UPDATE bulk_jobs SET owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? AND owner = ?`).run(now, id, owner)
}

export function cancelBulkJob(db: SqliteConnection, id: string, now: number): BulkJob | undefined {
  db.stmt(`UPDATE bulk_jobs SET state = 'cancelled', finished_at = @now, updated_at = @now, owner = NULL, lease_expires_at = NULL WHERE id = @id AND state = 'running'`).run({ id, now })
  return getBulkJob(db, id)
}

export function purgeBulkJobs(db: SqliteConnection, before: number): number {
  return db.stmt(`DELETE FROM bulk_jobs WHERE state <> 'running' AND finished_at < ?`).run(before).changes
}
