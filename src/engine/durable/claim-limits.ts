/**
 * Claim limits: what a worker may claim next, from the runs it holds now. A task's
 * `maxConcurrent` and a queue's limit (see `WorkerOptions.queues`) hold per process: runs held by
 * this worker (executing or claimed ahead) are counted here, and a claim asks the store for at
 * most what is left of each. Limits across every worker (a task's `limits`, the engine's
 * `queues`, their live changes: a {@link FlowPolicy}) go to the store with the claim, which
 * counts their usage everywhere; paused tasks and queues are left out of claims here.
 */
import { concurrencyOf, type AnyTask } from '../../task/define.js'
import type { ClaimRequest, ClaimedRun } from '../../store/types.js'
import type { FlowPolicy } from '../flow/flow-control.js'

/**
 * Whether claiming runs under a concurrency limit across workers ahead of free slots could keep
 * them from other workers: when this claim alone could take a good part of the limit. A limit far
 * above what one worker takes costs nothing to claim ahead for (the common, non-binding case).
 */
function holdsBack(limit: number | undefined, claim: number): boolean {
  return limit !== undefined && limit < claim * 4
}

/** Per-queue limits: a map of queue name → concurrency, or a list of queue names (no per-queue limit). */
export type QueueSelection = Readonly<Record<string, number>> | readonly string[]

/** Runs held per task and per queue, and the claims they leave room for. */
export class ClaimLimits {
  /** The queues served (`undefined`: every queue). */
  readonly queues: readonly string[] | undefined
  readonly #queueLimits: ReadonlyMap<string, number>
  readonly #taskRunning = new Map<string, number>()
  readonly #queueRunning = new Map<string, number>()

  constructor(queues: QueueSelection | undefined) {
    if (queues === undefined) {
      this.queues = undefined
      this.#queueLimits = new Map()
    } else if (Array.isArray(queues)) {
      this.queues = [...(queues as readonly string[])]
      this.#queueLimits = new Map()
    } else {
      const limits = queues as Readonly<Record<string, number>>
      this.queues = Object.keys(limits)
      this.#queueLimits = new Map(Object.entries(limits).filter(([, limit]) => limit > 0))
    }
  }

  /** A run is held (`1`) or let go (`-1`). */
  count(run: ClaimedRun, delta: number): void {
    this.#taskRunning.set(run.task, (this.#taskRunning.get(run.task) ?? 0) + delta)
    this.#queueRunning.set(run.queue, (this.#queueRunning.get(run.queue) ?? 0) + delta)
  }

  /**
   * A claim of up to `free` runs of `tasks` (those registered in this process) under `flow`:
   * tasks and queues paused or at their limit here are left out, and those with less room than
   * `free` are capped; limits across workers go along for the store. Tasks and queues under rate
   * limits or groups, or under a concurrency limit this claim could take much of (see
   * `holdsBack`), are not claimed ahead: at most `slots` (free execution slots), so a run held
   * here waiting for a slot never keeps a limited slot from another worker, and starts when it
   * is counted. `undefined` when nothing may be claimed.
   */
  request(workerId: string, free: number, tasks: readonly AnyTask[], now: number, leaseUntil: number, flow: FlowPolicy, slots = free): ClaimRequest | undefined {
    const keys: string[] = []
    const taskCaps = new Map<string, number>()
    for (const task of tasks) {
      if (flow.pausedTasks.has(task.key)) continue
      let left = task.maxConcurrent === undefined ? free : concurrencyOf(task.maxConcurrent) - (this.#taskRunning.get(task.key) ?? 0)
      if (holdsBack(flow.taskConcurrency.get(task.key), free) || flow.taskRates.has(task.key) || flow.groups.has(task.key)) left = Math.min(left, slots)
      if (left <= 0) continue
      keys.push(task.key)
      if (left < free) taskCaps.set(task.key, left)
    }
    if (keys.length === 0) return undefined
    let queues = this.queues
    const queueCaps = new Map<string, number>()
    const limitedAcross = (queue: string): boolean => holdsBack(flow.queueConcurrency.get(queue), free) || flow.queueRates.has(queue)
    if (queues !== undefined) {
      queues = queues.filter((queue) => {
        if (flow.pausedQueues.has(queue)) return false
        const limit = this.#queueLimits.get(queue)
        let left = limit === undefined ? free : limit - (this.#queueRunning.get(queue) ?? 0)
        if (limitedAcross(queue)) left = Math.min(left, slots)
        if (left < free) queueCaps.set(queue, left)
        return left > 0
      })
      if (queues.length === 0) return undefined
    } else {
      // Serving every queue: a paused one is capped at nothing (the claim leaves it out).
      for (const queue of flow.pausedQueues) queueCaps.set(queue, 0)
      // Not claimed ahead (see above): capped at the free slots, a paused one staying at nothing.
      if (slots < free) {
        for (const queue of [...flow.queueConcurrency.keys(), ...flow.queueRates.keys()]) {
          if (limitedAcross(queue)) queueCaps.set(queue, Math.min(queueCaps.get(queue) ?? free, Math.max(0, slots)))
        }
      }
    }
    const request: { -readonly [K in keyof ClaimRequest]: ClaimRequest[K] } = { workerId, limit: free, now, leaseUntil, tasks: keys, queues, taskCaps, queueCaps }
    if (flow.taskConcurrency.size > 0) request.globalTaskLimits = flow.taskConcurrency
    if (flow.queueConcurrency.size > 0) request.globalQueueLimits = flow.queueConcurrency
    if (flow.taskRates.size > 0) request.taskRates = flow.taskRates
    if (flow.queueRates.size > 0) request.queueRates = flow.queueRates
    if (flow.groups.size > 0) request.groups = flow.groups
    return request
  }
}
