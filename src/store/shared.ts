/**
 * Pieces both SQL backends use: grouping of new runs by their shared columns, mapping of claim
 * rows, folding of counts. Nothing here touches a driver.
 */
import type { BackoffSpec } from '../task/backoff.js'
import type { RunError } from '../task/context.js'
import { attemptsLeftAfter, type ClaimedRun, type ExpiredRun, type NewRun, type PoolCounts, type ThroughputBucket } from './types.js'

/**
 * A claimed row as both backends return it (array mode), in this column order:
 * id, task, label, queue, pool_id, args, tags, attempt, attempt_base, max_attempts, backoff,
 * timeout_ms, log_count.
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
]

/** A claim row as a {@link ClaimedRun} with the claim's token. */
export function toClaimedRun(row: ClaimRow, token: string): ClaimedRun {
  const [id, task, label, queue, poolId, args, tags, attempt, attemptBase, maxAttempts, backoff, timeoutMs, logCount] = row
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
  }
}

/** A group of new runs that agree on every column but id, arguments and keys. */
export interface RunGroup {
  readonly shared: NewRun
  readonly rows: NewRun[]
}

/**
 * Groups new runs by their shared columns, keeping order within each group. Usually one group
 * (one enqueueMany): each run is compared with the last group first; distinct groups beyond
 * that go through a keyed map.
 */
export function groupRuns(runs: readonly NewRun[]): RunGroup[] {
  const groups: RunGroup[] = []
  const keyed = new Map<string, RunGroup>()
  for (const run of runs) {
    let group = groups.at(-1)
    if (group === undefined || !sharesColumns(group.shared, run)) {
      const key = sharedKey(run)
      group = keyed.get(key)
      if (group === undefined) {
        group = { shared: run, rows: [] }
        groups.push(group)
        keyed.set(key, group)
      }
    }
    group.rows.push(run)
  }
  return groups
}

function sharedKey(r: NewRun): string {
  return JSON.stringify([r.task, r.label, r.queue, r.priority, r.tags, r.category, r.createdBy, r.parentId, r.poolId, r.scheduleId, r.maxAttempts, r.backoff, r.timeoutMs, r.runAt, r.notAfter, r.createdAt])
}

function sharesColumns(a: NewRun, b: NewRun): boolean {
  return (
    a.task === b.task &&
    a.label === b.label &&
    a.queue === b.queue &&
    a.priority === b.priority &&
    a.category === b.category &&
    a.createdBy === b.createdBy &&
    a.parentId === b.parentId &&
    a.poolId === b.poolId &&
    a.scheduleId === b.scheduleId &&
    a.maxAttempts === b.maxAttempts &&
    a.timeoutMs === b.timeoutMs &&
    a.runAt === b.runAt &&
    a.notAfter === b.notAfter &&
    a.createdAt === b.createdAt &&
    (a.backoff === b.backoff || JSON.stringify(a.backoff) === JSON.stringify(b.backoff)) &&
    (a.tags === b.tags || (a.tags.length === b.tags.length && a.tags.every((t, i) => t === b.tags[i])))
  )
}

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

/** Per-bucket counts (bucket index, status, count) into every bucket from `since` to `until`. */
export function bucketsFrom(rows: readonly { b: number | string; status: string; n: number | string }[], since: number, until: number, bucketMs: number): ThroughputBucket[] {
  const count = Math.max(0, Math.ceil((until - since) / bucketMs))
  const buckets = Array.from({ length: count }, (_, i) => ({ start: new Date(since + i * bucketMs), succeeded: 0, failed: 0, cancelled: 0 }))
  for (const row of rows) {
    const bucket = buckets[Math.floor(Number(row.b))]
    if (bucket !== undefined && (row.status === 'succeeded' || row.status === 'failed' || row.status === 'cancelled')) bucket[row.status] += Number(row.n)
  }
  return buckets
}

/** Folds per-status counts into {@link PoolCounts}. */
export function countsFrom(rows: readonly { status: string; n: number | string; progress: number | string | null; first: number | string | null; last: number | string | null }[]): PoolCounts {
  const counts = { total: 0, pending: 0, running: 0, waiting: 0, succeeded: 0, failed: 0, cancelled: 0, progressSum: 0 }
  let first: number | null = null
  let last: number | null = null
  for (const row of rows) {
    const n = Number(row.n)
    counts.total += n
    if (row.status in counts) counts[row.status as 'pending'] += n
    if (row.status === 'pending' || row.status === 'running' || row.status === 'waiting') counts.progressSum += Number(row.progress ?? 0)
    if (row.first !== null) first = first === null ? Number(row.first) : Math.min(first, Number(row.first))
    if (row.last !== null) last = last === null ? Number(row.last) : Math.max(last, Number(row.last))
  }
  return { ...counts, firstCreatedAt: first === null ? null : new Date(first), lastFinishedAt: last === null ? null : new Date(last) }
}
