/**
 * What limits across workers count, inside a claim's transaction: first a transaction-level
 * advisory lock per limited task and queue (taken in one order, held until commit), so claims
 * under the same limits run one after another and each counts the runs the one before took;
 * then running runs per limited task and queue and starts in each rate limit's window (the log
 * `rate_starts`, pruned as it is read); afterwards the claim's own starts and the groups it served.
 */
import type pg from 'pg'
import { fullWindows, globalLimitKeys, rateLimitsByKey, rateOpensAt, rateSince, rateStartKeys, type RunningCounts } from '../claim-plan.js'
import type { ClaimRequest, ClaimedRun } from '../contract/queue.js'
import type { PostgresConnection } from './connection.js'

/** The advisory lock class of claims under a global limit (the other key is the limit's name). */
export const LIMIT_LOCK_CLASS = 0x6c696d74

/** The advisory lock keys of a claim's limits, in the one order every claim takes them. */
export function lockKeys(conn: PostgresConnection, request: ClaimRequest): string[] {
  return globalLimitKeys(request).map((key) => `${conn.schema}:${key}`)
}

/**
 * Serializes this claim with every other under the same limits. The counts that follow read the
 * partial index of leased runs in plain index scans, which mark the entries of runs no longer
 * leased as dead as they pass them (a bitmap scan would visit every run finished since the last
 * vacuum on each claim; see claim_runs_limited, migration 5).
 */
export async function lockLimits(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest): Promise<void> {
  await conn.query(client, 'SET LOCAL enable_bitmapscan = off', [])
  await conn.query(client, 'SELECT pg_advisory_xact_lock($1::int4, hashtext(k)) FROM unnest($2::text[]) WITH ORDINALITY AS l(k, n) ORDER BY n', [LIMIT_LOCK_CLASS, lockKeys(conn, request)])
}

/** Counts the usage of the request's limits (holding their locks). */
export async function countUsage(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest): Promise<RunningCounts> {
  const count = async (column: 'task' | 'queue', limited: Iterable<string> | undefined): Promise<Map<string, number>> => {
    const list = [...(limited ?? [])]
    if (list.length === 0) return new Map()
    const rows = await conn.queryArrays<[string, string]>(
      client,
      // Through the partial index of leased runs (its condition stated so that it applies).
      `SELECT ${column}, count(*) FROM ${conn.tables.runs} WHERE status IN ('running', 'waiting') AND status = 'running' AND ${column} = ANY($1::text[]) GROUP BY ${column}`,
      [list],
    )
    return new Map(rows.map(([key, n]) => [key, Number(n)]))
  }
  const usage = { tasks: await count('task', request.globalTaskLimits?.keys()), queues: await count('queue', request.globalQueueLimits?.keys()), starts: new Map<string, number>() }
  const rates = rateLimitsByKey(request)
  if (rates.size > 0) {
    const names = [...rates.keys()]
    const since = names.map((key) => rateSince(rates.get(key)!, request.now))
    const rows = await conn.queryArrays<[string, string]>(
      client,
      `WITH pruned AS (DELETE FROM ${conn.tables.rateStarts} s USING unnest($1::text[], $2::int8[]) AS k(key, since) WHERE s.limit_key = k.key AND s.at <= k.since)
       SELECT k.key, (SELECT count(*) FROM ${conn.tables.rateStarts} s WHERE s.limit_key = k.key AND s.at > k.since) FROM unnest($1::text[], $2::int8[]) AS k(key, since)`,
      [names, since],
    )
    for (const [key, n] of rows) usage.starts.set(key, Number(n))
  }
  return usage
}

/** Logs the claimed runs' starts under rate limits and reports when the earliest full window next opens (see the SQLite store's `recordStarts`). */
export async function recordStarts(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest, usage: RunningCounts, claimed: readonly ClaimedRun[]): Promise<void> {
  if (request.taskRates === undefined && request.queueRates === undefined) return
  const keys = rateStartKeys(request, claimed)
  // Logged at the clock's time now, the claim done: the handlers start right after this commits.
  const at = request.clock?.() ?? request.now
  if (keys.length > 0) await conn.query(client, `INSERT INTO ${conn.tables.rateStarts} (limit_key, at) SELECT unnest($1::text[]), $2`, [keys, at])
  let next: number | undefined
  for (const { key, rate, offset } of fullWindows(request, usage, keys)) {
    const rows = await conn.queryArrays<[string]>(client, `SELECT at FROM ${conn.tables.rateStarts} WHERE limit_key = $1 ORDER BY at OFFSET $2 LIMIT 1`, [key, offset])
    const opens = rateOpensAt(rate, rows[0] === undefined ? at : Number(rows[0][0]))
    next = next === undefined ? opens : Math.min(next, opens)
  }
  if (next !== undefined) request.onRateLimited?.(next)
}

/** Marks groups of a grouped task as served now (claims serve the least recently served first). */
export async function recordServed(conn: PostgresConnection, client: pg.ClientBase, task: string, groupKeys: readonly string[], now: number): Promise<void> {
  await conn.query(
    client,
    `INSERT INTO ${conn.tables.flowGroups} (task, group_key, served_at) SELECT $1, unnest($2::text[]), $3
     ON CONFLICT (task, group_key) DO UPDATE SET served_at = excluded.served_at`,
    [task, [...new Set(groupKeys)], now],
  )
}
