/** The soft delete of a run, the same statement in both SQL backends. */
import type { SqlDialect } from './dialect.js'

/** Placeholders of {@link deleteRunSql}'s values. */
export interface DeleteRunParams {
  /** The run's id. */
  readonly id: string
  /** The time of the delete. */
  readonly now: string
  /** JSON text of the error a pending run is cancelled with (`DELETED_ERROR_JSON`). */
  readonly error: string
}

/**
 * Marks a run deleted and returns it (nothing for an unknown or already deleted run). A pending
 * run is cancelled so it never executes; a running or waiting one gets a cancel request (reason
 * `deleted`) unless it has one; a finished one keeps its state.
 */
export function deleteRunSql(d: SqlDialect, p: DeleteRunParams): string {
  const active = `('pending', 'running', 'waiting')`
  return `UPDATE ${d.runs} SET deleted_at = ${p.now}, updated_at = ${p.now},
     finished_at = CASE WHEN status = 'pending' THEN ${p.now} ELSE finished_at END,
     error = CASE WHEN status = 'pending' THEN ${d.json(p.error)} ELSE error END,
     cancel_requested_at = CASE WHEN status IN ${active} THEN coalesce(cancel_requested_at, ${p.now}) ELSE cancel_requested_at END,
     cancel_reason = CASE WHEN status IN ${active} THEN coalesce(cancel_reason, 'deleted') ELSE cancel_reason END,
     status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END
   WHERE id = ${p.id} AND deleted_at IS NULL RETURNING ${d.runColumns}`
}
