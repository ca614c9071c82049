/**
 * The worker's claim loop: asks the store for as many runs as the worker has free slots plus
 * room in its local buffer, within its claim limits.
 *
 * - A claim of its own (`fill`), on a wake-up: the store woke the worker (runs enqueued through
 *   this process), a slot freed, or the poll timer fired (runs from other processes, delayed
 *   runs coming due). A full batch means more may be waiting: it claims again at once.
 * - Claims riding on write batches (`batchClaimer`): a batch that carries completions also
 *   claims, so the slots those completions free are refilled in the same commit. With batches
 *   in parallel each claims its share of the capacity.
 * - Limits are counted from the runs held here, so while a claim is out no capped claim is
 *   made (its runs could exceed them).
 * - A failing store is backed off (100 ms·2ⁿ, at most 5 s), not hammered.
 */
import { coerceError } from '../../errors.js'
import type { TaskRegistry } from '../../task/registry.js'
import type { ClaimRequest, ClaimedRun, Store } from '../../store/types.js'
import type { FlowPolicy } from '../flow/flow-control.js'
import { ClaimLimits, type QueueSelection } from './claim-limits.js'
import type { BatchClaimer } from './write-buffer.js'

/** What the claim loop needs from its worker. */
export interface ClaimHost {
  readonly workerId: string
  readonly store: Store
  readonly registry: TaskRegistry
  readonly leaseMs: number
  /** The limits across every worker that hold now. */
  flow(): FlowPolicy
  now(): number
  onError(error: Error): void
  /** Whether the worker stops (no more claims). */
  stopping(): boolean
  /** How many runs the worker takes now: its free slots plus room in its local buffer. */
  wanted(): number
  /** Free execution slots not already promised to runs held here. */
  slots(): number
  /** Slots plus the local buffer's limit: what the claims in flight cover between them. */
  capacity(): number
  /** Takes claimed runs (starts them, or keeps them in the local buffer). */
  accept(runs: readonly ClaimedRun[]): void
}

export class ClaimLoop {
  readonly #host: ClaimHost
  readonly #limits: ClaimLimits
  readonly #parallelWrites: number
  #claiming = false
  /** The latest claim of its own ({@link fill}): resolved once its runs are taken. */
  #current: Promise<void> | undefined
  /** Runs asked for by claims riding on write batches (or enqueues), not answered yet. */
  #requested = 0
  /** Waiting in {@link settled} for those claims to be answered. */
  #answered: (() => void)[] = []
  /** Claims that failed in a row (store unreachable), and when to try again. */
  #claimFailures = 0
  #claimPausedUntil = 0
  #again = false
  #rateTimer: NodeJS.Timeout | undefined
  #rateWakeAt = Infinity

  constructor(host: ClaimHost, queues: QueueSelection | undefined, parallelWrites: number) {
    this.#host = host
    this.#limits = new ClaimLimits(queues)
    this.#parallelWrites = parallelWrites
  }

  /** The queues served (`undefined`: every queue). */
  get queues(): readonly string[] | undefined {
    return this.#limits.queues
  }

  /** A run is held (`1`: claimed) or let go (`-1`: finished, given back, lost). */
  count(run: ClaimedRun, delta: number): void {
    this.#limits.count(run, delta)
  }

  /** The claims riding on write batches (see `WriteBuffer`). */
  readonly batchClaimer: BatchClaimer = {
    request: () => {
      // A claim of its own may be on the way (fill); claims riding on batches may overlap.
      if (this.#host.stopping() || this.#claiming) return undefined
      // With batches in parallel, each claims its share of the capacity: the runs then finish
      // in waves that ride on different batches, and the store works on several at once.
      const share = Math.ceil(this.#host.capacity() / this.#parallelWrites)
      const want = Math.min(share, this.#host.wanted() - this.#requested)
      const request = want > 0 ? this.#request(want) : undefined
      if (request === undefined) return undefined
      // Limits are counted from the runs held here: with a claim still out, they could be exceeded.
      if (this.#requested > 0 && (request.taskCaps.size > 0 || request.queueCaps.size > 0)) return undefined
      this.#requested += request.limit
      return request
    },
    claimed: (runs, request) => {
      this.#answer(request)
      this.#host.accept(runs)
      if (runs.length === request.limit || this.#again) void this.fill()
    },
    failed: (request) => this.#answer(request),
  }

  /** Claims until the worker has what it wants (or the store has no more). */
  fill(): Promise<void> {
    const host = this.#host
    if (host.stopping() || (this.#claimFailures > 0 && host.now() < this.#claimPausedUntil)) return Promise.resolve()
    if (this.#claiming) {
      this.#again = true
      return Promise.resolve()
    }
    this.#claiming = true
    this.#current = this.#claimRounds()
    return this.#current
  }

  /**
   * Resolves once every claim on the way (its own, and those given to write batches and
   * enqueues) is answered and its runs are taken (a stopping worker gives them back): the worker
   * waits for them before its last writes.
   */
  async settled(): Promise<void> {
    await this.#current
    while (this.#requested > 0) await new Promise<void>((resolve) => this.#answered.push(resolve))
  }

  #answer(request: ClaimRequest): void {
    this.#requested -= request.limit
    if (this.#requested === 0) for (const resolve of this.#answered.splice(0)) resolve()
  }

  async #claimRounds(): Promise<void> {
    const host = this.#host
    try {
      do {
        this.#again = false
        // Claims riding on write batches may be out: claim what they do not cover (runs just
        // announced must not wait for them), unless limits are counted (see the batch claimer).
        const want = Math.min(host.wanted() - this.#requested, Math.ceil(host.capacity() / this.#parallelWrites))
        if (want <= 0) {
          if (this.#requested > 0) this.#again = true
          break
        }
        const request = this.#request(want)
        if (request === undefined) break
        if (this.#requested > 0 && (request.taskCaps.size > 0 || request.queueCaps.size > 0)) {
          this.#again = true
          break
        }
        const claimed = await host.store.claimRuns(request)
        this.#claimFailures = 0
        host.accept(claimed)
        // A full batch means more may be waiting.
        if (claimed.length > 0 && claimed.length === want) this.#again = true
      } while (this.#again && !host.stopping())
    } catch (error) {
      // The store is unreachable or failing: back off (up to 5 s) instead of hammering it.
      this.#claimFailures++
      const pauseMs = Math.min(5000, 100 * 2 ** Math.min(this.#claimFailures - 1, 6))
      this.#claimPausedUntil = host.now() + pauseMs
      host.onError(new Error(`claiming runs failed (${this.#claimFailures} in a row; next try in ${pauseMs} ms): ${coerceError(error).message}`, { cause: error }))
    } finally {
      this.#claiming = false
    }
  }

  #request(free: number): ClaimRequest | undefined {
    const host = this.#host
    const tasks = host.registry.list()
    const now = host.now()
    const flow = host.flow()
    const request = this.#limits.request(host.workerId, free, tasks, now, now + host.leaseMs, flow, Math.max(0, host.slots() - this.#requested))
    if (request === undefined || (request.taskRates === undefined && request.queueRates === undefined)) return request
    // Rate windows are counted at the claim's own time, read once the store holds the limits.
    return { ...request, onRateLimited: this.#onRateLimited, clock: () => host.now() }
  }

  /** A rate limit holds runs back until `at`: claim again then (one timer, the earliest). */
  readonly #onRateLimited = (at: number): void => {
    if (this.#rateTimer !== undefined && this.#rateWakeAt <= at) return
    clearTimeout(this.#rateTimer)
    this.#rateWakeAt = at
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = undefined
      this.#rateWakeAt = Infinity
      void this.fill()
    }, Math.max(1, at - this.#host.now()))
    this.#rateTimer.unref()
  }

  /** Stops waiting for rate windows (the worker stops). */
  stop(): void {
    clearTimeout(this.#rateTimer)
    this.#rateTimer = undefined
    this.#rateWakeAt = Infinity
  }
}
