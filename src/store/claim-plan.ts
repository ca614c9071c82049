/**
 * Claiming under per-task and per-queue limits, for any backend (both built-in ones use it).
 *
 * The common case has no binding limit and is one statement in the backend. When a limit
 * binds, claiming goes in rounds inside one transaction: select candidates in claim order,
 * accept them while limits allow, take the accepted ones, and exclude the tasks and queues that
 * filled up from the next round. Each round fills the request or fills up at least one more
 * task or queue, so rounds are few, and a task at its limit never starves the others.
 *
 * Backends drive a {@link ClaimPlan} with their own (synchronous or asynchronous) queries:
 *
 * ```ts
 * const plan = new ClaimPlan(request)
 * for (let round = plan.next(); round; round = plan.next()) {
 *   const accepted = plan.accept(select(round))
 *   if (accepted.length > 0) claimed.push(...take(accepted))
 * }
 * ```
 */
import type { ClaimRequest } from './types.js'

/** A pending run considered for a claim. */
export interface ClaimCandidate {
  /** Its task's key. */
  readonly task: string
  /** Its queue. */
  readonly queue: string
}

/** One round's query: up to `count` candidates outside the full tasks and queues. */
export interface ClaimRound {
  /** Select at most this many candidates, in claim order. */
  readonly count: number
  /** Leave out runs of these tasks (their caps are full). */
  readonly fullTasks: readonly string[]
  /** Leave out runs in these queues (their caps are full). */
  readonly fullQueues: readonly string[]
}

/** Whether the request carries limits across workers (then the store counts running runs first). */
export function hasGlobalLimits(request: ClaimRequest): boolean {
  return (request.globalTaskLimits?.size ?? 0) > 0 || (request.globalQueueLimits?.size ?? 0) > 0
}

/** Running runs per task and per queue under a global limit, as the store counted them. */
export interface RunningCounts {
  readonly tasks: ReadonlyMap<string, number>
  readonly queues: ReadonlyMap<string, number>
}

/**
 * The request with its global limits turned into caps: each limited task or queue may take at
 * most its limit less the runs of it running now (on any worker), and no more than its own cap
 * already allows. A task or queue at its limit gets a cap of 0 (the plan leaves it out).
 */
export function withGlobalCaps(request: ClaimRequest, running: RunningCounts): ClaimRequest {
  const taskCaps = new Map(request.taskCaps)
  for (const [task, limit] of request.globalTaskLimits ?? []) {
    const free = Math.max(0, limit - (running.tasks.get(task) ?? 0))
    taskCaps.set(task, Math.min(free, taskCaps.get(task) ?? request.limit))
  }
  const queueCaps = new Map(request.queueCaps)
  for (const [queue, limit] of request.globalQueueLimits ?? []) {
    const free = Math.max(0, limit - (running.queues.get(queue) ?? 0))
    queueCaps.set(queue, Math.min(free, queueCaps.get(queue) ?? request.limit))
  }
  return { workerId: request.workerId, limit: request.limit, now: request.now, leaseUntil: request.leaseUntil, tasks: request.tasks, queues: request.queues, taskCaps, queueCaps }
}

/** The keys a claim under global limits serializes on, in one order (so claims never deadlock). */
export function globalLimitKeys(request: ClaimRequest): string[] {
  const keys: string[] = []
  for (const task of request.globalTaskLimits?.keys() ?? []) keys.push(`task:${task}`)
  for (const queue of request.globalQueueLimits?.keys() ?? []) keys.push(`queue:${queue}`)
  return keys.sort()
}

/** Whether any limit is smaller than the request (so a single-statement claim could exceed it). */
export function limitsBind(request: ClaimRequest): boolean {
  for (const free of request.taskCaps.values()) if (free < request.limit) return true
  for (const free of request.queueCaps.values()) if (free < request.limit) return true
  return false
}

/** The state of a claim under limits; see the module comment. */
export class ClaimPlan {
  readonly #request: ClaimRequest
  readonly #taskFree: Map<string, number>
  readonly #queueFree: Map<string, number>
  readonly #fullTasks: Set<string>
  readonly #fullQueues: Set<string>
  #remaining: number
  #rounds = 0
  #done = false
  #want = 0

  /** A plan for `request` (its caps as the free slots to fill). */
  constructor(request: ClaimRequest) {
    this.#request = request
    this.#taskFree = new Map(request.taskCaps)
    this.#queueFree = new Map(request.queueCaps)
    this.#fullTasks = new Set([...this.#taskFree].filter(([, free]) => free <= 0).map(([task]) => task))
    this.#fullQueues = new Set([...this.#queueFree].filter(([, free]) => free <= 0).map(([queue]) => queue))
    this.#remaining = request.limit
  }

  /** The next round's query, or `undefined` when the claim is complete. */
  next(): ClaimRound | undefined {
    // Each blocked round fills up one more task or queue, so the bound is never reached by a
    // correct backend; it keeps a broken one from spinning.
    const maxRounds = this.#taskFree.size + this.#queueFree.size + 2
    if (this.#done || this.#remaining <= 0 || this.#rounds >= maxRounds) return undefined
    if (this.#request.tasks.every((t) => this.#fullTasks.has(t))) return undefined
    this.#rounds++
    this.#want = this.#remaining * 2 + 8
    return { count: this.#want, fullTasks: [...this.#fullTasks], fullQueues: [...this.#fullQueues] }
  }

  /** Accepts candidates (in claim order) within the limits; returns those to take. */
  accept<C extends ClaimCandidate>(candidates: readonly C[]): C[] {
    const accepted: C[] = []
    let blocked = false
    for (const candidate of candidates) {
      if (accepted.length >= this.#remaining) break
      const taskLeft = this.#taskFree.get(candidate.task)
      const queueLeft = this.#queueFree.get(candidate.queue)
      if ((taskLeft !== undefined && taskLeft <= 0) || (queueLeft !== undefined && queueLeft <= 0)) {
        blocked = true
        continue
      }
      accepted.push(candidate)
      if (taskLeft !== undefined) {
        this.#taskFree.set(candidate.task, taskLeft - 1)
        if (taskLeft <= 1) this.#fullTasks.add(candidate.task)
      }
      if (queueLeft !== undefined) {
        this.#queueFree.set(candidate.queue, queueLeft - 1)
        if (queueLeft <= 1) this.#fullQueues.add(candidate.queue)
      }
    }
    this.#remaining -= accepted.length
    // Nothing held back by a limit: either the request is filled or no more runs wait.
    if (!blocked && (accepted.length === 0 || candidates.length < this.#want)) this.#done = true
    return accepted
  }
}
