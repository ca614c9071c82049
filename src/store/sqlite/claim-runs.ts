/**
 * Claiming: one UPDATE over the partial index of pending runs in claim order when no cap binds,
 * else {@link ClaimPlan} rounds in the same transaction (grouped tasks first: `group-candidates.ts`;
 * `flow-usage.ts` counts what limits across workers need). Rows come back as arrays
 * (raw mode): building an object per row costs more than the update itself; the columns most
 * runs leave at their defaults come packed in one (`PACKED_CLAIM_COLUMNS`).
 */
import { randomUUID } from 'node:crypto'
import { ClaimPlan, atClaimTime, hasGlobalLimits, limitsBind, withGlobalCaps } from '../claim-plan.js'
import type { ClaimRequest, ClaimedRun } from '../contract/queue.js'
import { PACKED_CLAIM_COLUMNS, fromPackedClaimRow, type PackedClaimRow } from '../sql/claim-rows.js'
import type { SqliteConnection } from './connection.js'
import { flowUsage, recordStarts, recordServed } from './flow-usage.js'
import { groupCandidates } from './group-candidates.js'

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
const DUE = `status = 'pending' AND run_at <= @now AND (not_after IS NULL OR not_after > @now)`
const CLAIMABLE = `${DUE} AND task IN (SELECT value FROM json_each(@tasks))`
const QUEUE_FILTER = 'AND queue IN (SELECT value FROM json_each(@queues))'
// The claim's size as an integer: bound as it comes from JavaScript, the subquery's LIMIT made a
// claim of one run take ~0.1 ms longer (0.16 against 0.06 ms, the whole transaction), most of a
// claim's cost when runs arrive one at a time.
const LIMIT = 'LIMIT CAST(@limit AS INTEGER)'
/** The one-statement claim, for any queue and for the queues asked for (built once: the cache looks statements up by text). */
const FAST_CLAIM = (queueFilter: string): string =>
  `UPDATE runs SET ${CLAIM_SET} WHERE seq IN (SELECT seq FROM runs INDEXED BY runs_pending WHERE ${CLAIMABLE} ${queueFilter} ${CLAIM_ORDER} ${LIMIT}) RETURNING ${PACKED_CLAIM_COLUMNS}`
const FAST_CLAIM_ANY_QUEUE = FAST_CLAIM('')
const FAST_CLAIM_QUEUES = FAST_CLAIM(QUEUE_FILTER)
/** A round's candidates: runs outside the full tasks and queues; grouped runs of grouped tasks are claimed apart. */
const ROUND = (queueFilter: string): string => `SELECT seq, task, queue FROM runs INDEXED BY runs_pending WHERE ${CLAIMABLE} ${queueFilter}
    AND task NOT IN (SELECT value FROM json_each(@fullTasks)) AND queue NOT IN (SELECT value FROM json_each(@fullQueues))
    AND (group_key IS NULL OR task NOT IN (SELECT value FROM json_each(@grouped)))
  ${CLAIM_ORDER} ${LIMIT}`
const TAKE = `UPDATE runs SET ${CLAIM_SET} WHERE seq IN (SELECT value FROM json_each(@seqs)) AND status = 'pending' RETURNING ${PACKED_CLAIM_COLUMNS}`

/** Claims runs in a transaction of its own. */
export function claimRuns(db: SqliteConnection, request: ClaimRequest): ClaimedRun[] {
  if (request.limit <= 0 || request.tasks.length === 0) return []
  return db.write(() => claimInTransaction(db, request))
}

interface Candidate {
  readonly seq: number
  readonly task: string
  readonly queue: string
  readonly groupKey?: string
}

/** Claims inside the caller's transaction (a write batch's claim). Write transactions are IMMEDIATE: nothing else claims between the counts and the claim. */
export function claimInTransaction(db: SqliteConnection, request: ClaimRequest): ClaimedRun[] {
  if (request.limit <= 0 || request.tasks.length === 0) return []
  const flow = hasGlobalLimits(request)
  if (flow) request = atClaimTime(request)
  const usage = flow ? flowUsage(db, request) : undefined
  if (usage !== undefined) request = withGlobalCaps(request, usage)
  const params = {
    now: request.now,
    leaseUntil: request.leaseUntil,
    worker: request.workerId,
    token: randomUUID(),
    tasks: JSON.stringify(request.tasks),
    queues: request.queues === undefined ? null : JSON.stringify(request.queues),
  }
  const queueFilter = request.queues === undefined ? '' : QUEUE_FILTER
  const grouped = [...(request.groups?.keys() ?? [])].filter((task) => request.tasks.includes(task))
  let rows: PackedClaimRow[]
  if (!limitsBind(request) && grouped.length === 0) {
    rows = db.raw(request.queues === undefined ? FAST_CLAIM_ANY_QUEUE : FAST_CLAIM_QUEUES).all({ ...params, limit: request.limit }) as PackedClaimRow[]
  } else {
    const take = db.raw(TAKE)
    const plan = new ClaimPlan(request)
    rows = []
    for (const task of grouped) {
      const free = Math.min(plan.remaining, plan.taskFree(task) ?? plan.remaining)
      if (free <= 0) continue
      const candidates = groupCandidates(db, params, task, request.groups!.get(task)!, queueFilter, plan.full.queues, free + 8)
      const accepted = plan.accept(candidates, false)
      if (accepted.length === 0) continue
      rows.push(...(take.all({ ...params, seqs: JSON.stringify(accepted.map((c) => c.seq)) }) as PackedClaimRow[]))
      recordServed(db, task, accepted.map((c) => c.groupKey), request.now)
    }
    const select = db.stmt(ROUND(queueFilter))
    const groupedJson = JSON.stringify(grouped)
    for (let round = plan.next(); round !== undefined; round = plan.next()) {
      const candidates = select.all({ ...params, limit: round.count, fullTasks: JSON.stringify(round.fullTasks), fullQueues: JSON.stringify(round.fullQueues), grouped: groupedJson }) as Candidate[]
      const accepted = plan.accept(candidates)
      if (accepted.length > 0) rows.push(...(take.all({ ...params, seqs: JSON.stringify(accepted.map((c) => c.seq)) }) as PackedClaimRow[]))
    }
  }
  // All runs of one claim start at once, so their order among themselves does not matter.
  const claimed = rows.map((row) => fromPackedClaimRow(row, params.token))
  if (usage !== undefined) recordStarts(db, request, usage, claimed)
  return claimed
}
