/** Cancel: pending runs end at once; running and waiting ones get a request their workers see. */
import type { CancelOutcome, CancelSelection } from '../contract/admin.js'
import type { Run } from '../contract/runs.js'
import { cancelledError } from '../sql/run-errors.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection } from './connection.js'
import { RUN_COLUMNS } from './dialect.js'

/** Cancels the selected runs in one statement. */
export async function cancelRuns(conn: PostgresConnection, selection: CancelSelection, reason: string, now: number, by: string | null = null): Promise<CancelOutcome> {
  const db = await conn.db()
  // One statement: a run that changes state meanwhile (claimed, retried) is re-checked on its
  // newest version after its lock, and ends cancelled or asked to cancel by what it is then.
  const rows = await conn.query<RunRow>(
    db,
    `UPDATE ${conn.tables.runs} SET
         status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
         finished_at = CASE WHEN status = 'pending' THEN $3 ELSE finished_at END,
         error = CASE WHEN status = 'pending' THEN $5::json ELSE error END,
         cancel_requested_at = $3, cancel_reason = $4, cancelled_by = $6, updated_at = $3
       WHERE (id = ANY($1::text[]) OR pool_id = ANY($2::text[]))
         AND (status = 'pending' OR (status IN ('running', 'waiting') AND cancel_requested_at IS NULL))
       RETURNING ${RUN_COLUMNS}`,
    [selection.ids ?? [], selection.poolIds ?? [], now, reason, JSON.stringify(cancelledError(reason)), by],
  )
  const cancelled: Run[] = []
  const requested: Run[] = []
  for (const row of rows) (row.status === 'cancelled' ? cancelled : requested).push(toRun(row))
  return { cancelled, requested }
}
