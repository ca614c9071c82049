/** Expired leases as both SQL backends read them for the rescuer. */
import type { BackoffSpec } from '../../task/backoff.js'
import type { RunError } from '../../task/context.js'
import type { ExpiredRun } from '../contract/maintenance.js'

/** The columns of an expired lease, in the order {@link ExpiredRow} names them (both backends). */
export const EXPIRED_COLUMNS = 'id, lease_token, task, queue, pool_id, worker_id, attempt, attempt_base, max_attempts, backoff, started_at, cancel_requested_at, error'

/** An expired lease as both backends read it (JSON columns as text, times as epoch ms). */
export interface ExpiredRow {
  id: string
  lease_token: string
  task: string
  queue: string
  pool_id: string | null
  worker_id: string | null
  attempt: number | string
  attempt_base: number | string
  max_attempts: number | string
  backoff: string | null
  started_at: number | string | null
  cancel_requested_at: number | string | null
  error: string | null
}

/** An expired lease as an {@link ExpiredRun}. */
export function toExpiredRun(row: ExpiredRow): ExpiredRun {
  return {
    id: row.id,
    token: row.lease_token,
    task: row.task,
    queue: row.queue,
    poolId: row.pool_id,
    workerId: row.worker_id,
    attempt: Number(row.attempt),
    attemptBase: Number(row.attempt_base),
    maxAttempts: Number(row.max_attempts),
    backoff: row.backoff === null ? null : (JSON.parse(row.backoff) as BackoffSpec),
    startedAt: row.started_at === null ? null : new Date(Number(row.started_at)),
    cancelRequested: row.cancel_requested_at !== null,
    error: row.error === null ? null : (JSON.parse(row.error) as RunError),
  }
}
