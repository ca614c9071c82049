/**
 * What limits across workers count, inside a claim's transaction (IMMEDIATE, so no other claim
 * runs between these reads and the claim): running runs per limited task and queue, starts in
 * each rate limit's window (the log `rate_starts`, pruned as it is read), and afterwards the
 * claim's own starts and the groups it served.
 */
import { fullWindows, rateLimitsByKey, rateOpensAt, rateSince, rateStartKeys, type RunningCounts } from '../claim-plan.js'
import type { ClaimRequest, ClaimedRun } from '../contract/queue.js'
import type { SqliteConnection } from './connection.js'

// Running runs under a global limit, read through the partial index of leased runs (its
// condition stated so the index applies).
const runningBy = (column: 'task' | 'queue'): string => `SELECT ${column}, COUNT(*) FROM runs INDEXED BY runs_leased
  WHERE status IN ('running', 'waiting') AND status = 'running' AND ${column} IN (SELECT value FROM json_each(@keys)) GROUP BY ${column}`
const RUNNING_BY_TASK = runningBy('task')
const RUNNING_BY_QUEUE = runningBy('queue')

/** Usage of the request's limits across workers now. */
export function flowUsage(db: SqliteConnection, request: ClaimRequest): RunningCounts {
  const count = (sql: string, keys: Iterable<string> | undefined): Map<string, number> => {
    const list = [...(keys ?? [])]
    if (list.length === 0) return new Map()
    return new Map(db.raw(sql).all({ keys: JSON.stringify(list) }) as [string, number][])
  }
  const starts = new Map<string, number>()
  for (const [key, rate] of rateLimitsByKey(request)) {
    db.stmt('DELETE FROM rate_starts WHERE limit_key = ? AND at <= ?').run(key, rateSince(rate, request.now))
    starts.set(key, (db.raw('SELECT COUNT(*) FROM rate_starts WHERE limit_key = ?').get(key) as [number])[0])
  }
  return { tasks: count(RUNNING_BY_TASK, request.globalTaskLimits?.keys()), queues: count(RUNNING_BY_QUEUE, request.globalQueueLimits?.keys()), starts }
}

/**
 * Logs the starts of the claimed runs under rate limits, and tells the worker (through
 * `onRateLimited`) when the earliest full window next opens: when the start that makes it full
 * leaves the window.
 */
export function recordStarts(db: SqliteConnection, request: ClaimRequest, usage: RunningCounts, claimed: readonly ClaimedRun[]): void {
  if (request.taskRates === undefined && request.queueRates === undefined) return
  const keys = rateStartKeys(request, claimed)
  // Logged at the clock's time now, the claim done: the handlers start right after this commits.
  const at = request.clock?.() ?? request.now
  if (keys.length > 0) db.stmt('INSERT INTO rate_starts (limit_key, at) SELECT value, @at FROM json_each(@keys)').run({ at, keys: JSON.stringify(keys) })
  let next: number | undefined
  for (const { key, rate, offset } of fullWindows(request, usage, keys)) {
    const row = db.raw('SELECT at FROM rate_starts WHERE limit_key = ? ORDER BY at LIMIT 1 OFFSET ?').get(key, offset) as [number] | undefined
    const opens = rateOpensAt(rate, row?.[0] ?? at)
    next = next === undefined ? opens : Math.min(next, opens)
  }
  if (next !== undefined) request.onRateLimited?.(next)
}

/** Marks groups of a grouped task as served now (claims serve the least recently served first). */
export function recordServed(db: SqliteConnection, task: string, groupKeys: readonly string[], now: number): void {
  db.stmt(
    `INSERT INTO flow_groups (task, group_key, served_at) SELECT @task, value, @now FROM json_each(@keys) WHERE true
     ON CONFLICT (task, group_key) DO UPDATE SET served_at = excluded.served_at`,
  ).run({ task, now, keys: JSON.stringify([...new Set(groupKeys)]) })
}
