/**
 * Claim limits: what a worker may claim next, from the runs it holds now. A task's
 * `maxConcurrent` and a queue's limit (see `WorkerOptions.queues`) hold per process: runs held by
 * this worker (executing or claimed ahead) are counted here, and a claim asks the store for at
 * most what is left of each. Limits across every worker (a task's `limits.concurrency`, the
 * engine's `queues`) go to the store with the claim, which counts the runs running anywhere.
 */
import { concurrencyOf, type AnyTask } from '../../task/define.js'
import type { ClaimRequest, ClaimedRun } from '../../store/types.js'

/** Per-queue limits: a map of queue name → concurrency, or a list of queue names (no per-queue limit). */
export type QueueSelection = Readonly<Record<string, number>> | readonly string[]

/** Runs held per task and per queue, and the claims they leave room for. */
export class ClaimLimits {
  /** The queues served (`undefined`: every queue). */
  readonly queues: readonly string[] | undefined
  readonly #queueLimits: ReadonlyMap<string, number>
  readonly #globalQueueLimits: ReadonlyMap<string, number>
  readonly #taskRunning = new Map<string, number>()
  readonly #queueRunning = new Map<string, number>()

  constructor(queues: QueueSelection | undefined, globalQueueLimits: ReadonlyMap<string, number> = new Map()) {
    this.#globalQueueLimits = globalQueueLimits
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
   * A claim of up to `free` runs of `tasks` (those registered in this process): tasks and queues
   * at their limit are left out, and those with less room than `free` are capped. `undefined`
   * when nothing may be claimed.
   */
  request(workerId: string, free: number, tasks: readonly AnyTask[], now: number, leaseUntil: number): ClaimRequest | undefined {
    const keys: string[] = []
    const taskCaps = new Map<string, number>()
    let globalTaskLimits: Map<string, number> | undefined
    for (const task of tasks) {
      const global = task.limits.concurrency
      if (global !== undefined) (globalTaskLimits ??= new Map()).set(task.key, global)
      if (task.maxConcurrent === undefined) {
        keys.push(task.key)
        continue
      }
      const limit = concurrencyOf(task.maxConcurrent)
      const left = limit - (this.#taskRunning.get(task.key) ?? 0)
      if (left <= 0) continue
      keys.push(task.key)
      if (left < free) taskCaps.set(task.key, left)
    }
    if (keys.length === 0) return undefined
    let queues = this.queues
    const queueCaps = new Map<string, number>()
    if (queues !== undefined) {
      queues = queues.filter((queue) => {
        const limit = this.#queueLimits.get(queue)
        if (limit === undefined) return true
        const left = limit - (this.#queueRunning.get(queue) ?? 0)
        if (left < free) queueCaps.set(queue, left)
        return left > 0
      })
      if (queues.length === 0) return undefined
    }
    const request: { -readonly [K in keyof ClaimRequest]: ClaimRequest[K] } = { workerId, limit: free, now, leaseUntil, tasks: keys, queues, taskCaps, queueCaps }
    if (globalTaskLimits !== undefined) request.globalTaskLimits = globalTaskLimits
    if (this.#globalQueueLimits.size > 0) request.globalQueueLimits = this.#globalQueueLimits
    return request
  }
}
