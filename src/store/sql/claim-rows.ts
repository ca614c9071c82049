/** Claimed runs as both SQL backends return them: array rows (no object per row on the hot path). */
import type { BackoffSpec } from '../../task/backoff.js'
import { attemptsLeftAfter, type ClaimedRun } from '../contract/queue.js'

/** The columns a claim returns, in the order of {@link ClaimRow}. */
export const CLAIM_COLUMNS = 'id, task, label, queue, pool_id, args, tags, attempt, attempt_base, max_attempts, backoff, timeout_ms, log_count, traceparent, tracestate'

/**
 * A claimed row as both backends return it (array mode), in this column order:
 * id, task, label, queue, pool_id, args, tags, attempt, attempt_base, max_attempts, backoff,
 * timeout_ms, log_count, traceparent, tracestate.
 */
export type ClaimRow = [
  id: string,
  task: string,
  label: string,
  queue: string,
  poolId: string | null,
  args: string,
  tags: string,
  attempt: number,
  attemptBase: number,
  maxAttempts: number,
  backoff: string | null,
  timeoutMs: number | null,
  logCount: number,
  traceparent: string | null,
  tracestate: string | null,
]

/** A claim row as a {@link ClaimedRun} with the claim's token. */
export function toClaimedRun(row: ClaimRow, token: string): ClaimedRun {
  const [id, task, label, queue, poolId, args, tags, attempt, attemptBase, maxAttempts, backoff, timeoutMs, logCount, traceparent, tracestate] = row
  return {
    id,
    task,
    label,
    queue,
    poolId,
    args: args === '{}' ? {} : (JSON.parse(args) as Record<string, unknown>),
    tags: tags === '[]' ? [] : (JSON.parse(tags) as string[]),
    attempt,
    attemptBase,
    maxAttempts,
    backoff: backoff === null ? null : (JSON.parse(backoff) as BackoffSpec),
    timeoutMs,
    logCount,
    token,
    started: attemptsLeftAfter({ attempt, attemptBase, maxAttempts }),
    traceparent,
    tracestate,
  }
}
