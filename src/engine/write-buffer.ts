/**
 * Group commit for a worker's writes: log lines, progress snapshots, handler starts, waiting
 * changes and completions made in one turn of the event loop go to the store as one batch (one
 * transaction). What arrives while a batch is in flight forms the next. Stores that take
 * writes in parallel (PostgreSQL: one connection each) get up to `parallel` batches at once;
 * the writes of one run stay in order, as a run with writes in flight waits for them before
 * its next ones leave.
 *
 * A failed write (store down, connection lost) is retried with backoff; nothing is dropped.
 */
import { coerceError } from '../errors.js'
import type { ClaimRequest, ClaimedRun, Completion, LogCount, NewLogLine, ProgressWrite, StartWrite, Store, WaitWrite } from '../store/types.js'
import type { LogBackend } from './log-backends.js'

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

/** A log line bound for a backend outside the store. */
interface ExternalLine {
  readonly line: NewLogLine
  readonly backend: LogBackend
}

interface PendingCompletion {
  readonly completion: Completion
  readonly resolve: (fenced: boolean) => void
}

export class WriteBuffer {
  readonly #store: Store
  readonly #onError: (error: Error) => void
  readonly #parallel: number
  #logs: NewLogLine[] = []
  #external: ExternalLine[] = []
  #progress = new Map<string, ProgressWrite>()
  #waits: WaitWrite[] = []
  /** Starts not written yet, by run: a completion queued meanwhile takes the start's place. */
  #starts = new Map<string, StartWrite>()
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

  /** Queues a log line for the store, or for `backend` (the store then records only the run's log count). */
  log(line: NewLogLine, backend?: LogBackend): void {
    if (backend === undefined) this.#logs.push(line)
    else this.#external.push({ line, backend })
    this.#schedule(this.#logs.length + this.#external.length >= MAX_PENDING_LOGS)
  }

  /** Saves a progress snapshot (the newest per run wins). */
  progress(write: ProgressWrite): void {
    this.#progress.set(write.id, write)
    this.#schedule(false)
  }

  /**
   * Records that a run's handler started. A run that completes before the batch leaves needs no
   * separate write: its completion records the start.
   */
  start(write: StartWrite): void {
    this.#starts.set(write.id, write)
    this.#schedule(false)
  }

  wait(write: WaitWrite): void {
    this.#waits.push(write)
    this.#schedule(false)
  }

  /** Queues a completion; resolves once written, with `true` if it was fenced (changed nothing). */
  complete(completion: Completion): Promise<boolean> {
    return new Promise((resolve) => {
      // The run's own pending progress is part of the completion, and so is its start (a
      // completion always writes started_at), unless that start belongs to another claim.
      this.#progress.delete(completion.id)
      if (this.#starts.get(completion.id)?.token === completion.token) this.#starts.delete(completion.id)
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
    return this.#logs.length + this.#external.length + this.#progress.size + this.#waits.length + this.#starts.size + this.#completions.length > 0
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
  #take(): { logs: NewLogLine[]; external: ExternalLine[]; progress: ProgressWrite[]; waits: WaitWrite[]; starts: StartWrite[]; completions: PendingCompletion[] } {
    const busy = this.#busyRuns
    let taken: { logs: NewLogLine[]; external: ExternalLine[]; progress: ProgressWrite[]; waits: WaitWrite[]; starts: StartWrite[]; completions: PendingCompletion[] }
    if (busy.size === 0) {
      taken = { logs: this.#logs, external: this.#external, progress: [...this.#progress.values()], waits: this.#waits, starts: [...this.#starts.values()], completions: this.#completions }
      this.#logs = []
      this.#external = []
      this.#progress = new Map()
      this.#waits = []
      this.#starts = new Map()
      this.#completions = []
    } else {
      const free = (id: string): boolean => !busy.has(id)
      const logs = this.#logs.filter((l) => free(l.runId))
      const external = this.#external.filter((e) => free(e.line.runId))
      if (external.length > 0) this.#external = this.#external.filter((e) => !free(e.line.runId))
      const waits = this.#waits.filter((w) => free(w.id))
      const starts = [...this.#starts.values()].filter((w) => free(w.id))
      const completions = this.#completions.filter((c) => free(c.completion.id))
      const progress: ProgressWrite[] = []
      for (const [id, write] of this.#progress) if (free(id)) progress.push(write)
      if (logs.length > 0) this.#logs = this.#logs.filter((l) => !free(l.runId))
      if (waits.length > 0) this.#waits = this.#waits.filter((w) => !free(w.id))
      for (const write of starts) this.#starts.delete(write.id)
      if (completions.length > 0) this.#completions = this.#completions.filter((c) => !free(c.completion.id))
      for (const write of progress) this.#progress.delete(write.id)
      taken = { logs, external, progress, waits, starts, completions }
    }
    return taken
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
    const { logs, external, progress, waits, starts, completions } = this.#take()
    if (logs.length + external.length + progress.length + waits.length + starts.length + completions.length === 0) return Promise.race(this.#inFlight)
    const runs = new Set<string>()
    for (const l of logs) runs.add(l.runId)
    for (const e of external) runs.add(e.line.runId)
    for (const w of progress) runs.add(w.id)
    for (const w of waits) runs.add(w.id)
    for (const w of starts) runs.add(w.id)
    for (const c of completions) runs.add(c.completion.id)
    this.#mark(runs, 1)
    const claim = completions.length > 0 ? this.#claimer?.request() : undefined
    const logCounts = external.length === 0 ? undefined : countLines(external)
    const batch = {
      logs,
      progress,
      waits,
      completions: completions.map((c) => c.completion),
      ...(starts.length === 0 ? {} : { starts }),
      ...(logCounts === undefined ? {} : { logCounts }),
    }
    // Lines for other backends are written first: the store's log count never runs ahead of them.
    const written = external.length === 0 ? Promise.resolve() : appendExternal(external)
    const flight = written.then(() => this.#store.flush(claim === undefined ? batch : { ...batch, claim })).then(
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
        this.#external = [...external, ...this.#external]
        for (const write of progress) if (!this.#progress.has(write.id)) this.#progress.set(write.id, write)
        this.#waits = [...waits, ...this.#waits]
        for (const write of starts) if (!this.#starts.has(write.id)) this.#starts.set(write.id, write)
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

/** The highest line per run and token, for the store's log counts. */
function countLines(external: readonly ExternalLine[]): LogCount[] {
  const top = new Map<string, LogCount>()
  for (const { line } of external) {
    const key = `${line.runId}\u0000${line.token}`
    const seen = top.get(key)
    if (seen === undefined || seen.count < line.seq) top.set(key, { id: line.runId, token: line.token, count: line.seq })
  }
  return [...top.values()]
}

/** Appends lines to their backends, grouped per backend. */
async function appendExternal(external: readonly ExternalLine[]): Promise<void> {
  const byBackend = new Map<LogBackend, ExternalLine['line'][]>()
  for (const { line, backend } of external) {
    const list = byBackend.get(backend)
    if (list === undefined) byBackend.set(backend, [line])
    else list.push(line)
  }
  await Promise.all(
    [...byBackend].map(([backend, lines]) => backend.append(lines.map((l) => ({ runId: l.runId, seq: l.seq, time: l.time, level: l.level, message: l.message })))),
  )
}
