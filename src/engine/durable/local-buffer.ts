/**
 * The local buffer: runs a worker claimed ahead of its free slots (prefetch), so a finishing run
 * is replaced at once without waiting on the store, and the holds that keep them unspent.
 *
 * - Sizing: the worker holds ahead only as many runs as it finished in the last rate window
 *   (~50 ms), up to `prefetch`, so long tasks are never hoarded away from other workers; runs
 *   held longer than {@link LOCAL_TTL_MS} are given back.
 * - Holds (at most once per attempt): a claim counts the attempt of a run with attempts left as
 *   started. A counted run that waits here {@link HOLD_AFTER_MS} gets a hold write (`started_at`
 *   back to NULL), so that it goes back unspent if the worker dies before starting it. Started
 *   before its hold leaves, it cancels the hold and its handler may be called at once; started
 *   after, it needs a stored start first ({@link LocalBuffer.startStands}).
 */
import type { ClaimedRun, HoldWrite, Lease } from '../../store/types.js'

/** Prefetch sizing looks at completions over windows of this length. */
const RATE_WINDOW_MS = 50
/** Runs held ahead longer than this are given back. */
export const LOCAL_TTL_MS = 1000
/**
 * A run held ahead this long has the start its claim counted taken back (a hold write), so that
 * it goes back unspent if the worker dies before starting it. Runs started sooner (the usual
 * case: the buffer holds about 50 ms of work) never need that write, nor a stored start before
 * their handler: holding every run would put a store round trip in front of each of them.
 */
export const HOLD_AFTER_MS = 100

/** Where holds go (the worker's write buffer). */
export interface HoldWrites {
  /** Queues a hold write. */
  hold(write: HoldWrite): void
  /** Cancels a queued hold: `true` if it had not left (the claim's start still stands). */
  unhold(id: string): boolean
}

/** Claimed runs waiting for a slot, in claim order, with when each was claimed. */
export class LocalBuffer {
  readonly #prefetch: number
  readonly #writes: HoldWrites
  readonly #now: () => number
  #runs: ClaimedRun[] = []
  readonly #since = new Map<string, number>()
  /** Runs held here whose claim recorded a start, taken back by a queued hold write. */
  readonly #held = new Set<string>()
  /** Set while counted runs wait here without a hold: it holds them once HOLD_AFTER_MS passed. */
  #holdTimer: NodeJS.Timeout | undefined
  /** Closed by the worker's stop: no more holds are armed. */
  #closed = false
  /** Completions in the current and the previous rate window (for prefetch sizing). */
  #rateWindowStart = 0
  #rateNow = 0
  #ratePrevious = 0

  /** `prefetch`: at most this many runs held ahead (`0`: none). */
  constructor(prefetch: number, writes: HoldWrites, now: () => number) {
    this.#prefetch = prefetch
    this.#writes = writes
    this.#now = now
  }

  get length(): number {
    return this.#runs.length
  }

  /** Ids of the runs held here, in claim order. */
  ids(): string[] {
    return this.#runs.map((r) => r.id)
  }

  has(runId: string): boolean {
    return this.#runs.some((r) => r.id === runId)
  }

  /** The leases of the runs held here (renewed by the heartbeat like those executing). */
  leases(): Lease[] {
    return this.#runs.map((r) => ({ id: r.id, token: r.token }))
  }

  /** How many runs to hold ahead: as many as finished in the last rate window, up to `prefetch`. */
  aheadLimit(): number {
    if (this.#prefetch === 0) return 0
    this.#rollRate(this.#now())
    return Math.min(this.#prefetch, this.#rateNow + this.#ratePrevious)
  }

  /** Counts a finished attempt toward the rate that sizes the buffer. */
  finished(): void {
    this.#rollRate(this.#now())
    this.#rateNow++
  }

  #rollRate(now: number): void {
    if (now - this.#rateWindowStart < RATE_WINDOW_MS) return
    this.#ratePrevious = now - this.#rateWindowStart < 2 * RATE_WINDOW_MS ? this.#rateNow : 0
    this.#rateNow = 0
    this.#rateWindowStart = now
  }

  /** Keeps a claimed run for later. */
  push(run: ClaimedRun): void {
    this.#runs.push(run)
    this.#since.set(run.id, this.#now())
  }

  /** The oldest run, taken out to start. */
  shift(): ClaimedRun | undefined {
    const run = this.#runs.shift()
    if (run !== undefined) this.#since.delete(run.id)
    return run
  }

  /** Takes one run out (cancelled, lost), or `undefined` if it is not here. */
  take(runId: string): ClaimedRun | undefined {
    const at = this.#runs.findIndex((r) => r.id === runId)
    if (at === -1) return undefined
    this.#since.delete(runId)
    return this.#runs.splice(at, 1)[0]
  }

  /** Takes every run out (the worker stops). */
  takeAll(): ClaimedRun[] {
    const runs = this.#runs.splice(0)
    this.#since.clear()
    return runs
  }

  /** Stops arming holds and takes every run out (the worker's stop). */
  close(): ClaimedRun[] {
    this.#closed = true
    clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
    return this.takeAll()
  }

  /** Takes out the runs held longer than {@link LOCAL_TTL_MS} (the rate dropped: another worker may idle). */
  expired(): ClaimedRun[] {
    if (this.#runs.length === 0) return []
    const cutoff = this.#now() - LOCAL_TTL_MS
    const expired: ClaimedRun[] = []
    for (const run of [...this.#runs]) {
      if ((this.#since.get(run.id) ?? 0) <= cutoff) {
        this.take(run.id)
        expired.push(run)
      }
    }
    return expired
  }

  /** A run leaves without starting (given back, cancelled): a hold of it is no longer tracked here. */
  forget(runId: string): void {
    this.#held.delete(runId)
  }

  /** A run held here lost its lease: taken out, and its hold, if one is queued, cancelled. */
  lose(runId: string): ClaimedRun | undefined {
    const run = this.take(runId)
    if (run !== undefined && this.#held.delete(runId)) this.#writes.unhold(runId)
    return run
  }

  /**
   * Whether the store records this claim's attempt as started now, so its handler may be called
   * at once: its claim said so and no hold of it has left since.
   */
  startStands(run: ClaimedRun): boolean {
    if (!run.started) return false
    if (!this.#held.delete(run.id)) return true
    return this.#writes.unhold(run.id)
  }

  /** Arms the hold timer for the oldest counted run here that is not held yet. */
  watchHolds(): void {
    if (this.#holdTimer !== undefined || this.#closed) return
    const oldest = this.#runs.find((run) => run.started && !this.#held.has(run.id))
    if (oldest === undefined) return
    const wait = Math.max(0, (this.#since.get(oldest.id) ?? 0) + HOLD_AFTER_MS - this.#now())
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined
      this.#holdOverdue()
    }, wait)
    this.#holdTimer.unref()
  }

  /**
   * Takes back the start that claims counted for runs held here HOLD_AFTER_MS or longer. One
   * started before its hold leaves cancels it; one started after needs a stored start first.
   */
  #holdOverdue(): void {
    const cutoff = this.#now() - HOLD_AFTER_MS
    // The buffer is in claim order: the first run young enough ends the scan.
    for (const run of this.#runs) {
      if (!run.started || this.#held.has(run.id)) continue
      if ((this.#since.get(run.id) ?? 0) > cutoff) break
      this.#held.add(run.id)
      this.#writes.hold({ id: run.id, token: run.token })
    }
    this.watchHolds()
  }
}
