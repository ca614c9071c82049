/**
 * Group commit for a worker's writes: log lines, progress snapshots, holds, handler starts,
 * waiting changes, completions and releases made in one turn of the event loop go to the store as
 * one batch (one transaction). What arrives while a batch is in flight forms the next. Stores that take
 * writes in parallel (PostgreSQL: one connection each) get up to `parallel` batches at once;
 * the writes of one run stay in order, as a run with writes in flight waits for them before
 * its next ones leave.
 *
 * A failed write (store down, connection lost) is retried with backoff; nothing is dropped.
 *
 * A finished run's completion waits in the buffer at most {@link RESULT_WAIT_MS} (unless the
 * store is failing, or a write of the same run is still in flight): when every batch slot stays
 * busy that long, one extra batch takes the waiting writes. So a process killed at any moment
 * runs again only the runs it was executing, those whose completion was being written, and those
 * finished within that bound.
 */
import { coerceError } from '../../errors.js'
import type { ClaimRequest, ClaimedRun, Completion, HoldWrite, LogCount, NewLogLine, ProgressWrite, ReleaseWrite, StartWrite, Store, WaitWrite } from '../../store/types.js'
import type { LogBackend } from '../settings/log-backends.js'

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

/**
 * The longest a completion waits in the buffer while every batch slot is busy, in ms, before an
 * extra batch takes it (see the module comment).
 */
export const RESULT_WAIT_MS = 10

/** Flush at once when this many log lines wait, rather than at the end of the turn. */
const MAX_PENDING_LOGS = 2000

/** A log line bound for a backend outside the store. */
interface ExternalLine {
  readonly line: NewLogLine
  readonly backend: LogBackend
}

/** A write whose caller waits until it is stored; resolved with `true` if it was fenced (changed nothing). */
interface Acked<T extends { readonly id: string }> {
  readonly write: T
  readonly resolve: (fenced: boolean) => void
}

type Taken = {
  logs: NewLogLine[]
  external: ExternalLine[]
  progress: ProgressWrite[]
  waits: WaitWrite[]
  holds: HoldWrite[]
  starts: Acked<StartWrite>[]
  completions: Acked<Completion>[]
  releases: Acked<ReleaseWrite>[]
}

export class WriteBuffer {
  readonly #store: Store
  readonly #onError: (error: Error) => void
  readonly #parallel: number
  #logs: NewLogLine[] = []
  #external: ExternalLine[] = []
  #progress = new Map<string, ProgressWrite>()
  #waits: WaitWrite[] = []
  /** Holds not written yet, by run: starting the run before they leave cancels them. */
  #holds = new Map<string, HoldWrite>()
  /** Holds of a batch that failed: it may have committed all the same, so they cannot be cancelled. */
  readonly #uncertainHolds = new Set<string>()
  #starts: Acked<StartWrite>[] = []
  #completions: Acked<Completion>[] = []
  #releases: Acked<ReleaseWrite>[] = []
  #scheduled = false
  /** Batches in flight, and how many of them carry writes of each run. */
  readonly #inFlight = new Set<Promise<void>>()
  readonly #busyRuns = new Map<string, number>()
  #failures = 0
  #pause: Promise<void> | undefined
  /** Set while completions wait behind busy batch slots: it sends an extra batch when it fires. */
  #overdue: NodeJS.Timeout | undefined
  readonly #resultWaitMs: number

  readonly #claimer: BatchClaimer | undefined
  /** Set by {@link close}: writes are refused (reported once). */
  #closed = false
  #refusalReported = false

  constructor(store: Store, onError: (error: Error) => void, claimer?: BatchClaimer, parallel = 1, resultWaitMs = RESULT_WAIT_MS) {
    this.#store = store
    this.#onError = onError
    this.#claimer = claimer
    this.#parallel = Math.max(1, Math.floor(parallel))
    this.#resultWaitMs = resultWaitMs
  }

  /** Queues a log line for the store, or for `backend` (the store then records only the run's log count). */
  log(line: NewLogLine, backend?: LogBackend): void {
    if (this.#refused()) return
    if (backend === undefined) this.#logs.push(line)
    else this.#external.push({ line, backend })
    this.#schedule(this.#logs.length + this.#external.length >= MAX_PENDING_LOGS)
  }

  /** Saves a progress snapshot (the newest per run wins, keeping a partial result an older one carried). */
  progress(write: ProgressWrite): void {
    if (this.#refused()) return
    this.#progress.set(write.id, withResultOf(this.#progress.get(write.id), write))
    this.#schedule(false)
  }

  /**
   * Takes back the start a claim recorded for a run the worker holds in its buffer (see
   * {@link HoldWrite}). {@link unhold} cancels it while it has not left.
   */
  hold(write: HoldWrite): void {
    if (this.#refused()) return
    this.#holds.set(write.id, write)
    this.#schedule(false)
  }

  /**
   * Cancels a queued hold of a run that is starting after all. `true` if it had not left: the
   * start its claim recorded still stands, so the handler may be called at once. `false` if it
   * left (or never was): the run needs a stored {@link start} first.
   */
  unhold(id: string): boolean {
    // A hold whose batch failed may have been stored after all: it stays, and a start follows it.
    if (this.#uncertainHolds.has(id)) return false
    return this.#holds.delete(id)
  }

  /** Stores that a run's handler is about to start; resolves once stored (`true` if fenced: the run is no longer this claim's). */
  start(write: StartWrite): Promise<boolean> {
    if (this.#refused()) return Promise.resolve(true)
    return new Promise((resolve) => {
      this.#starts.push({ write, resolve })
      this.#schedule(false)
    })
  }

  /** Hands a claimed run back unstarted (see {@link ReleaseWrite}); resolves once stored, `true` if fenced. */
  release(write: ReleaseWrite): Promise<boolean> {
    if (this.#refused()) return Promise.resolve(true)
    return new Promise((resolve) => {
      this.#holds.delete(write.id)
      this.#uncertainHolds.delete(write.id)
      this.#releases.push({ write, resolve })
      this.#schedule(false)
    })
  }

  wait(write: WaitWrite): void {
    if (this.#refused()) return
    this.#waits.push(write)
    this.#schedule(false)
  }

  /** Queues a completion; resolves once written, with `true` if it was fenced (changed nothing). */
  complete(completion: Completion): Promise<boolean> {
    if (this.#refused()) return Promise.resolve(true)
    return new Promise((resolve) => {
      // The run's own pending progress is part of the completion.
      this.#progress.delete(completion.id)
      this.#completions.push({ write: completion, resolve })
      this.#schedule(false)
      if (this.#inFlight.size >= this.#parallel) this.#watchOverdue()
    })
  }

  /** Resolves when everything queued so far is written. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#hasWork()) {
      if (this.#inFlight.size > 0) await Promise.race(this.#inFlight)
      else await this.#flush()
    }
  }

  /**
   * The worker has stopped, its writes drained: the store may close. A write made after this (a
   * handler that went on after it was abandoned) is not sent, as it could only be retried for ever
   * against a closed store; the first is reported. A write the caller waits for resolves as fenced
   * (the run is no longer this worker's): its lease runs out and the run is taken again.
   */
  close(): void {
    this.#closed = true
  }

  #refused(): boolean {
    if (!this.#closed) return false
    if (!this.#refusalReported) {
      this.#refusalReported = true
      this.#onError(new Error('a write came after the worker stopped (a handler still running after it was abandoned?): it is not stored, and neither are later ones; their runs are taken again once their leases run out'))
    }
    return true
  }

  #hasWork(): boolean {
    return this.#logs.length + this.#external.length + this.#progress.size + this.#waits.length + this.#holds.size + this.#starts.length + this.#completions.length + this.#releases.length > 0
  }

  /** Makes sure completions queued now leave within the bound, even if every slot stays busy. */
  #watchOverdue(): void {
    if (this.#overdue !== undefined) return
    this.#overdue = setTimeout(() => {
      this.#overdue = undefined
      // Still waiting behind busy slots (a failing store pauses instead): one extra batch.
      if (this.#completions.length > 0 && this.#pause === undefined && this.#inFlight.size === this.#parallel) void this.#flush(true)
    }, this.#resultWaitMs)
    this.#overdue.unref()
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
      else if (this.#completions.length > 0) this.#watchOverdue()
    })
  }

  /** Takes what may leave now: everything, except writes of runs that have writes in flight. */
  #take(): Taken {
    const busy = this.#busyRuns
    if (busy.size === 0) {
      const taken: Taken = {
        logs: this.#logs,
        external: this.#external,
        progress: [...this.#progress.values()],
        waits: this.#waits,
        holds: [...this.#holds.values()],
        starts: this.#starts,
        completions: this.#completions,
        releases: this.#releases,
      }
      this.#logs = []
      this.#external = []
      this.#progress = new Map()
      this.#waits = []
      this.#holds = new Map()
      this.#starts = []
      this.#completions = []
      this.#releases = []
      return taken
    }
    const free = (id: string): boolean => !busy.has(id)
    const split = <T>(list: T[], id: (item: T) => string): [T[], T[]] => {
      const out: T[] = []
      const kept: T[] = []
      for (const item of list) (free(id(item)) ? out : kept).push(item)
      return [out, kept]
    }
    let logs: NewLogLine[], external: ExternalLine[], waits: WaitWrite[], starts: Acked<StartWrite>[], completions: Acked<Completion>[], releases: Acked<ReleaseWrite>[]
    ;[logs, this.#logs] = split(this.#logs, (l) => l.runId)
    ;[external, this.#external] = split(this.#external, (e) => e.line.runId)
    ;[waits, this.#waits] = split(this.#waits, (w) => w.id)
    ;[starts, this.#starts] = split(this.#starts, (w) => w.write.id)
    ;[completions, this.#completions] = split(this.#completions, (c) => c.write.id)
    ;[releases, this.#releases] = split(this.#releases, (r) => r.write.id)
    const progress: ProgressWrite[] = []
    for (const [id, write] of this.#progress) if (free(id)) progress.push(write)
    for (const write of progress) this.#progress.delete(write.id)
    const holds: HoldWrite[] = []
    for (const [id, write] of this.#holds) if (free(id)) holds.push(write)
    for (const write of holds) this.#holds.delete(write.id)
    return { logs, external, progress, waits, holds, starts, completions, releases }
  }

  #mark(ids: Iterable<string>, delta: 1 | -1): void {
    for (const id of ids) {
      const n = (this.#busyRuns.get(id) ?? 0) + delta
      if (n <= 0) this.#busyRuns.delete(id)
      else this.#busyRuns.set(id, n)
    }
  }

  /** Sends what may leave now as one batch; `extra` lets it take one slot beyond `parallel` (overdue completions, no claim). */
  #flush(extra = false): Promise<void> {
    if (this.#pause !== undefined) return this.#pause
    if (this.#inFlight.size >= this.#parallel + (extra ? 1 : 0)) return Promise.race(this.#inFlight)
    if (!this.#hasWork()) return Promise.resolve()
    const taken = this.#take()
    const { logs, external, progress, waits, holds, starts, completions, releases } = taken
    const runs = new Set<string>()
    for (const l of logs) runs.add(l.runId)
    for (const e of external) runs.add(e.line.runId)
    for (const w of progress) runs.add(w.id)
    for (const w of waits) runs.add(w.id)
    for (const w of holds) runs.add(w.id)
    for (const w of starts) runs.add(w.write.id)
    for (const c of completions) runs.add(c.write.id)
    for (const r of releases) runs.add(r.write.id)
    if (runs.size === 0) return Promise.race(this.#inFlight)
    this.#mark(runs, 1)
    const claim = completions.length > 0 && !extra ? this.#claimer?.request() : undefined
    const logCounts = external.length === 0 ? undefined : countLines(external)
    const batch = {
      logs,
      progress,
      waits,
      completions: completions.map((c) => c.write),
      ...(holds.length === 0 ? {} : { holds }),
      ...(starts.length === 0 ? {} : { starts: starts.map((s) => s.write) }),
      ...(releases.length === 0 ? {} : { releases: releases.map((r) => r.write) }),
      ...(logCounts === undefined ? {} : { logCounts }),
    }
    // Lines for other backends are written first: the store's log count never runs ahead of them.
    const written = external.length === 0 ? Promise.resolve() : appendExternal(external)
    const flight = written.then(() => this.#store.writeBatch(claim === undefined ? batch : { ...batch, claim })).then(
      (outcome) => {
        this.#failures = 0
        this.#mark(runs, -1)
        for (const hold of holds) this.#uncertainHolds.delete(hold.id)
        if (claim !== undefined) this.#claimer?.claimed(outcome.claimed ?? [], claim)
        const fenced = new Set(outcome.fenced)
        for (const list of [starts, completions, releases]) for (const { write, resolve } of list) resolve(fenced.has(write.id))
      },
      async (error: unknown) => {
        this.#mark(runs, -1)
        if (claim !== undefined) this.#claimer?.failed(claim)
        // Put the batch back in front of what arrived since, then try again after a pause.
        this.#failures++
        this.#onError(new Error(`write to the store failed (attempt ${this.#failures}), retrying: ${coerceError(error).message}`, { cause: error }))
        this.#putBack(taken)
        this.#pause ??= new Promise<void>((resolve) => setTimeout(resolve, Math.min(5000, 50 * 2 ** Math.min(this.#failures, 7)))).finally(() => {
          this.#pause = undefined
        })
        await this.#pause
      },
    )
    const tracked: Promise<void> = flight.finally(() => {
      this.#inFlight.delete(tracked)
      if (this.#hasWork()) this.#schedule(false)
      if (this.#completions.length === 0) {
        clearTimeout(this.#overdue)
        this.#overdue = undefined
      } else if (this.#inFlight.size >= this.#parallel) this.#watchOverdue()
    })
    this.#inFlight.add(tracked)
    return tracked
  }

  /** A failed batch goes back in front of what arrived since (newer progress and holds win). */
  #putBack(taken: Taken): void {
    this.#logs = [...taken.logs, ...this.#logs]
    this.#external = [...taken.external, ...this.#external]
    for (const write of taken.progress) {
      const newer = this.#progress.get(write.id)
      this.#progress.set(write.id, newer === undefined ? write : withResultOf(write, newer))
    }
    this.#waits = [...taken.waits, ...this.#waits]
    // The failed batch may have committed all the same: its holds are written again, never
    // cancelled (see unhold); a run started meanwhile has its start write after its hold.
    for (const write of taken.holds) {
      this.#uncertainHolds.add(write.id)
      if (!this.#holds.has(write.id)) this.#holds.set(write.id, write)
    }
    this.#starts = [...taken.starts, ...this.#starts]
    this.#completions = [...taken.completions, ...this.#completions]
    this.#releases = [...taken.releases, ...this.#releases]
  }
}

/** `newer`, carrying the partial result of `older` (the same claim's) when it has none of its own. */
function withResultOf(older: ProgressWrite | undefined, newer: ProgressWrite): ProgressWrite {
  if (older?.result === undefined || newer.result !== undefined || older.token !== newer.token) return newer
  return { ...newer, result: older.result }
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
