/**
 * Recorded in-process runs (`engine.run` with `record: true`): the run executes here, now, as
 * any in-process run does (its caller's events, signal and result unchanged), and is also
 * stored, so that it shows in run lists, on the run page and in the API.
 *
 * - Stored before the handler starts: `running`, attempt 1 of 1, marked in-process, under a
 *   lease token of its own (`Store.insertInProcessRun`). It never passes through `pending`, so
 *   no worker ever claims it.
 * - Output goes the way a worker's does: log lines, progress (at most once per
 *   `progressIntervalMs`), waiting changes and the completion go through a {@link WriteBuffer}
 *   (one per store, shared by every recorded run of the engine), fenced by the run's token.
 * - Its lease is renewed every `heartbeatMs` while it runs; the renewal brings cancels
 *   requested elsewhere (the handler's signal fires), and so do the store's `cancel` signals
 *   (PostgreSQL). A cancel made through this engine aborts it at once ({@link abort}, used by
 *   the engine's run control as it does for its worker's runs).
 * - If the process dies, the lease expires and the rescue ends the run `failed` (it has no
 *   attempt left): it is never executed again elsewhere.
 * - The final event is sent once the completion is stored, so that a page reloading on it
 *   reads the run finished.
 */
import { hostname } from 'node:os'
import { LeaseLostError, UnrecoverableError, coerceError } from '../../errors.js'
import type { LogEntry, Progress, RunResult } from '../../task/context.js'
import { DEFAULT_PRIORITY, DEFAULT_QUEUE, DEFAULT_RUN_CATEGORY } from '../../task/define.js'
import { storedArgs } from '../../task/fields.js'
import type { Completion, NewRun, Store } from '../../store/types.js'
import { ActiveRun, type RunSink, type RunSpec } from '../execute/active-run.js'
import { cancelReason, toRunError } from '../execute/run-error.js'
import { partialJson } from '../execute/partial-result.js'
import { newId } from '../ids.js'
import type { RunOptions } from '../options.js'
import type { LogBackend } from '../settings/log-backends.js'
import type { AttemptTrace } from '../tracing/trace-context.js'
import { WriteBuffer } from '../durable/write-buffer.js'
import { jsonText } from '../../json-text.js'

/** Where a recorded run was started when its caller does not say. */
export const DEFAULT_STARTED_FROM = 'engine'

/** What recorded runs need from the engine. */
export interface RecordedHost {
  /** The store, opened if need be. */
  store(): Promise<Store>
  now(): number
  readonly leaseMs: number
  readonly heartbeatMs: number
  readonly progressIntervalMs: number
  /** Where log lines go now (the `logBackend` setting); `undefined`: the store. */
  logBackend(): LogBackend | undefined
  onError(error: Error): void
}

/** Runs this process holds, as the engine's run control sees them. */
export interface LocalRuns {
  has(runId: string): boolean
  abort(runId: string, reason: Error): void
}

/** One recorded run executing here. */
interface Recorded {
  readonly id: string
  readonly token: string
  /** When it was stored as started, epoch ms. */
  readonly startedAt: number
  readonly active: ActiveRun
  /** Its lease was lost (rescued, deleted): nothing more is written for it. */
  lost: boolean
  progress: Progress | undefined
  tags: readonly string[]
  readonly initialTags: readonly string[]
  /** The partial result (`ctx.setResult`) not stored yet. */
  partial: Readonly<Record<string, unknown>> | undefined
  lastStateWrite: number
  stateTimer: NodeJS.Timeout | undefined
}

export class RecordedRuns {
  readonly #host: RecordedHost
  /** The process executing them, as their stored `workerId` says (there is no worker row). */
  readonly workerId = `${hostname()}:${process.pid}:in-process`
  readonly #runs = new Map<string, Recorded>()
  /** Runs from their insert until their completion is stored (for {@link close}). */
  readonly #settling = new Set<Promise<unknown>>()
  #buffer: { readonly store: Store; readonly writes: WriteBuffer } | undefined
  #beat: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined

  constructor(host: RecordedHost) {
    this.#host = host
  }

  /** Whether a recorded run executes here now. */
  has(runId: string): boolean {
    return this.#runs.has(runId)
  }

  /** Aborts a recorded run executing here (a cancel or delete): its signal fires with `reason`. `false` if not here. */
  abort(runId: string, reason: Error): boolean {
    const recorded = this.#runs.get(runId)
    if (recorded === undefined) return false
    recorded.active.abort(reason)
    return true
  }

  /**
   * What the engine's run control aborts at once on a cancel or delete: the runs of `worker`
   * (this process's worker, if one runs) and the recorded runs executing here.
   */
  withLocal(worker: () => LocalRuns | undefined): () => LocalRuns {
    const local: LocalRuns = {
      has: (id) => this.has(id) || worker()?.has(id) === true,
      abort: (id, reason) => {
        if (!this.abort(id, reason)) worker()?.abort(id, reason)
      },
    }
    return () => local
  }

  /**
   * Stores the run `running`, executes it with `spec` (the in-process spec, given a sink here)
   * and stores its end; resolves to its result. Rejects only when the run cannot be stored
   * (then its handler never ran).
   */
  run(spec: RunSpec, args: Record<string, unknown>, options: RunOptions, trace: ((id: string) => AttemptTrace | undefined) | undefined): Promise<RunResult> {
    const settled = this.#record(spec, args, options, trace)
    this.#settling.add(settled)
    void settled.then(
      () => this.#settling.delete(settled),
      () => this.#settling.delete(settled),
    )
    return settled
  }

  async #record(spec: RunSpec, args: Record<string, unknown>, options: RunOptions, traceOf: ((id: string) => AttemptTrace | undefined) | undefined): Promise<RunResult> {
    const host = this.#host
    const store = await host.store()
    const id = newId()
    const token = newId()
    const startedAt = host.now()
    await store.insertInProcessRun(newRecordedRow(spec, id, args, options, startedAt), {
      token,
      workerId: this.workerId,
      startedAt,
      leaseUntil: startedAt + host.leaseMs,
      from: options.startedFrom ?? DEFAULT_STARTED_FROM,
    })
    const writes = this.#writesTo(store)
    const holder: { recorded?: Recorded } = {}
    const sink = this.#sink(store, writes, holder)
    const trace = traceOf?.(id)
    // Interruptible: a cancel settles the run at once, as a worker's runs do. The final event
    // is sent here, once the end is stored.
    const active = new ActiveRun({ ...spec, sink, interruptible: true, durable: true, emitFinal: false }, id, args, trace)
    const recorded: Recorded = { id, token, startedAt, active, lost: false, progress: undefined, tags: spec.tags, initialTags: spec.tags, partial: undefined, lastStateWrite: 0, stateTimer: undefined }
    holder.recorded = recorded
    this.#runs.set(id, recorded)
    this.#watch(store)
    let result: RunResult
    try {
      result = await (trace === undefined ? active.execute() : trace.within(() => active.execute()))
      trace?.end(result.status, result.error, result.status === 'failed')
    } finally {
      clearTimeout(recorded.stateTimer)
      this.#runs.delete(id)
      if (this.#runs.size === 0) this.#unwatch()
    }
    const completion = this.#completion(recorded, result)
    // A fenced end (the run was deleted or rescued meanwhile) changes nothing, as a worker's.
    if (completion !== undefined) await writes.complete(completion).catch((error: unknown) => host.onError(coerceError(error)))
    // The caller's listener gets its final event as for any in-process run.
    spec.emit?.({ type: result.status, runId: id, task: spec.task.key, poolId: spec.poolId, time: result.finishedAt, error: result.error ?? null, result })
    return result
  }

  /** Waits for every recorded run to store its end (their handlers are ended by the in-process tracker). */
  async close(): Promise<void> {
    while (this.#settling.size > 0) await Promise.allSettled([...this.#settling])
    this.#unwatch()
    await this.#buffer?.writes.drain()
  }

  /** The run's completion as a worker would store it; `undefined` when its lease was lost. */
  #completion(recorded: Recorded, result: RunResult): Completion | undefined {
    if (recorded.lost) return undefined
    const finishedAt = this.#host.now()
    let status = result.status
    let error = result.error ?? null
    let data: string | undefined
    if (status !== 'succeeded') data = partialJson(result.data)
    else {
      try {
        data = jsonText(result.data ?? null)
      } catch (thrown) {
        // The caller still gets its result; the store says why it has none.
        status = 'failed'
        error = toRunError(new UnrecoverableError(`the handler's result cannot be stored as JSON: ${coerceError(thrown).message}`))
      }
    }
    const startedAt = recorded.startedAt
    return {
      id: recorded.id,
      token: recorded.token,
      status,
      finishedAt,
      ...(data === undefined ? {} : { data }),
      error,
      progress: result.progress ?? null,
      tags: result.tags,
      attempt: { number: 1, workerId: this.workerId, startedAt: new Date(startedAt), finishedAt: new Date(finishedAt), outcome: status, error },
    }
  }

  /** The write buffer of `store` (a new one when the engine's store changed). */
  #writesTo(store: Store): WriteBuffer {
    if (this.#buffer?.store !== store) {
      const parallel = Math.max(1, store.parallelWrites ?? 1)
      this.#buffer = { store, writes: new WriteBuffer(store, (error) => this.#host.onError(error), undefined, parallel) }
    }
    return this.#buffer.writes
  }

  /** Where a run's output goes: the write buffer, fenced by its token. */
  #sink(store: Store, writes: WriteBuffer, holder: { recorded?: Recorded }): RunSink {
    const host = this.#host
    return {
      log: (entry: LogEntry) => {
        const recorded = holder.recorded
        if (recorded === undefined || recorded.lost) return
        writes.log({ runId: recorded.id, token: recorded.token, seq: entry.seq, time: entry.time.getTime(), level: entry.level, message: entry.message }, host.logBackend())
      },
      state: (progress, tags) => {
        const recorded = holder.recorded
        if (recorded === undefined || recorded.lost) return
        recorded.progress = progress
        recorded.tags = tags
        this.#writeStateThrottled(writes, recorded)
      },
      artifact: async (name, data, contentType) => {
        const recorded = holder.recorded!
        const stored = await store.putArtifact({ runId: recorded.id, token: recorded.token, name, contentType, data, now: host.now() })
        if (stored) return
        // No longer ours (rescued, deleted): stop the handler, write nothing more.
        recorded.lost = true
        const lost = new LeaseLostError()
        recorded.active.abort(lost)
        throw lost
      },
      result: (partial) => {
        const recorded = holder.recorded
        if (recorded === undefined || recorded.lost) return
        recorded.partial = partial
        this.#writeStateThrottled(writes, recorded)
      },
      waiting: (waiting) => {
        const recorded = holder.recorded
        if (recorded === undefined || recorded.lost) return
        writes.wait({ id: recorded.id, token: recorded.token, waiting })
      },
    }
  }

  /** Progress and tags reach the store at most once per interval per run (subscribers get every update from the run itself). */
  #writeStateThrottled(writes: WriteBuffer, recorded: Recorded): void {
    const now = this.#host.now()
    const wait = recorded.lastStateWrite + this.#host.progressIntervalMs - now
    if (wait <= 0) this.#writeState(writes, recorded, now)
    else if (recorded.stateTimer === undefined) {
      recorded.stateTimer = setTimeout(() => this.#writeState(writes, recorded, this.#host.now()), wait)
      recorded.stateTimer.unref()
    }
  }

  #writeState(writes: WriteBuffer, recorded: Recorded, now: number): void {
    clearTimeout(recorded.stateTimer)
    recorded.stateTimer = undefined
    if (!this.#runs.has(recorded.id) || recorded.lost) return
    const result = recorded.partial === undefined ? undefined : partialJson(recorded.partial)
    recorded.partial = undefined
    if (recorded.progress === undefined && recorded.tags === recorded.initialTags && result === undefined) return
    recorded.lastStateWrite = now
    writes.progress({ id: recorded.id, token: recorded.token, progress: recorded.progress ?? {}, tags: recorded.tags, ...(result === undefined ? {} : { result }) })
  }

  /** Renews the leases of the runs executing here while there are any, and listens for cancels pushed by the store. */
  #watch(store: Store): void {
    if (this.#beat !== undefined) return
    this.#beat = setInterval(() => void this.#renew(store), this.#host.heartbeatMs)
    // The runs' callers keep the process alive; the renewal alone must not.
    this.#beat.unref()
    this.#unsubscribe = store.onSignal?.('cancel', (message) => {
      if (message.type !== 'cancel') return
      for (const id of message.ids) this.abort(id, cancelReason(message.reason))
    })
  }

  #unwatch(): void {
    clearInterval(this.#beat)
    this.#beat = undefined
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  /** One renewal: cancels requested elsewhere fire the runs' signals; a lost lease stops its run. Never rejects. */
  async #renew(store: Store): Promise<void> {
    const host = this.#host
    const leases = [...this.#runs.values()].filter((r) => !r.lost).map((r) => ({ id: r.id, token: r.token }))
    if (leases.length === 0) return
    try {
      const outcome = await store.renewLeases(this.workerId, leases, host.now() + host.leaseMs)
      for (const { id, reason } of outcome.cancelRequested) this.abort(id, cancelReason(reason ?? ''))
      for (const id of outcome.lost) {
        const recorded = this.#runs.get(id)
        if (recorded === undefined) continue
        recorded.lost = true
        recorded.active.abort(new LeaseLostError())
      }
    } catch (error) {
      host.onError(new Error(`renewing the leases of recorded in-process runs failed: ${coerceError(error).message}`, { cause: error }))
    }
  }
}

/** The stored row of a recorded run: one attempt, due and created now, in the task's queue. */
function newRecordedRow(spec: RunSpec, id: string, args: Record<string, unknown>, options: RunOptions, now: number): NewRun {
  const task = spec.task
  return {
    id,
    task: task.key,
    label: spec.label,
    queue: task.queue ?? DEFAULT_QUEUE,
    priority: task.priority ?? DEFAULT_PRIORITY,
    args: JSON.stringify(storedArgs(args)),
    argsHash: null,
    tags: spec.tags,
    category: task.defaults.category ?? DEFAULT_RUN_CATEGORY,
    createdBy: options.createdBy ?? null,
    uniqueKey: null,
    parentId: null,
    poolId: null,
    scheduleId: null,
    // It executes once, here: a lost process fails it rather than retrying it on a worker.
    maxAttempts: 1,
    backoff: null,
    timeoutMs: spec.timeoutMs ?? null,
    runAt: now,
    notAfter: null,
    createdAt: now,
  }
}
