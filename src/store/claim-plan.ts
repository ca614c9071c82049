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
import { MAX_RATE_WINDOW_MS } from '../task/limits.js'
import type { ClaimRequest, RateLimit } from './types.js'

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

/** Whether the request carries limits across workers (then the store counts usage first, serialized with other claims under them). */
export function hasGlobalLimits(request: ClaimRequest): boolean {
  return (
    (request.globalTaskLimits?.size ?? 0) > 0 ||
    (request.globalQueueLimits?.size ?? 0) > 0 ||
    (request.taskRates?.size ?? 0) > 0 ||
    (request.queueRates?.size ?? 0) > 0 ||
    (request.groups?.size ?? 0) > 0
  )
}

/** The request at its clock's time now (see `ClaimRequest.clock`); the store calls this holding the limits' locks. */
export function atClaimTime(request: ClaimRequest): ClaimRequest {
  if (request.clock === undefined) return request
  const now = Math.max(request.now, request.clock())
  return { ...request, now, leaseUntil: request.leaseUntil + (now - request.now) }
}

/** Usage of the limits across workers, as the store counted it inside the claim's transaction. */
export interface RunningCounts {
  /** Running runs per task under a concurrency limit. */
  readonly tasks: ReadonlyMap<string, number>
  /** Running runs per queue under a concurrency limit. */
  readonly queues: ReadonlyMap<string, number>
  /** Starts in the current window per rate limit, by its {@link limitKey}. */
  readonly starts?: ReadonlyMap<string, number>
}

/**
 * The request with its global limits turned into caps: each limited task or queue may take at
 * most its limit less the runs of it running now (on any worker), at most what its rate window
 * has left, and no more than its own cap already allows. A task or queue at a limit gets a cap
 * of 0 (the plan leaves it out).
 */
export function withGlobalCaps(request: ClaimRequest, usage: RunningCounts): ClaimRequest {
  const taskCaps = new Map(request.taskCaps)
  const queueCaps = new Map(request.queueCaps)
  const cap = (caps: Map<string, number>, key: string, free: number): void => {
    caps.set(key, Math.min(Math.max(0, free), caps.get(key) ?? request.limit))
  }
  for (const [task, limit] of request.globalTaskLimits ?? []) cap(taskCaps, task, limit - (usage.tasks.get(task) ?? 0))
  for (const [queue, limit] of request.globalQueueLimits ?? []) cap(queueCaps, queue, limit - (usage.queues.get(queue) ?? 0))
  for (const [task, rate] of request.taskRates ?? []) cap(taskCaps, task, rate.max - (usage.starts?.get(limitKey('task', task)) ?? 0))
  for (const [queue, rate] of request.queueRates ?? []) cap(queueCaps, queue, rate.max - (usage.starts?.get(limitKey('queue', queue)) ?? 0))
  const { globalTaskLimits: _tasks, globalQueueLimits: _queues, ...rest } = request
  return { ...rest, taskCaps, queueCaps }
}

/** The keys a claim under global limits serializes on, in one order (so claims never deadlock). */
export function globalLimitKeys(request: ClaimRequest): string[] {
  const keys = new Set<string>()
  for (const task of request.globalTaskLimits?.keys() ?? []) keys.add(limitKey('task', task))
  for (const task of request.taskRates?.keys() ?? []) keys.add(limitKey('task', task))
  for (const task of request.groups?.keys() ?? []) keys.add(limitKey('task', task))
  for (const queue of request.globalQueueLimits?.keys() ?? []) keys.add(limitKey('queue', queue))
  for (const queue of request.queueRates?.keys() ?? []) keys.add(limitKey('queue', queue))
  return [...keys].sort()
}

/**
 * How long past its window a start still counts: 5% of the window, at most a second. The store
 * counts a start from its claim; the handler begins a few milliseconds later (more on a busy
 * machine), so without this margin the starts handlers see could crowd one more into a window.
 */
export function rateMargin(rate: RateLimit): number {
  return Math.min(MAX_RATE_MARGIN_MS, Math.ceil(rate.perMs / 20))
}

/** The most {@link rateMargin} gives. */
const MAX_RATE_MARGIN_MS = 1000

/** Starts older than this no window counts (the longest window and its margin). */
export const STALE_START_MS = MAX_RATE_WINDOW_MS + MAX_RATE_MARGIN_MS

/** The time a rate limit's window starts after (starts at or before it no longer count), at `now`. */
export function rateSince(rate: RateLimit, now: number): number {
  return now - rate.perMs - rateMargin(rate)
}

/** When a window that holds a start made at `at` no longer holds it. */
export function rateOpensAt(rate: RateLimit, at: number): number {
  return at + rate.perMs + rateMargin(rate)
}

/** The key of a task's or queue's limits: what claims lock on, and the rate limit's key in the store's log of starts. */
export const limitKey = (kind: 'task' | 'queue', name: string): string => `${kind}:${name}`

/** The rate-limit keys each claimed run counts against (its task's and its queue's), for the log of starts. */
export function rateStartKeys(request: ClaimRequest, claimed: readonly ClaimCandidate[]): string[] {
  const keys: string[] = []
  if (request.taskRates === undefined && request.queueRates === undefined) return keys
  for (const run of claimed) {
    if (request.taskRates?.has(run.task) === true) keys.push(limitKey('task', run.task))
    if (request.queueRates?.has(run.queue) === true) keys.push(limitKey('queue', run.queue))
  }
  return keys
}

/** Every rate limit of the request by its key in the log of starts. */
export function rateLimitsByKey(request: ClaimRequest): Map<string, RateLimit> {
  const limits = new Map<string, RateLimit>()
  for (const [task, rate] of request.taskRates ?? []) limits.set(limitKey('task', task), rate)
  for (const [queue, rate] of request.queueRates ?? []) limits.set(limitKey('queue', queue), rate)
  return limits
}

/** A rate window a claim left full, and which of its logged starts (oldest first) has to leave it before it opens. */
export interface FullWindow {
  readonly key: string
  readonly rate: RateLimit
  /** The position of that start among the key's logged starts, oldest first (0: the oldest). */
  readonly offset: number
}

/** The rate windows full after a claim that logged `logged` (one key per start) over `usage`. */
export function fullWindows(request: ClaimRequest, usage: RunningCounts, logged: readonly string[]): FullWindow[] {
  const full: FullWindow[] = []
  for (const [key, rate] of rateLimitsByKey(request)) {
    const starts = (usage.starts?.get(key) ?? 0) + logged.filter((k) => k === key).length
    if (starts >= rate.max) full.push({ key, rate, offset: starts - rate.max })
  }
  return full
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

  /** Runs still wanted. */
  get remaining(): number {
    return this.#remaining
  }

  /** Free slots of a task now (`undefined`: no cap but the request's). */
  taskFree(task: string): number | undefined {
    return this.#taskFree.get(task)
  }

  /** The tasks and queues full now. */
  get full(): { readonly tasks: readonly string[]; readonly queues: readonly string[] } {
    return { tasks: [...this.#fullTasks], queues: [...this.#fullQueues] }
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

  /**
   * Accepts candidates (in claim order) within the limits; returns those to take. A round's
   * candidates (`round`: the default) may end the claim; a grouped task's (`round: false`) are
   * only a part of what waits, and never do.
   */
  accept<C extends ClaimCandidate>(candidates: readonly C[], round = true): C[] {
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
    if (round && !blocked && (accepted.length === 0 || candidates.length < this.#want)) this.#done = true
    return accepted
  }
}
