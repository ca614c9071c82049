/** Pools: creation in a tree, closing, reads, and counts of a pool or a whole tree. */
import type { NewPool, Pool, PoolCounts } from '../contract/pools.js'
import { countsFrom, toPool, type PoolCountRow, type PoolRow } from '../sql/pool-rows.js'
import type { SqliteConnection } from './connection.js'

/** Creates a pool in its parent's tree. */
export function createPool(db: SqliteConnection, pool: NewPool): Pool {
  const row = db.write(() => {
    const parent = pool.parentPoolId === null ? undefined : (db.stmt('SELECT root_id FROM pools WHERE id = ?').get(pool.parentPoolId) as { root_id: string } | undefined)
    return db
      .stmt('INSERT INTO pools (id, parent_run_id, parent_pool_id, root_id, label, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *')
      .get(pool.id, pool.parentRunId, pool.parentPoolId, parent?.root_id ?? pool.id, pool.label, pool.now) as PoolRow
  })
  return toPool(row)
}

/** Marks a pool closed (the first time counts). */
export function closePool(db: SqliteConnection, id: string, now: number): void {
  db.stmt('UPDATE pools SET closed_at = coalesce(closed_at, ?) WHERE id = ?').run(now, id)
}

/** A pool by id. */
export function getPool(db: SqliteConnection, id: string): Pool | undefined {
  const row = db.stmt('SELECT * FROM pools WHERE id = ?').get(id) as PoolRow | undefined
  return row === undefined ? undefined : toPool(row)
}

/** Pools a run opened, oldest first. */
export function poolsOfRun(db: SqliteConnection, runId: string): Pool[] {
  const rows = db.stmt('SELECT * FROM pools WHERE parent_run_id = ? ORDER BY created_at').all(runId) as PoolRow[]
  return rows.map(toPool)
}

/** Ids of a pool and every pool below it. */
export function poolTree(db: SqliteConnection, id: string): string[] {
  const rows = db
    .stmt(
      `WITH RECURSIVE tree(id) AS (SELECT id FROM pools WHERE id = ? UNION SELECT p.id FROM pools p JOIN tree t ON p.parent_pool_id = t.id)
       SELECT id FROM tree`,
    )
    .all(id) as { id: string }[]
  return rows.map((r) => r.id)
}

/** A pool and the pools below it, oldest first, at most `limit`. */
export function poolsBelow(db: SqliteConnection, id: string, limit: number): Pool[] {
  const rows = db
    .stmt(
      `WITH RECURSIVE tree(id) AS (SELECT id FROM pools WHERE id = ? UNION SELECT p.id FROM pools p JOIN tree t ON p.parent_pool_id = t.id)
       SELECT * FROM pools WHERE id IN (SELECT id FROM tree) ORDER BY created_at, id LIMIT ?`,
    )
    .all(id, limit) as PoolRow[]
  return rows.map(toPool)
}

/** Counts of a pool's runs, or of its whole tree's. */
export function poolCounts(db: SqliteConnection, id: string, options: { readonly tree?: boolean }): PoolCounts {
  const ids = options.tree === true ? poolTree(db, id) : [id]
  const rows = db
    .stmt(
      `SELECT status, count(*) AS n, sum(coalesce(json_extract(progress, '$.percent'), 0)) AS progress, min(created_at) AS first, max(finished_at) AS last
       FROM runs WHERE pool_id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL GROUP BY status`,
    )
    .all(JSON.stringify(ids)) as PoolCountRow[]
  return countsFrom(rows)
}
