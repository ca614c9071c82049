/**
 * Claiming: one UPDATE over the partial index of pending runs in claim order when no cap binds,
 * else {@link ClaimPlan} rounds in the same transaction. Rows come back as arrays (raw mode):
 * building an object per row costs more than the update itself.
 */
import { randomUUID } from 'node:crypto'
import { ClaimPlan, hasGlobalLimits, limitsBind, withGlobalCaps, type RunningCounts } from '../claim-plan.js'
import type { ClaimRequest, ClaimedRun } from '../contract/queue.js'
import { CLAIM_COLUMNS, toClaimedRun, type ClaimRow } from '../sql/claim-rows.js'
import type { SqliteConnection } from './connection.js'

// Claims walk the partial index of pending runs in claim order; without the hint the planner
// prefers runs_status and sorts every pending run on each claim.
const CLAIM_ORDER = 'ORDER BY priority DESC, run_at, seq'
// One token per claim: a run is in one claim at a time, so the claim's token fences its writes.
// The claim records the attempt as started for runs with attempts left (the worker may call their
// handlers at once); a run on its last attempt gets no start time until its worker stores one
// before calling the handler (see attemptsLeftAfter: the same rule, read here on the row before
// its attempt goes up).
const CLAIM_SET = `status = 'running', attempt = attempt + 1,
  started_at = CASE WHEN attempt + 1 - attempt_base < max_attempts THEN @now END, updated_at = @now, worker_id = @worker,
  lease_token = @token, lease_expires_at = @leaseUntil`
const CLAIMABLE = `status = 'pending' AND run_at <= @now AND (not_after IS NULL OR not_after > @now)
  AND task IN (SELECT value FROM json_each(@tasks))`
const QUEUE_FILTER = 'AND queue IN (SELECT value FROM json_each(@queues))'
/** The one-statement claim, for any queue and for the queues asked for (built once: the cache looks statements up by text). */
const FAST_CLAIM = (queueFilter: string): string =>
  `UPDATE runs SET ${CLAIM_SET} WHERE seq IN (SELECT seq FROM runs INDEXED BY runs_pending WHERE ${CLAIMABLE} ${queueFilter} ${CLAIM_ORDER} LIMIT @limit) RETURNING ${CLAIM_COLUMNS}`
const FAST_CLAIM_ANY_QUEUE = FAST_CLAIM('')
const FAST_CLAIM_QUEUES = FAST_CLAIM(QUEUE_FILTER)

/** Claims runs in a transaction of its own. */
export function claimRuns(db: SqliteConnection, request: ClaimRequest): ClaimedRun[] {
  if (request.limit <= 0 || request.tasks.length === 0) return []
  return db.write(() => claimInTransaction(db, request))
}

// Running runs under a global limit, read through the partial index of leased runs (its
// condition stated so the index applies). Write transactions are IMMEDIATE, so no other claim
// runs between this count and the claim that follows it.
const runningBy = (column: 'task' | 'queue'): string => `SELECT ${column}, COUNT(*) FROM runs INDEXED BY runs_leased
  WHERE status IN ('running', 'waiting') AND status = 'running' AND ${column} IN (SELECT value FROM json_each(@keys)) GROUP BY ${column}`
const RUNNING_BY_TASK = runningBy('task')
const RUNNING_BY_QUEUE = runningBy('queue')

/** Runs running now (on any worker) per task and per queue under a global limit. */
function runningCounts(db: SqliteConnection, request: ClaimRequest): RunningCounts {
  const count = (sql: string, keys: Iterable<string> | undefined): Map<string, number> => {
    const list = [...(keys ?? [])]
    if (list.length === 0) return new Map()
    return new Map(db.raw(sql).all({ keys: JSON.stringify(list) }) as [string, number][])
  }
  return { tasks: count(RUNNING_BY_TASK, request.globalTaskLimits?.keys()), queues: count(RUNNING_BY_QUEUE, request.globalQueueLimits?.keys()) }
}

/** Claims inside the caller's transaction (a write batch's claim). */
export function claimInTransaction(db: SqliteConnection, request: ClaimRequest): ClaimedRun[] {
  if (request.limit <= 0 || request.tasks.length === 0) return []
  if (hasGlobalLimits(request)) request = withGlobalCaps(request, runningCounts(db, request))
  const params = {
    now: request.now,
    leaseUntil: request.leaseUntil,
    worker: request.workerId,
    token: randomUUID(),
    tasks: JSON.stringify(request.tasks),
    queues: request.queues === undefined ? null : JSON.stringify(request.queues),
  }
  let claimed: ClaimRow[]
  if (!limitsBind(request)) {
    claimed = db.raw(request.queues === undefined ? FAST_CLAIM_ANY_QUEUE : FAST_CLAIM_QUEUES).all({ ...params, limit: request.limit }) as ClaimRow[]
  } else {
    const queueFilter = request.queues === undefined ? '' : QUEUE_FILTER
    const select = db.stmt(
      `SELECT seq, task, queue FROM runs INDEXED BY runs_pending WHERE ${CLAIMABLE} ${queueFilter}
           AND task NOT IN (SELECT value FROM json_each(@fullTasks)) AND queue NOT IN (SELECT value FROM json_each(@fullQueues))
         ${CLAIM_ORDER} LIMIT @limit`,
    )
    const take = db.raw(`UPDATE runs SET ${CLAIM_SET} WHERE seq IN (SELECT value FROM json_each(@seqs)) AND status = 'pending' RETURNING ${CLAIM_COLUMNS}`)
    const plan = new ClaimPlan(request)
    claimed = []
    for (let round = plan.next(); round !== undefined; round = plan.next()) {
      const candidates = select.all({ ...params, limit: round.count, fullTasks: JSON.stringify(round.fullTasks), fullQueues: JSON.stringify(round.fullQueues) }) as {
        seq: number
        task: string
        queue: string
      }[]
      const accepted = plan.accept(candidates)
      if (accepted.length > 0) claimed.push(...(take.all({ ...params, seqs: JSON.stringify(accepted.map((c) => c.seq)) }) as ClaimRow[]))
    }
  }
  // All runs of one claim start at once, so their order among themselves does not matter.
  return claimed.map((row) => toClaimedRun(row, params.token))
}
