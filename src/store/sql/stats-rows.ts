/** Dashboard counts as both SQL backends query them, folded into the contract's shapes. */
import { RUN_STATES, type RunState } from '../contract/runs.js'
import type { QueueStats, StoreStats, ThroughputBucket } from '../contract/admin.js'

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

/** Pending runs of one queue: how many, the oldest due `run_at` (`null`: none due) and the earliest. */
export interface PendingRow {
  queue: string
  n: number
  oldest: number | null
  next: number | null
}

/** Running or waiting runs of one queue and status, split by whether they are deleted (`live`: not). */
export interface LeasedRow {
  queue: string
  status: 'running' | 'waiting'
  live: boolean | number
  n: number
}

/**
 * {@link StoreStats} from three index reads: pending runs by queue (never deleted: deleting a
 * pending run cancels it), running and waiting ones by queue and status, and the finished ones by
 * status. Deleted running runs count for their queue's load, not in the statuses.
 */
export function statsFrom(pending: readonly PendingRow[], leased: readonly LeasedRow[], finished: { readonly succeeded: number; readonly failed: number; readonly cancelled: number }): StoreStats {
  const statuses = Object.fromEntries(RUN_STATES.map((state) => [state, 0])) as Record<RunState, number>
  const queues = new Map<string, { -readonly [K in keyof QueueStats]: QueueStats[K] }>()
  const entry = (queue: string) => {
    let q = queues.get(queue)
    if (q === undefined) queues.set(queue, (q = { queue, pending: 0, running: 0, oldestPendingAt: null, nextDueAt: null }))
    return q
  }
  for (const row of pending) {
    const q = entry(row.queue)
    q.pending = row.n
    q.oldestPendingAt = row.oldest === null ? null : new Date(row.oldest)
    q.nextDueAt = row.next === null ? null : new Date(row.next)
    statuses.pending += row.n
  }
  for (const row of leased) {
    entry(row.queue).running += row.n
    if (row.live === true || row.live === 1) statuses[row.status] += row.n
  }
  statuses.succeeded = finished.succeeded
  statuses.failed = finished.failed
  statuses.cancelled = finished.cancelled
  return { statuses, queues: [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1)) }
}
