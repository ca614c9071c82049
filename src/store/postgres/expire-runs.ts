/** Expiry: pending runs past their `notAfter` end cancelled, as expired. */
import type { Run } from '../contract/runs.js'
import { EXPIRED_ERROR_JSON } from '../sql/run-errors.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection } from './connection.js'
import { RUN_COLUMNS } from './dialect.js'

/** Cancels pending runs past their `notAfter` at `now`; returns them. */
export async function expireOverdue(conn: PostgresConnection, now: number): Promise<Run[]> {
  const db = await conn.db()
  const rows = await conn.query<RunRow>(
    db,
    `UPDATE ${conn.tables.runs} SET status = 'cancelled', finished_at = $1, updated_at = $1, error = $2::json, cancel_reason = 'expired'
       WHERE status = 'pending' AND not_after IS NOT NULL AND not_after <= $1 RETURNING ${RUN_COLUMNS}`,
    [now, EXPIRED_ERROR_JSON],
  )
  return rows.map(toRun)
}
