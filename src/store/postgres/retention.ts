/** Retention: purges of old finished (and deleted) runs, their log lines, and empty pools, in batches. */
import type { PurgeableCounts } from '../contract/maintenance.js'
import { STALE_START_MS } from '../claim-plan.js'
import { purgeBatch, type PurgeCandidate } from '../sql/purge-batch.js'
import type { PostgresConnection } from './connection.js'

/** A DELETE that answers how many rows it deleted (`n`). */
function counted(deletion: string): string {
  return `WITH gone AS (
         ${deletion}
         RETURNING 1)
       SELECT count(*) AS n FROM gone`
}

const FINAL = `status IN ('succeeded', 'failed', 'cancelled')`

/**
 * Deletes up to `limit` purgeable runs with their logs and artifacts in one transaction, fewer when
 * their log lines would pass the batch's budget (`purgeBatch`); returns their ids.
 */
export async function purgeRuns(conn: PostgresConnection, before: number, limit: number): Promise<string[]> {
  await conn.db()
  const t = conn.tables
  return conn.transaction(async (client) => {
    // Oldest first by finished_at on runs_finished, then deleted runs on runs_deleted: each batch
    // reads what it deletes, however many runs the store keeps. Locked and skipped if locked, so
    // two purges (or a purge and a cancel) never wait on each other.
    const { rows } = await client.query<PurgeCandidate>({
      text: `SELECT id, log_count FROM ${t.runs}
             WHERE finished_at < $1 AND finished_at IS NOT NULL AND deleted_at IS NULL AND ${FINAL}
             ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      values: [before, limit],
    })
    if (rows.length < limit) {
      const deleted = await client.query<PurgeCandidate>({
        text: `SELECT id, log_count FROM ${t.runs}
               WHERE deleted_at IS NOT NULL AND (deleted_at < $1 OR (${FINAL} AND finished_at < $1))
               ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        values: [before, limit - rows.length],
      })
      rows.push(...deleted.rows)
    }
    const ids = purgeBatch(rows, limit)
    if (ids.length > 0) {
      await client.query({ text: `DELETE FROM ${t.logs} WHERE run_id = ANY($1::text[])`, values: [ids] })
      await client.query({ text: `DELETE FROM ${t.artifacts} WHERE run_id = ANY($1::text[])`, values: [ids] })
      await client.query({ text: `DELETE FROM ${t.runs} WHERE id = ANY($1::text[])`, values: [ids] })
    }
    return ids
  })
}

/** Deletes up to `limit` empty leaf pools created before `before`; returns how many. */
export async function purgePools(conn: PostgresConnection, before: number, limit: number): Promise<number> {
  const db = await conn.db()
  const t = conn.tables
  const rows = await conn.query<{ n: number }>(
    db,
    counted(`DELETE FROM ${t.pools} WHERE id IN (
           SELECT p.id FROM ${t.pools} p WHERE p.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM ${t.runs} r WHERE r.pool_id = p.id)
             AND NOT EXISTS (SELECT 1 FROM ${t.pools} c WHERE c.parent_pool_id = p.id)
           LIMIT $2 FOR UPDATE SKIP LOCKED)`),
    [before, limit],
  )
  return Number(rows[0]?.n ?? 0)
}

/** What the purges would delete now. */
export async function countPurgeable(conn: PostgresConnection, runsBefore: number | null, logsBefore: number | null): Promise<PurgeableCounts> {
  const db = await conn.db()
  const t = conn.tables
  const [runs, logs] = await Promise.all([
    runsBefore === null
      ? undefined
      : conn.query<{ n: number }>(
          db,
          `SELECT (SELECT count(*) FROM ${t.runs} WHERE finished_at < $1 AND finished_at IS NOT NULL AND deleted_at IS NULL AND ${FINAL})
                + (SELECT count(*) FROM ${t.runs} WHERE deleted_at IS NOT NULL AND (deleted_at < $1 OR (${FINAL} AND finished_at < $1))) AS n`,
          [runsBefore],
        ),
    logsBefore === null
      ? undefined
      : conn.query<{ n: number }>(
          db,
          `SELECT count(*) AS n FROM ${t.runs} r JOIN ${t.logs} l ON l.run_id = r.id
             WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < $1 AND ($2::int8 IS NULL OR r.finished_at >= $2::int8)`,
          [logsBefore, runsBefore],
        ),
  ])
  return { runs: Number(runs?.[0]?.n ?? 0), logLines: Number(logs?.[0]?.n ?? 0) }
}

/** Deletes up to `limit` log lines of runs finished before `before`; returns how many. */
export async function purgeLogs(conn: PostgresConnection, before: number, limit: number): Promise<number> {
  const db = await conn.db()
  const t = conn.tables
  const rows = await conn.query<{ n: number }>(
    db,
    counted(`DELETE FROM ${t.logs} WHERE (run_id, seq) IN (
           SELECT l.run_id, l.seq FROM ${t.runs} r JOIN ${t.logs} l ON l.run_id = r.id
           WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < $1 LIMIT $2)`),
    [before, limit],
  )
  return Number(rows[0]?.n ?? 0)
}

/** Deletes ended throttle windows, starts older than any rate window, and groups not served since `before` (see `MaintenanceStore.purgeFlowState`). */
export async function purgeFlowState(conn: PostgresConnection, now: number, before: number): Promise<number> {
  const db = await conn.db()
  const t = conn.tables
  const [row] = await conn.queryArrays<[string]>(
    db,
    `WITH a AS (DELETE FROM ${t.throttles} WHERE until <= $1 RETURNING 1),
          b AS (DELETE FROM ${t.rateStarts} WHERE at < $2 RETURNING 1),
          c AS (DELETE FROM ${t.flowGroups} WHERE served_at < $3 RETURNING 1)
     SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b) + (SELECT count(*) FROM c)`,
    [now, now - STALE_START_MS, before],
  )
  return Number(row?.[0] ?? 0)
}
