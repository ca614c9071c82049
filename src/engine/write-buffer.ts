/**
 * Group commit for a worker's writes: log lines, progress snapshots, waiting changes and
 * completions made in one turn of the event loop go to the store as one batch (one
 * transaction). What arrives while a batch is in flight forms the next. Stores that take
 * writes in parallel (PostgreSQL: one connection each) get up to `parallel` batches at once;
 * the writes of one run stay in order, as a run with writes in flight waits for them before
 * its next ones leave.
 *
 * A failed write (store down, connection lost) is retried with backoff; nothing is dropped.
 */
import { coerceError } from '../errors.js'
import type { ClaimRequest, ClaimedRun, Completion, NewLogLine, ProgressWrite, Store, WaitWrite } from '../store/types.js'

/**
 * Lets the worker claim in the same transaction that writes completions: the slots those
 * completions free are refilled without a second commit.
 */
export interface BatchClaimer {
  /** The claim to make with this batch, or `undefined` (called when the batch is built). */
  request(): ClaimRequest | undefined
  /** The claim's runs (called before the batch's completions resolve). */
  claimed(runs: readonly ClaimedRun[], request: ClaimRequest): void
  /** The batch failed; the claim did not happen. */
  failed(request: ClaimRequest): void
}

/** Flush at once when this many log lines wait, rather than at the end of the turn. */
const MAX_PENDING_LOGS = 2000

interface PendingCompletion {
  readonly completion: Completion
  readonly resolve: (fenced: boolean) => void
}

export class WriteBuffer {
  readonly #store: Store
  readonly #onError: (error: Error) => void
  readonly #parallel: number
  #logs: NewLogLine[] = []
  #progress = new Map<string, ProgressWrite>()
  #waits: WaitWrite[] = []
  #completions: PendingCompletion[] = []
  #scheduled = false
  /** Batches in flight, and how many of them carry writes of each run. */
  readonly #inFlight = new Set<Promise<void>>()
  readonly #busyRuns = new Map<string, number>()
  #failures = 0
  #pause: Promise<void> | undefined

  readonly #claimer: BatchClaimer | undefined

  constructor(store: Store, onError: (error: Error) => void, claimer?: BatchClaimer, parallel = 1) {
    this.#store = store
    this.#onError = onError
    this.#claimer = claimer
    this.#parallel = Math.max(1, Math.floor(parallel))
  }

  log(line: NewLogLine): void {
    this.#logs.push(line)
    this.#schedule(this.#logs.length >= MAX_PENDING_LOGS)
  }

  /** Saves a progress snapshot (the newest per run wins). */
  progress(write: ProgressWrite): void {
    this.#progress.set(write.id, write)
    this.#schedule(false)
  }

  wait(write: WaitWrite): void {
    this.#waits.push(write)
    this.#schedule(false)
  }

  /** Queues a completion; resolves once written, with `true` if it was fenced (changed nothing). */
  complete(completion: Completion): Promise<boolean> {
    return new Promise((resolve) => {
      // The run's own pending progress is part of the completion.
      this.#progress.delete(completion.id)
      this.#completions.push({ completion, resolve })
      this.#schedule(false)
    })
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#hasWork()) {
      if (this.#inFlight.size > 0) await Promise.race(this.#inFlight)
      else await this.#flush()
    }
  }

  #hasWork(): boolean {
    return this.#logs.length + this.#progress.size + this.#waits.length + this.#completions.length > 0
  }

  #schedule(now: boolean): void {
    if (now && this.#inFlight.size < this.#parallel) {
      void this.#flush()
      return
    }
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      if (this.#inFlight.size < this.#parallel) void this.#flush()
    })
  }

  /** Takes what may leave now: everything, except writes of runs that have writes in flight. */
  #take(): { logs: NewLogLine[]; progress: ProgressWrite[]; waits: WaitWrite[]; completions: PendingCompletion[] } {
    const busy = this.#busyRuns
    if (busy.size === 0) {
      const taken = { logs: this.#logs, progress: [...this.#progress.values()], waits: this.#waits, completions: this.#completions }
      this.#logs = []
      this.#progress = new Map()
      this.#waits = []
      this.#completions = []
      return taken
    }
    const free = (id: string): boolean => !busy.has(id)
    const logs = this.#logs.filter((l) => free(l.runId))
    const waits = this.#waits.filter((w) => free(w.id))
    const completions = this.#completions.filter((c) => free(c.completion.id))
    const progress: ProgressWrite[] = []
    for (const [id, write] of this.#progress) if (free(id)) progress.push(write)
    if (logs.length > 0) this.#logs = this.#logs.filter((l) => !free(l.runId))
    if (waits.length > 0) this.#waits = this.#waits.filter((w) => !free(w.id))
    if (completions.length > 0) this.#completions = this.#completions.filter((c) => !free(c.completion.id))
    for (const write of progress) this.#progress.delete(write.id)
    return { logs, progress, waits, completions }
  }

  #mark(ids: Iterable<string>, delta: 1 | -1): void {
    for (const id of ids) {
      const n = (this.#busyRuns.get(id) ?? 0) + delta
      if (n <= 0) this.#busyRuns.delete(id)
      else this.#busyRuns.set(id, n)
    }
  }

  #flush(): Promise<void> {
    if (this.#pause !== undefined) return this.#pause
    if (this.#inFlight.size >= this.#parallel) return Promise.race(this.#inFlight)
    if (!this.#hasWork()) return Promise.resolve()
    const { logs, progress, waits, completions } = this.#take()
    if (logs.length + progress.length + waits.length + completions.length === 0) return Promise.race(this.#inFlight)
    const runs = new Set<string>()
    for (const l of logs) runs.add(l.runId)
    for (const w of progress) runs.add(w.id)
    for (const w of waits) runs.add(w.id)
    for (const c of completions) runs.add(c.completion.id)
    this.#mark(runs, 1)
    const claim = completions.length > 0 ? this.#claimer?.request() : undefined
    const batch = { logs, progress, waits, completions: completions.map((c) => c.completion) }
    const flight = this.#store.flush(claim === undefined ? batch : { ...batch, claim }).then(
      (outcome) => {
        this.#failures = 0
        this.#mark(runs, -1)
        if (claim !== undefined) this.#claimer?.claimed(outcome.claimed ?? [], claim)
        const fenced = new Set(outcome.fenced)
        for (const { completion, resolve } of completions) resolve(fenced.has(completion.id))
      },
      async (error: unknown) => {
        this.#mark(runs, -1)
        if (claim !== undefined) this.#claimer?.failed(claim)
        // Put the batch back in front of what arrived since, then try again after a pause.
        this.#failures++
        this.#onError(new Error(`write to the store failed (attempt ${this.#failures}), retrying: ${coerceError(error).message}`, { cause: error }))
        this.#logs = [...logs, ...this.#logs]
        for (const write of progress) if (!this.#progress.has(write.id)) this.#progress.set(write.id, write)
        this.#waits = [...waits, ...this.#waits]
        this.#completions = [...completions, ...this.#completions]
        this.#pause ??= new Promise<void>((resolve) => setTimeout(resolve, Math.min(5000, 50 * 2 ** Math.min(this.#failures, 7)))).finally(() => {
          this.#pause = undefined
        })
        await this.#pause
      },
    )
    const tracked: Promise<void> = flight.finally(() => {
      this.#inFlight.delete(tracked)
      if (this.#hasWork()) this.#schedule(false)
    })
    this.#inFlight.add(tracked)
    return tracked
  }
}
