/**
 * Rescue of runs whose worker died: reading expired leases for the rescuer, and writing its
 * decisions fenced by the tokens it read.
 */
import type { ExpiredRun, RescueWrite } from '../contract/maintenance.js'
import type { Run } from '../contract/runs.js'
import { EXPIRED_COLUMNS, toExpiredRun, type ExpiredRow } from '../sql/expired-rows.js'
import { LOST_WHILE_CANCELLING_JSON } from '../sql/run-errors.js'
import { attemptJson, toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'
import { appendAttempt } from './dialect.js'
import { jsonOrNull } from '../sql/columns.js'

const EXPIRED = `SELECT ${EXPIRED_COLUMNS} FROM runs INDEXED BY runs_leased
       WHERE status IN ('running', 'waiting') AND lease_expires_at < ? ORDER BY lease_expires_at LIMIT ?`
// A counted attempt joins the history; one that never reached its handler is taken back, as if
// never claimed. A cancel requested since the rescuer read the run wins over `pending`.
const RESCUE = `UPDATE runs SET
         status = CASE WHEN @status = 'pending' AND cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE @status END,
         error = CASE WHEN @status = 'pending' AND cancel_requested_at IS NOT NULL THEN @cancelError
                      WHEN @status = 'pending' AND @counted = 0 THEN error ELSE @error END,
         finished_at = CASE WHEN @status = 'pending' AND cancel_requested_at IS NULL THEN NULL ELSE @at END,
         run_at = CASE WHEN @status = 'pending' AND @counted = 1 THEN @runAt ELSE run_at END,
         attempt = attempt - 1 + @counted,
         started_at = CASE WHEN @counted = 1 THEN started_at END,
         attempts = CASE WHEN @counted = 1 THEN ${appendAttempt('attempts', '@attempt')} ELSE attempts END,
         lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = @at
       WHERE id = @id AND lease_token = @token AND status IN ('running', 'waiting')
       RETURNING *`

/** Runs whose lease expired before `now`, oldest lease first, at most `limit`. */
export function expiredLeases(db: SqliteConnection, now: number, limit: number): ExpiredRun[] {
  const rows = db.stmt(EXPIRED).all(now, limit) as ExpiredRow[]
  return rows.map(toExpiredRun)
}

/** Writes the rescuer's decisions in one transaction; runs back to `pending` wake this process's workers. */
export function rescueRuns(db: SqliteConnection, writes: readonly RescueWrite[]): Run[] {
  if (writes.length === 0) return []
  const rescue = db.stmt(RESCUE)
  const rows = db.write(() => {
    const written: RunRow[] = []
    for (const w of writes) {
      const row = rescue.get({
        status: w.status,
        error: jsonOrNull(w.error),
        cancelError: LOST_WHILE_CANCELLING_JSON,
        at: w.at,
        runAt: w.runAt ?? w.at,
        counted: w.attempt === null ? 0 : 1,
        attempt: w.attempt === null ? null : attemptJson(w.attempt),
        id: w.id,
        token: w.token,
      }) as RunRow | undefined
      if (row !== undefined) written.push(row)
    }
    return written
  })
  const runs = rows.map(toRun)
  if (runs.some((r) => r.status === 'pending')) db.notify()
  return runs
}
