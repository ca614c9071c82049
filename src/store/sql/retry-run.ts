/** The manual retry of a failed or cancelled run, the same statement in both SQL backends. */
import { ConflictError } from '../../errors.js'
import type { SqlDialect } from './dialect.js'

/** Placeholders of {@link retryRunSql}'s values. */
export interface RetryRunParams {
  /** The run's id. */
  readonly id: string
  /** The time of the retry. */
  readonly now: string
}

/**
 * Failed or cancelled (and not deleted) → pending at `now` with a fresh attempt budget
 * (`attempt_base = attempt`), no error, data, progress, cancel request or lease; the attempt that
 * ended the run joins the history first (finishing a run writes it in the run's own columns
 * only). Returns the run, or nothing when it is in no retryable state, or executed in-process
 * (a worker must not execute what its caller ran in its own process).
 */
export function retryRunSql(d: SqlDialect, p: RetryRunParams): string {
  return `UPDATE ${d.runs} SET status = 'pending', attempt_base = attempt, run_at = ${p.now}, enqueued_at = ${p.now}, updated_at = ${p.now},
     attempts = CASE WHEN started_at IS NOT NULL AND json_array_length(attempts) < attempt THEN ${d.appendAttempt('attempts', d.currentAttemptJson)} ELSE attempts END,
     finished_at = NULL, error = NULL, data = NULL, progress = NULL, cancel_requested_at = NULL, cancel_reason = NULL, cancelled_by = NULL,
     lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
   WHERE id = ${p.id} AND status IN ('failed', 'cancelled') AND deleted_at IS NULL AND in_process IS NULL RETURNING ${d.runColumns}`
}

/**
 * The error for a retry the store refused because another active run holds the run's unique key,
 * or `undefined` when `error` is something else.
 */
export function retryConflict(d: SqlDialect, id: string, error: unknown): ConflictError | undefined {
  const index = d.uniqueViolation(error)
  if (index === undefined) return undefined
  return new ConflictError(`cannot retry run ${id}: another active run holds its unique key${index === '' ? '' : ` (${index})`}`, { cause: error })
}
