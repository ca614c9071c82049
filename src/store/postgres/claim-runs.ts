/**
 * Claiming: `claim_runs_counted` (migration 4: `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`
 * in a plpgsql function only for its planner settings) when no cap binds; else
 * {@link ClaimPlan} rounds over `claim_candidates` in one transaction. Rows come back as arrays.
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { ClaimPlan, globalLimitKeys, hasGlobalLimits, limitsBind, withGlobalCaps, type RunningCounts } from '../claim-plan.js'
import type { ClaimRequest, ClaimedRun } from '../contract/queue.js'
import { CLAIM_COLUMNS, toClaimedRun, type ClaimRow } from '../sql/claim-rows.js'
import type { PostgresConnection, Queryable } from './connection.js'

const CLAIM_RETURNING = CLAIM_COLUMNS.split(', ')
  .map((column) => `r.${column}`)
  .join(', ')

/** Claims runs: one statement, or a transaction of rounds when a cap binds. */
export async function claimRuns(conn: PostgresConnection, request: ClaimRequest): Promise<ClaimedRun[]> {
  if (request.limit <= 0 || request.tasks.length === 0) return []
  return claimThrough(conn, await conn.db(), request)
}

/** A claim outside a transaction of the caller's. */
export async function claimThrough(conn: PostgresConnection, db: pg.Pool, request: ClaimRequest): Promise<ClaimedRun[]> {
  if (hasGlobalLimits(request)) return conn.transaction((client) => claimInTransaction(conn, client, request))
  if (!limitsBind(request)) return claimFast(conn, db, request, randomUUID())
  return conn.transaction((client) => claimLimited(conn, client, request, randomUUID()))
}

/** A claim inside the caller's transaction (a write batch's). */
export async function claimInTransaction(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest): Promise<ClaimedRun[]> {
  if (hasGlobalLimits(request)) request = withGlobalCaps(request, await lockAndCount(conn, client, request))
  return limitsBind(request) ? claimLimited(conn, client, request, randomUUID()) : claimFast(conn, client, request, randomUUID())
}

/** The advisory lock class of claims under a global limit (the other key is the limit's name). */
const LIMIT_LOCK_CLASS = 0x6c696d74

/**
 * Serializes this claim with every other claim under the same global limits (transaction-level
 * advisory locks, taken in one order, held until commit), then counts the runs running now per
 * limited task and queue. Another claim under these limits waits for this one's commit, so it
 * counts the runs this one takes; claims of unlimited tasks never wait.
 */
async function lockAndCount(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest): Promise<RunningCounts> {
  const keys = globalLimitKeys(request).map((key) => `${conn.schema}:${key}`)
  await conn.query(client, 'SELECT pg_advisory_xact_lock($1::int4, hashtext(k)) FROM unnest($2::text[]) WITH ORDINALITY AS l(k, n) ORDER BY n', [LIMIT_LOCK_CLASS, keys])
  const count = async (column: 'task' | 'queue', limited: Iterable<string> | undefined): Promise<Map<string, number>> => {
    const list = [...(limited ?? [])]
    if (list.length === 0) return new Map()
    const rows = await conn.queryArrays<[string, string]>(
      client,
      `SELECT ${column}, count(*) FROM ${conn.tables.runs} WHERE status = 'running' AND ${column} = ANY($1::text[]) GROUP BY ${column}`,
      [list],
    )
    return new Map(rows.map(([key, n]) => [key, Number(n)]))
  }
  return { tasks: await count('task', request.globalTaskLimits?.keys()), queues: await count('queue', request.globalQueueLimits?.keys()) }
}

/** A claim no limit binds: one statement (see claim_runs_counted, migration 4). */
async function claimFast(conn: PostgresConnection, db: Queryable, request: ClaimRequest, token: string): Promise<ClaimedRun[]> {
  const rows = await conn.queryArrays<ClaimRow>(db, `SELECT ${CLAIM_COLUMNS} FROM ${conn.tables.claimRuns}($1, $2, $3, $4, $5, $6, $7)`, [
    request.now,
    request.tasks,
    request.queues ?? null,
    request.limit,
    request.workerId,
    token,
    request.leaseUntil,
  ])
  return rows.map((row) => toClaimedRun(row, token))
}

/** A claim under binding limits: {@link ClaimPlan} rounds inside the caller's transaction. */
async function claimLimited(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest, token: string): Promise<ClaimedRun[]> {
  const select = `SELECT id, task, queue FROM ${conn.tables.claimCandidates}($1, $2, $3, $4, $5, $6)`
  // The same start rule as claim_runs_counted (migration 4).
  const take = `UPDATE ${conn.tables.runs} r SET status = 'running', attempt = r.attempt + 1,
        started_at = CASE WHEN r.attempt + 1 - r.attempt_base < r.max_attempts THEN $2::int8 END, updated_at = $2, worker_id = $3,
        lease_token = $4, lease_expires_at = $5
      WHERE r.id = ANY($1::text[]) AND r.status = 'pending'
      RETURNING ${CLAIM_RETURNING}`
  const plan = new ClaimPlan(request)
  const claimed: ClaimedRun[] = []
  for (let round = plan.next(); round !== undefined; round = plan.next()) {
    // Rows locked here but not accepted stay locked (skipped by other claimers) until commit.
    const candidates = await conn.query<{ id: string; task: string; queue: string }>(client, select, [
      request.now,
      request.tasks,
      request.queues ?? null,
      round.fullTasks,
      round.fullQueues,
      round.count,
    ])
    const accepted = plan.accept(candidates)
    if (accepted.length === 0) continue
    const rows = await conn.queryArrays<ClaimRow>(client, take, [accepted.map((c) => c.id), request.now, request.workerId, token, request.leaseUntil])
    for (const row of rows) claimed.push(toClaimedRun(row, token))
  }
  return claimed
}
