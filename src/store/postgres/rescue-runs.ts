/**
 * Rescue of runs whose worker died: reading expired leases for the rescuer, and writing its
 * decisions in one statement, fenced by the tokens it read.
 */
import type { ExpiredRun, RescueWrite } from '../contract/maintenance.js'
import type { Run } from '../contract/runs.js'
import { jsonOrNull } from '../sql/columns.js'
import { EXPIRED_COLUMNS, toExpiredRun, type ExpiredRow } from '../sql/expired-rows.js'
import { LOST_WHILE_CANCELLING_JSON } from '../sql/run-errors.js'
import { attemptJson, toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection } from './connection.js'
import { appendAttempt, RUN_COLUMNS } from './dialect.js'
import { byId, firstPerKey } from './write-order.js'

/** Runs whose lease expired before `now`, oldest lease first, at most `limit`. */
export async function expiredLeases(conn: PostgresConnection, now: number, limit: number): Promise<ExpiredRun[]> {
  const db = await conn.db()
  const rows = await conn.query<ExpiredRow>(
    db,
    `SELECT ${EXPIRED_COLUMNS} FROM ${conn.tables.runs} WHERE status IN ('running', 'waiting') AND lease_expires_at < $1 ORDER BY lease_expires_at LIMIT $2`,
    [now, limit],
  )
  return rows.map(toExpiredRun)
}

/** Writes the rescuer's decisions; runs back to `pending` wake workers (here at once, elsewhere by NOTIFY). */
export async function rescueRuns(conn: PostgresConnection, writes: readonly RescueWrite[]): Promise<Run[]> {
  if (writes.length === 0) return []
  const db = await conn.db()
  const sorted = firstPerKey(writes).sort(byId)
  // A counted attempt joins the history; one that never reached its handler is taken back, as
  // if never claimed. A cancel requested since the rescuer read the run wins over `pending`.
  const rows = await conn.query<RunRow>(
    db,
    `WITH up AS (
         UPDATE ${conn.tables.runs} r SET
           status = CASE WHEN w.status = 'pending' AND r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE w.status END,
           error = CASE WHEN w.status = 'pending' AND r.cancel_requested_at IS NOT NULL THEN $9::json
                        WHEN w.status = 'pending' AND w.attempt IS NULL THEN r.error ELSE w.error::json END,
           finished_at = CASE WHEN w.status = 'pending' AND r.cancel_requested_at IS NULL THEN NULL ELSE w.at END,
           run_at = CASE WHEN w.status = 'pending' AND w.attempt IS NOT NULL THEN w.run_at ELSE r.run_at END,
           attempt = CASE WHEN w.attempt IS NULL THEN r.attempt - 1 ELSE r.attempt END,
           started_at = CASE WHEN w.attempt IS NULL THEN NULL ELSE r.started_at END,
           attempts = CASE WHEN w.attempt IS NULL THEN r.attempts ELSE ${appendAttempt('r.attempts', 'w.attempt')} END,
           lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = w.at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::int8[]) AS w(id, token, status, run_at, error, attempt, at)
         WHERE r.id = w.id AND r.lease_token = w.token AND r.status IN ('running', 'waiting')
         RETURNING r.*
       ), wake AS MATERIALIZED (SELECT pg_notify($8, $10) FROM up WHERE status = 'pending' LIMIT 1)
       SELECT ${RUN_COLUMNS} FROM up LEFT JOIN wake ON true`,
    [
      sorted.map((w) => w.id),
      sorted.map((w) => w.token),
      sorted.map((w) => w.status),
      sorted.map((w) => w.runAt ?? w.at),
      sorted.map((w) => jsonOrNull(w.error)),
      sorted.map((w) => (w.attempt === null ? null : attemptJson(w.attempt))),
      sorted.map((w) => w.at),
      conn.schema,
      LOST_WHILE_CANCELLING_JSON,
      conn.instance,
    ],
  )
  const runs = rows.map(toRun)
  if (runs.some((r) => r.status === 'pending')) conn.notify()
  return runs
}
