/** Bulk jobs and the selection they walk (see `../contract/bulk.ts`). */
import type { BulkBound, BulkJob, BulkProgress, NewBulkJob } from '../contract/bulk.js'
import type { RunFilter } from '../contract/runs.js'
import { BULK_COLUMNS, claimBulkJobSql, saveBulkProgressSql, toBulkJob, type BulkRow } from '../sql/bulk-rows.js'
import { bulkSelectionSql, runFilterSql } from '../sql/run-filter.js'
import { TYPES, type PostgresConnection } from './connection.js'
import { positionalBinder } from './dialect.js'

export async function bulkBound(conn: PostgresConnection, filter: RunFilter): Promise<BulkBound> {
  const db = await conn.db()
  const { countWhere, countParams } = runFilterSql(filter, conn.dialect, positionalBinder())
  const result = await db.query<{ n: number; up_to: string | null }>({ text: `SELECT count(*) AS n, max(id) AS up_to FROM ${conn.tables.runs} ${countWhere}`, values: countParams, types: TYPES })
  const row = result.rows[0]
  return { count: Number(row?.n ?? 0), upTo: row?.up_to ?? null }
}

export async function bulkSelection(conn: PostgresConnection, filter: RunFilter, upTo: string, after: string | null, limit: number): Promise<string[]> {
  const db = await conn.db()
  const { where, params } = bulkSelectionSql(filter, upTo, after, conn.dialect, positionalBinder())
  const result = await db.query<{ id: string }>({ text: `SELECT id FROM ${conn.tables.runs} ${where} ORDER BY id LIMIT ${Math.max(1, Math.floor(limit))}`, values: params, types: TYPES })
  return result.rows.map((r) => r.id)
}

export async function insertBulkJob(conn: PostgresConnection, job: NewBulkJob): Promise<BulkJob> {
  const db = await conn.db()
  const [row] = await conn.query<BulkRow>(
    db,
    `INSERT INTO ${conn.tables.bulkJobs} (id, action, filter, up_to, total, state, created_by, created_at, updated_at)
     VALUES ($1, $2, $3::json, $4, $5, 'running', $6, $7, $7) RETURNING ${BULK_COLUMNS}`,
    [job.id, job.action, JSON.stringify(job.filter), job.upTo, job.total, job.createdBy, job.now],
  )
  return toBulkJob(row!)
}

export async function getBulkJob(conn: PostgresConnection, id: string): Promise<BulkJob | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<BulkRow>(db, `SELECT ${BULK_COLUMNS} FROM ${conn.tables.bulkJobs} WHERE id = $1`, [id])
  return row === undefined ? undefined : toBulkJob(row)
}

export async function listBulkJobs(conn: PostgresConnection, limit: number): Promise<BulkJob[]> {
  const db = await conn.db()
  return (await conn.query<BulkRow>(db, `SELECT ${BULK_COLUMNS} FROM ${conn.tables.bulkJobs} ORDER BY id DESC LIMIT $1`, [limit])).map(toBulkJob)
}

export async function orphanBulkJobs(conn: PostgresConnection, now: number): Promise<string[]> {
  const db = await conn.db()
  const rows = await conn.query<{ id: string }>(db, `SELECT id FROM ${conn.tables.bulkJobs} WHERE state = 'running' AND (owner IS NULL OR lease_expires_at < $1) ORDER BY id`, [now])
  return rows.map((r) => r.id)
}

export async function claimBulkJob(conn: PostgresConnection, id: string, owner: string, now: number, leaseMs: number): Promise<BulkJob | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<BulkRow>(db, claimBulkJobSql(conn.tables.bulkJobs, { id: '$1', owner: '$2', now: '$3', leaseUntil: '$4' }), [id, owner, now, now + leaseMs])
  return row === undefined ? undefined : toBulkJob(row)
}

export async function saveBulkProgress(conn: PostgresConnection, id: string, owner: string, progress: BulkProgress, now: number, leaseMs: number): Promise<BulkJob | undefined> {
  const db = await conn.db()
  const sql = saveBulkProgressSql(conn.tables.bulkJobs, {
    id: '$1',
    owner: '$2',
    cursor: '$3',
    done: '$4::bigint',
    skipped: '$5::bigint',
    state: '$6::text',
    error: '$7::text',
    total: '$8::bigint',
    now: '$9::bigint',
    leaseUntil: '$10::bigint',
  })
  const [row] = await conn.query<BulkRow>(db, sql, [id, owner, progress.cursor, progress.done, progress.skipped, progress.state ?? 'running', progress.error ?? null, progress.total ?? null, now, now + leaseMs])
  return row === undefined ? undefined : toBulkJob(row)
}

export async function releaseBulkJob(conn: PostgresConnection, id: string, owner: string, now: number): Promise<void> {
  const db = await conn.db()
  await conn.query(db, `UPDATE ${conn.tables.bulkJobs} SET owner = NULL, lease_expires_at = NULL, updated_at = $1 WHERE id = $2 AND owner = $3`, [now, id, owner])
}

export async function cancelBulkJob(conn: PostgresConnection, id: string, now: number): Promise<BulkJob | undefined> {
  const db = await conn.db()
  await conn.query(db, `UPDATE ${conn.tables.bulkJobs} SET state = 'cancelled', finished_at = $1, updated_at = $1, owner = NULL, lease_expires_at = NULL WHERE id = $2 AND state = 'running'`, [now, id])
  return getBulkJob(conn, id)
}

export async function purgeBulkJobs(conn: PostgresConnection, before: number): Promise<number> {
  const db = await conn.db()
  const rows = await conn.query<{ id: string }>(db, `DELETE FROM ${conn.tables.bulkJobs} WHERE state <> 'running' AND finished_at < $1 RETURNING id`, [before])
  return rows.length
}
