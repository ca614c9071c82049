/**
 * Group commit for a worker's writes: log lines, progress snapshots, waiting changes and
 * completions made in one turn of the event loop go to the store as one batch (one
 * transaction). One batch is in flight at a time; what arrives meanwhile forms the next.
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
  failed(): void
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
  #logs: NewLogLine[] = []
  #progress = new Map<string, ProgressWrite>()
  #waits: WaitWrite[] = []
  #completions: PendingCompletion[] = []
  #scheduled = false
  #inFlight: Promise<void> | undefined
  #failures = 0

  readonly #claimer: BatchClaimer | undefined

  constructor(store: Store, onError: (error: Error) => void, claimer?: BatchClaimer) {
    this.#store = store
    this.#onError = onError
    this.#claimer = claimer
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
    while (this.#inFlight !== undefined || this.#hasWork()) {
      if (this.#inFlight !== undefined) await this.#inFlight
      else await this.#flush()
    }
  }

  #hasWork(): boolean {
    return this.#logs.length + this.#progress.size + this.#waits.length + this.#completions.length > 0
  }

  #schedule(now: boolean): void {
    if (now && this.#inFlight === undefined) {
      void this.#flush()
      return
    }
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      if (this.#inFlight === undefined) void this.#flush()
    })
  }

  #flush(): Promise<void> {
    if (this.#inFlight !== undefined) return this.#inFlight
    if (!this.#hasWork()) return Promise.resolve()
    const logs = this.#logs
    const progress = [...this.#progress.values()]
    const waits = this.#waits
    const completions = this.#completions
    this.#logs = []
    this.#progress = new Map()
    this.#waits = []
    this.#completions = []
    const claim = completions.length > 0 ? this.#claimer?.request() : undefined
    const batch = { logs, progress, waits, completions: completions.map((c) => c.completion) }
    const flight = this.#store.flush(claim === undefined ? batch : { ...batch, claim }).then(
      (outcome) => {
        this.#failures = 0
        if (claim !== undefined) this.#claimer?.claimed(outcome.claimed ?? [], claim)
        const fenced = new Set(outcome.fenced)
        for (const { completion, resolve } of completions) resolve(fenced.has(completion.id))
      },
      async (error: unknown) => {
        if (claim !== undefined) this.#claimer?.failed()
        // Put the batch back in front of what arrived since, then try again after a pause.
        this.#failures++
        this.#onError(new Error(`write to the store failed (attempt ${this.#failures}), retrying: ${coerceError(error).message}`, { cause: error }))
        this.#logs = [...logs, ...this.#logs]
        for (const write of progress) if (!this.#progress.has(write.id)) this.#progress.set(write.id, write)
        this.#waits = [...waits, ...this.#waits]
        this.#completions = [...completions, ...this.#completions]
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 50 * 2 ** Math.min(this.#failures, 7))))
      },
    )
    this.#inFlight = flight.finally(() => {
      this.#inFlight = undefined
      if (this.#hasWork()) this.#schedule(false)
    })
    return this.#inFlight
  }
}
