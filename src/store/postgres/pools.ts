/** Pools: creation in a tree, closing, reads, and counts of a pool or a whole tree (one recursive query). */
import type { NewPool, Pool, PoolCounts } from '../contract/pools.js'
import { countsFrom, POOL_COLUMNS, toPool, type PoolCountRow, type PoolRow } from '../sql/pool-rows.js'
import type { PostgresConnection } from './connection.js'

/** Creates a pool in its parent's tree. */
export async function createPool(conn: PostgresConnection, pool: NewPool): Promise<Pool> {
  const db = await conn.db()
  const [row] = await conn.query<PoolRow>(
    db,
    `INSERT INTO ${conn.tables.pools} (id, parent_run_id, parent_pool_id, root_id, label, created_at)
       VALUES ($1, $2, $3::text, coalesce((SELECT root_id FROM ${conn.tables.pools} WHERE id = $3::text), $1), $4, $5) RETURNING ${POOL_COLUMNS}`,
    [pool.id, pool.parentRunId, pool.parentPoolId, pool.label, pool.now],
  )
  return toPool(row!)
}

/** Marks a pool closed (the first time counts). */
export async function closePool(conn: PostgresConnection, id: string, now: number): Promise<void> {
  const db = await conn.db()
  await conn.query(db, `UPDATE ${conn.tables.pools} SET closed_at = coalesce(closed_at, $1) WHERE id = $2`, [now, id])
}

/** A pool by id. */
export async function getPool(conn: PostgresConnection, id: string): Promise<Pool | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<PoolRow>(db, `SELECT ${POOL_COLUMNS} FROM ${conn.tables.pools} WHERE id = $1`, [id])
  return row === undefined ? undefined : toPool(row)
}

/** Pools a run opened, oldest first. */
export async function poolsOfRun(conn: PostgresConnection, runId: string): Promise<Pool[]> {
  const db = await conn.db()
  const rows = await conn.query<PoolRow>(db, `SELECT ${POOL_COLUMNS} FROM ${conn.tables.pools} WHERE parent_run_id = $1 ORDER BY created_at`, [runId])
  return rows.map(toPool)
}

/** The recursive CTE `tree(id)` of the pool named by `param` and every pool below it. */
function treeSql(conn: PostgresConnection, param: string): string {
  return `WITH RECURSIVE tree(id) AS (
      SELECT id FROM ${conn.tables.pools} WHERE id = ${param} UNION SELECT p.id FROM ${conn.tables.pools} p JOIN tree t ON p.parent_pool_id = t.id
    )`
}

/** Ids of a pool and every pool below it. */
export async function poolTree(conn: PostgresConnection, id: string): Promise<string[]> {
  const db = await conn.db()
  const rows = await conn.query<{ id: string }>(db, `${treeSql(conn, '$1')} SELECT id FROM tree`, [id])
  return rows.map((r) => r.id)
}

/** A pool and the pools below it, oldest first, at most `limit`. */
export async function poolsBelow(conn: PostgresConnection, id: string, limit: number): Promise<Pool[]> {
  const db = await conn.db()
  const rows = await conn.query<PoolRow>(
    db,
    `${treeSql(conn, '$1')} SELECT ${POOL_COLUMNS} FROM ${conn.tables.pools} WHERE id IN (SELECT id FROM tree) ORDER BY created_at, id LIMIT $2`,
    [id, limit],
  )
  return rows.map(toPool)
}

/** Counts of a pool's runs, or of its whole tree's. */
export async function poolCounts(conn: PostgresConnection, id: string, options: { readonly tree?: boolean }): Promise<PoolCounts> {
  const db = await conn.db()
  const tree = options.tree === true
  // A progress snapshot holding a `\u0000` escape makes JSON functions fail: count it as 0.
  const rows = await conn.query<PoolCountRow>(
    db,
    `${tree ? treeSql(conn, '$1') : ''}
       SELECT status, count(*) AS n,
         sum(CASE WHEN progress IS NULL OR strpos(progress::text, '\\u0000') > 0 THEN 0 ELSE coalesce((progress->>'percent')::float8, 0) END) AS progress,
         min(created_at) AS first, max(finished_at) AS last
       FROM ${conn.tables.runs} WHERE ${tree ? 'pool_id IN (SELECT id FROM tree)' : 'pool_id = $1'} AND deleted_at IS NULL GROUP BY status`,
    [id],
  )
  return countsFrom(rows)
}
