/**
 * Claiming: `claim_runs_by_tid` (migration 18, after `claim_runs_counted` of migration 4:
 * `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)` joined on the locked rows' ctid, in a plpgsql
 * function only for its planner settings) when no cap binds; else
 * {@link ClaimPlan} rounds over `claim_candidates` in one transaction. Rows come back as arrays.
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { ClaimPlan, atClaimTime, hasGlobalLimits, limitsBind, withGlobalCaps } from '../claim-plan.js'
import type { ClaimRequest, ClaimedRun } from '../contract/queue.js'
import { CLAIM_COLUMNS, toClaimedRun, type ClaimRow } from '../sql/claim-rows.js'
import type { PostgresConnection, Queryable } from './connection.js'
import { LIMIT_LOCK_CLASS, countUsage, lockKeys, lockLimits, recordServed, recordStarts } from './flow-usage.js'

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
  if (hasGlobalLimits(request)) {
    if (oneStatement(request)) {
      // Most claims under such limits: one statement, which claims unless a limit would bind.
      const claimed = await claimUnderRoom(conn, db, request, randomUUID())
      if (claimed !== undefined) return claimed
    }
    return conn.transaction((client) => claimInTransaction(conn, client, request))
  }
  if (!limitsBind(request)) return claimFast(conn, db, request, randomUUID(), conn.asyncClaims)
  return conn.transaction((client) => claimLimited(conn, client, request, randomUUID()))
}

/** A claim inside the caller's transaction (a write batch's, or its own when under limits across workers). */
export async function claimInTransaction(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest): Promise<ClaimedRun[]> {
  if (!hasGlobalLimits(request)) return limitsBind(request) ? claimLimited(conn, client, request, randomUUID()) : claimFast(conn, client, request, randomUUID())
  if (oneStatement(request)) {
    // Most claims under such limits: one statement, which claims unless a limit would bind (its
    // locks stay held until the caller commits; the rounds below take them again, re-entrant).
    const claimed = await claimUnderRoom(conn, client, request, randomUUID())
    if (claimed !== undefined) return claimed
  }
  await lockLimits(conn, client, request)
  request = atClaimTime(request)
  const usage = await countUsage(conn, client, request)
  request = withGlobalCaps(request, usage)
  const grouped = [...(request.groups?.keys() ?? [])].filter((task) => request.tasks.includes(task))
  const token = randomUUID()
  const claimed = limitsBind(request) || grouped.length > 0 ? await claimLimited(conn, client, request, token, grouped) : await claimFast(conn, client, request, token)
  await recordStarts(conn, client, request, usage, claimed)
  return claimed
}

/**
 * Whether a claim under limits across workers may try the one statement (`claim_runs_limited`):
 * concurrency limits only (no rates, no groups) and no cap of the worker's own that binds.
 */
export function oneStatement(request: ClaimRequest): boolean {
  return (request.taskRates?.size ?? 0) === 0 && (request.queueRates?.size ?? 0) === 0 && (request.groups?.size ?? 0) === 0 && !limitsBind(request)
}

/**
 * A claim under concurrency limits across workers in one statement (`claim_runs_limited`,
 * migration 5): the claimed runs, or `undefined` when a limit would bind (then nothing was claimed).
 */
async function claimUnderRoom(conn: PostgresConnection, db: Queryable, request: ClaimRequest, token: string): Promise<ClaimedRun[] | undefined> {
  const tasks = [...(request.globalTaskLimits ?? new Map<string, number>())]
  const queues = [...(request.globalQueueLimits ?? new Map<string, number>())]
  const rows = await conn.queryArrays<ClaimRow>(db, `SELECT ${CLAIM_COLUMNS} FROM ${conn.tables.claimRunsLimited}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, [
    LIMIT_LOCK_CLASS,
    lockKeys(conn, request),
    tasks.map(([task]) => task),
    tasks.map(([, limit]) => limit),
    queues.map(([queue]) => queue),
    queues.map(([, limit]) => limit),
    ...claimArgs(request, token),
  ])
  if (rows.length === 1 && rows[0]![0] === null) return undefined
  return rows.map((row) => toClaimedRun(row, token))
}

/** The arguments of claim_runs_counted (migration 4), also the last of claim_runs_limited's. */
function claimArgs(request: ClaimRequest, token: string): unknown[] {
  return [request.now, request.tasks, request.queues ?? null, request.limit, request.workerId, token, request.leaseUntil]
}

/**
 * A claim on its own, committing without waiting for its WAL flush (`synchronous_commit` set for
 * its own transaction only, the statement's): what it writes is a lease, which a server crash may
 * undo at no cost but running the run again, as after a worker's crash. Only for a statement that
 * is its own transaction and writes nothing else (see PostgresStoreOptions.synchronous).
 */
const ASYNC_COMMIT = "CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS claim_commit"

/** A claim no limit binds: one statement (see claim_runs_by_tid, migration 18); `asyncCommit` only when that statement is its own transaction. */
async function claimFast(conn: PostgresConnection, db: Queryable, request: ClaimRequest, token: string, asyncCommit = false): Promise<ClaimedRun[]> {
  const rows = await conn.queryArrays<ClaimRow>(db, `SELECT ${CLAIM_COLUMNS} FROM ${conn.tables.claimRuns}($1, $2, $3, $4, $5, $6, $7)${asyncCommit ? ` ${ASYNC_COMMIT}` : ''}`, claimArgs(request, token))
  return rows.map((row) => toClaimedRun(row, token))
}

/** Typed NULLs for the claim columns after `id` (see {@link ClaimRow}), for the rows of a fused update. */
const CLAIM_NULLS = 'NULL::text, NULL::text, NULL::text, NULL::text, NULL::json, NULL::json, NULL::int4, NULL::int4, NULL::int8, NULL::json, NULL::int8, NULL::int4, NULL::text, NULL::text'

/** What {@link claimAfterUpdate} returns: the (id, token) rows of the update, and the claimed runs. */
export interface FusedClaim {
  readonly updated: { id: string; token: string }[]
  readonly claimed: ClaimedRun[]
}

/**
 * An UPDATE of runs (`update`: `UPDATE … RETURNING <id>, <token>`, parameters from $1) and a
 * claim no limit binds (see {@link claimFast}) as one statement: one round trip and one commit
 * for a batch's writes and the claim that refills the slots they free, instead of BEGIN, the
 * update, the claim and COMMIT. The update runs first (it is read first); the claim's own
 * statement takes a later snapshot and skips the rows the update locked, so the two lock in the
 * same order as in a transaction of two statements.
 */
export async function claimAfterUpdate(conn: PostgresConnection, db: Queryable, update: { text: string; values: unknown[] }, request: ClaimRequest): Promise<FusedClaim> {
  const token = randomUUID()
  const n = update.values.length
  const params = Array.from({ length: 7 }, (_, i) => `$${n + i + 1}`).join(', ')
  const text = `WITH done AS (${update.text})
    SELECT done.token, done.id, ${CLAIM_NULLS} FROM done
    UNION ALL
    SELECT NULL, ${CLAIM_COLUMNS} FROM ${conn.tables.claimRuns}(${params})`
  const rows = await conn.queryArrays<[string | null, ...ClaimRow]>(db, text, [...update.values, ...claimArgs(request, token)])
  const updated: { id: string; token: string }[] = []
  const claimed: ClaimedRun[] = []
  for (const [held, ...row] of rows) {
    if (held === null) claimed.push(toClaimedRun(row, token))
    else updated.push({ id: row[0], token: held })
  }
  return { updated, claimed }
}

/** Whether a claim can be fused into a write (see {@link claimAfterUpdate}): no limit across workers, none binding. */
export function fusable(request: ClaimRequest): boolean {
  return !hasGlobalLimits(request) && !limitsBind(request)
}

/**
 * A grouped task's candidates, fairly: its group keys with pending runs, found by a skip scan of
 * `runs_pending_groups` (one index seek per key, not a read of every pending run); in each with
 * room (fewer than $5 running) its first due runs, numbered from the group's running count up.
 * The first free slot of every group comes before any group's second, and among equals the group
 * served longest ago goes first. Claims of a grouped task hold its advisory lock, so no other
 * claim takes these rows meanwhile.
 */
const GROUP_ROUND = (t: PostgresConnection['tables']): string => `WITH RECURSIVE keys AS (
    (SELECT group_key FROM ${t.runs} WHERE task = $1 AND status = 'pending' AND group_key IS NOT NULL ORDER BY group_key LIMIT 1)
    UNION ALL
    SELECT (SELECT r.group_key FROM ${t.runs} r WHERE r.task = $1 AND r.status = 'pending' AND r.group_key IS NOT NULL AND r.group_key > keys.group_key ORDER BY r.group_key LIMIT 1)
    FROM keys WHERE keys.group_key IS NOT NULL
  ), running AS (
    SELECT group_key, count(*) AS n FROM ${t.runs} WHERE status IN ('running', 'waiting') AND status = 'running' AND task = $1 AND group_key IS NOT NULL GROUP BY group_key
  )
  SELECT h.id, h.task, h.queue, k.group_key AS "groupKey" FROM keys k
    LEFT JOIN running g ON g.group_key = k.group_key
    LEFT JOIN ${t.flowGroups} s ON s.task = $1 AND s.group_key = k.group_key
    CROSS JOIN LATERAL (
      SELECT r.id, r.task, r.queue, r.priority, r.run_at, row_number() OVER (ORDER BY r.priority DESC, r.run_at, r.id) AS rn
      FROM ${t.runs} r
      WHERE r.task = $1 AND r.group_key = k.group_key AND r.status = 'pending' AND r.run_at <= $2 AND (r.not_after IS NULL OR r.not_after > $2)
        AND ($3::text[] IS NULL OR r.queue = ANY ($3::text[])) AND r.queue <> ALL ($4::text[])
      ORDER BY r.priority DESC, r.run_at, r.id
      LIMIT greatest(0, $5 - coalesce(g.n, 0))
    ) h
  WHERE k.group_key IS NOT NULL
  ORDER BY h.rn + coalesce(g.n, 0), coalesce(s.served_at, 0), h.priority DESC, h.run_at, h.id
  LIMIT $6`

/** A claim under binding limits: {@link ClaimPlan} rounds inside the caller's transaction, grouped tasks' groups first. */
async function claimLimited(conn: PostgresConnection, client: pg.ClientBase, request: ClaimRequest, token: string, grouped: readonly string[] = []): Promise<ClaimedRun[]> {
  const select =
    grouped.length === 0
      ? `SELECT id, task, queue FROM ${conn.tables.claimCandidates}($1, $2, $3, $4, $5, $6)`
      : `SELECT id, task, queue FROM ${conn.tables.claimCandidatesUngrouped}($1, $2, $3, $4, $5, $6, $7)`
  // The same start rule as claim_runs_counted (migration 4).
  const take = `UPDATE ${conn.tables.runs} r SET status = 'running', attempt = r.attempt + 1,
        started_at = CASE WHEN r.attempt + 1 - r.attempt_base < r.max_attempts THEN $2::int8 END, updated_at = $2, worker_id = $3,
        lease_token = $4, lease_expires_at = $5
      WHERE r.id = ANY($1::text[]) AND r.status = 'pending'
      RETURNING ${CLAIM_RETURNING}`
  const plan = new ClaimPlan(request)
  const claimed: ClaimedRun[] = []
  const takeRuns = async (ids: string[]): Promise<void> => {
    const rows = await conn.queryArrays<ClaimRow>(client, take, [ids, request.now, request.workerId, token, request.leaseUntil])
    for (const row of rows) claimed.push(toClaimedRun(row, token))
  }
  for (const task of grouped) {
    const free = Math.min(plan.remaining, plan.taskFree(task) ?? plan.remaining)
    if (free <= 0) continue
    const candidates = await conn.query<{ id: string; task: string; queue: string; groupKey: string }>(client, GROUP_ROUND(conn.tables), [
      task,
      request.now,
      request.queues ?? null,
      plan.full.queues,
      request.groups!.get(task)!,
      free + 8,
    ])
    const accepted = plan.accept(candidates, false)
    if (accepted.length === 0) continue
    await takeRuns(accepted.map((c) => c.id))
    await recordServed(conn, client, task, accepted.map((c) => c.groupKey), request.now)
  }
  for (let round = plan.next(); round !== undefined; round = plan.next()) {
    // Rows locked here but not accepted stay locked (skipped by other claimers) until commit.
    const params: unknown[] = [request.now, request.tasks, request.queues ?? null, round.fullTasks, round.fullQueues, round.count]
    if (grouped.length > 0) params.push(grouped)
    const candidates = await conn.query<{ id: string; task: string; queue: string }>(client, select, params)
    const accepted = plan.accept(candidates)
    if (accepted.length > 0) await takeRuns(accepted.map((c) => c.id))
  }
  return claimed
}
