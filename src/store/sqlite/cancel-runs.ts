/** Cancel: pending runs end at once; running and waiting ones get a request their workers see. */
import type { CancelOutcome, CancelSelection } from '../contract/admin.js'
import { cancelledError } from '../sql/run-errors.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'

const MATCH = `(id IN (SELECT value FROM json_each(@ids)) OR pool_id IN (SELECT value FROM json_each(@pools)))`
const CANCEL_PENDING = `UPDATE runs SET status = 'cancelled', finished_at = @now, updated_at = @now, error = @error, cancel_requested_at = @now, cancel_reason = @reason, cancelled_by = @by
         WHERE status = 'pending' AND ${MATCH} RETURNING *`
const REQUEST_CANCEL = `UPDATE runs SET cancel_requested_at = @now, cancel_reason = @reason, cancelled_by = @by, updated_at = @now
         WHERE status IN ('running', 'waiting') AND cancel_requested_at IS NULL AND ${MATCH} RETURNING *`

/** Cancels the selected runs in one transaction. */
export function cancelRuns(db: SqliteConnection, selection: CancelSelection, reason: string, now: number, by: string | null = null): CancelOutcome {
  const ids = JSON.stringify(selection.ids ?? [])
  const pools = JSON.stringify(selection.poolIds ?? [])
  return db.write(() => {
    const cancelled = db.stmt(CANCEL_PENDING).all({ ids, pools, now, reason, by, error: JSON.stringify(cancelledError(reason)) }) as RunRow[]
    const requested = db.stmt(REQUEST_CANCEL).all({ ids, pools, now, reason, by }) as RunRow[]
    return { cancelled: cancelled.map(toRun), requested: requested.map(toRun) }
  })
}
