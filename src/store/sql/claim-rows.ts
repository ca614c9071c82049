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
  return claimedRun(id, task, label, queue, args, tags, attempt, attemptBase, maxAttempts, poolId, backoff, timeoutMs, logCount, traceparent, tracestate, token)
}

/**
 * The claim columns most runs leave at their defaults (no pool, backoff, time limit, earlier log
 * lines or trace), packed into one: `NULL` when all are, else a JSON array of them in this order.
 * Every column a claim returns costs SQLite a value in its RETURNING record and the driver a
 * conversion (measured: these six ≈ 0.5 µs of a run's claim); one `NULL` costs almost nothing.
 */
export const PACKED_RARE_COLUMNS = `CASE WHEN pool_id IS NULL AND backoff IS NULL AND timeout_ms IS NULL AND log_count = 0 AND traceparent IS NULL AND tracestate IS NULL
  THEN NULL ELSE json_array(pool_id, backoff, timeout_ms, log_count, traceparent, tracestate) END`

/** The columns of a claim with the rare ones packed (SQLite), in the order of {@link PackedClaimRow}. */
export const PACKED_CLAIM_COLUMNS = `id, task, label, queue, args, tags, attempt, attempt_base, max_attempts, ${PACKED_RARE_COLUMNS}`

type RareColumns = [poolId: string | null, backoff: string | null, timeoutMs: number | null, logCount: number, traceparent: string | null, tracestate: string | null]
const DEFAULT_RARE: Readonly<RareColumns> = Object.freeze([null, null, null, 0, null, null])

/** A claimed row with its rare columns packed ({@link PACKED_CLAIM_COLUMNS}). */
export type PackedClaimRow = [id: string, task: string, label: string, queue: string, args: string, tags: string, attempt: number, attemptBase: number, maxAttempts: number, rare: string | null]

/** A packed claim row as a {@link ClaimedRun} with the claim's token. */
export function fromPackedClaimRow(row: PackedClaimRow, token: string): ClaimedRun {
  const [id, task, label, queue, args, tags, attempt, attemptBase, maxAttempts, rare] = row
  const [poolId, backoff, timeoutMs, logCount, traceparent, tracestate] = rare === null ? DEFAULT_RARE : (JSON.parse(rare) as RareColumns)
  return claimedRun(id, task, label, queue, args, tags, attempt, attemptBase, maxAttempts, poolId, backoff, timeoutMs, logCount, traceparent, tracestate, token)
}

/** The claimed run (positional: neither backend's row format needs an object in between). */
function claimedRun(
  id: string,
  task: string,
  label: string,
  queue: string,
  args: string,
  tags: string,
  attempt: number,
  attemptBase: number,
  maxAttempts: number,
  poolId: string | null,
  backoff: string | null,
  timeoutMs: number | null,
  logCount: number,
  traceparent: string | null,
  tracestate: string | null,
  token: string,
): ClaimedRun {
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
