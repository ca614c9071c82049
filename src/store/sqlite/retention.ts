/** Retention: purges of old finished (and deleted) runs, their log lines, and empty pools, in batches. */
import type { PurgeableCounts } from '../contract/maintenance.js'
import { STALE_START_MS } from '../claim-plan.js'
import { purgeBatch, type PurgeCandidate } from '../sql/purge-batch.js'
import type { SqliteConnection } from './connection.js'

const FINAL = `status IN ('succeeded', 'failed', 'cancelled')`

/**
 * Deletes up to `limit` purgeable runs with their logs and artifacts in one transaction, fewer when
 * their log lines would pass the batch's budget (`purgeBatch`); returns their ids.
 */
export function purgeRuns(db: SqliteConnection, before: number, limit: number): string[] {
  return db.write(() => {
    // Oldest first by finished_at on runs_finished: each batch reads only what it deletes, however
    // many runs the store keeps (a scan in seq order read every kept run to find the last old ones).
    const candidates = db
      .stmt(`SELECT id, log_count FROM runs WHERE finished_at < @before AND finished_at IS NOT NULL AND deleted_at IS NULL AND ${FINAL} ORDER BY finished_at LIMIT @limit`)
      .all({ before, limit }) as PurgeCandidate[]
    // Then deleted runs (runs_deleted): deleted before the cut-off, or finished before it.
    if (candidates.length < limit) {
      const deleted = db
        .stmt(`SELECT id, log_count FROM runs WHERE deleted_at IS NOT NULL AND (deleted_at < @before OR (${FINAL} AND finished_at < @before)) ORDER BY deleted_at LIMIT @limit`)
        .all({ before, limit: limit - candidates.length }) as PurgeCandidate[]
      candidates.push(...deleted)
    }
    const ids = purgeBatch(candidates, limit)
    if (ids.length === 0) return ids
    const list = JSON.stringify(ids)
    db.stmt('DELETE FROM logs WHERE run_id IN (SELECT value FROM json_each(?))').run(list)
    db.stmt('DELETE FROM artifacts WHERE run_id IN (SELECT value FROM json_each(?))').run(list)
    db.stmt('DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))').run(list)
    return ids
  })
}

/** Deletes up to `limit` empty leaf pools created before `before`; returns how many. */
export function purgePools(db: SqliteConnection, before: number, limit: number): number {
  return db.write(
    () =>
      db.stmt(
        `DELETE FROM pools WHERE id IN (
             SELECT p.id FROM pools p WHERE p.created_at < @before
               AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.pool_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM pools c WHERE c.parent_pool_id = p.id)
             LIMIT @limit)`,
      ).run({ before, limit }).changes,
  )
}

/** What the purges would delete now, counted on the indexes the purges walk (runs_finished, runs_deleted). */
export function countPurgeable(db: SqliteConnection, runsBefore: number | null, logsBefore: number | null): PurgeableCounts {
  const runs =
    runsBefore === null
      ? 0
      : (db
          .stmt(
            `SELECT (SELECT count(*) FROM runs WHERE finished_at < @before AND finished_at IS NOT NULL AND deleted_at IS NULL AND ${FINAL})
                  + (SELECT count(*) FROM runs WHERE deleted_at IS NOT NULL AND (deleted_at < @before OR (${FINAL} AND finished_at < @before)))`,
          )
          .pluck()
          .get({ before: runsBefore }) as number)
  const logLines =
    logsBefore === null
      ? 0
      : (db
          .stmt(
            `SELECT count(*) FROM runs r JOIN logs l ON l.run_id = r.id
             WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < @logs AND (@runs IS NULL OR r.finished_at >= @runs)`,
          )
          .pluck()
          .get({ logs: logsBefore, runs: runsBefore }) as number)
  return { runs, logLines }
}

/** Deletes up to `limit` log lines of runs finished before `before`; returns how many. */
export function purgeLogs(db: SqliteConnection, before: number, limit: number): number {
  return db.write(
    () =>
      db.stmt(
        `DELETE FROM logs WHERE (run_id, seq) IN (
             SELECT l.run_id, l.seq FROM runs r JOIN logs l ON l.run_id = r.id
             WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < @before LIMIT @limit)`,
      ).run({ before, limit }).changes,
  )
}

/** Deletes ended throttle windows, starts older than any rate window, and groups not served since `before` (see `MaintenanceStore.purgeFlowState`). */
export function purgeFlowState(db: SqliteConnection, now: number, before: number): number {
  return db.write(
    () =>
      db.stmt('DELETE FROM throttles WHERE until <= ?').run(now).changes +
      db.stmt('DELETE FROM rate_starts WHERE at < ?').run(now - STALE_START_MS).changes +
      db.stmt('DELETE FROM flow_groups WHERE served_at < ?').run(before).changes,
  )
}
