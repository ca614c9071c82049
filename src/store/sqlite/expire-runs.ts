/** Expiry: pending runs past their `notAfter` end cancelled, as expired. */
import type { Run } from '../contract/runs.js'
import { EXPIRED_ERROR_JSON } from '../sql/run-errors.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'

const EXPIRE = `UPDATE runs SET status = 'cancelled', finished_at = @now, updated_at = @now, error = @error, cancel_reason = 'expired'
           WHERE status = 'pending' AND not_after IS NOT NULL AND not_after <= @now RETURNING *`

/** Cancels pending runs past their `notAfter` at `now`; returns them. */
export function expireOverdue(db: SqliteConnection, now: number): Run[] {
  const rows = db.write(() => db.stmt(EXPIRE).all({ now, error: EXPIRED_ERROR_JSON }) as RunRow[])
  return rows.map(toRun)
}
