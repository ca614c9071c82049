/**
 * The runs a worker executes now: each takes a slot from its start until its completion is
 * queued, and goes through one attempt.
 *
 * - Start (at most once per attempt): a handler is called only while the store records its
 *   attempt as started — at once when its claim counted the start and no hold of it has left
 *   (see `LocalBuffer.startStands`), else once a start write for it is stored (a run on its last
 *   attempt, or one whose hold left). A cancel or stop that arrives while that start is being
 *   stored hands the run back unspent; its handler is never called.
 * - Output: log lines go to the write buffer as they come; progress and tags reach subscribers at
 *   once and the store at most once per `progressIntervalMs`; a run waiting on a pool lends its
 *   slot out (`waiting`); an artifact the store fences means the lease was lost.
 * - End: {@link decideAttempt} decides, the slot is freed and refilled from the local buffer
 *   before the completion is even written, and the completion (fenced by the lease token) goes
 *   to the write buffer; a fenced completion sends no event.
 * - Traces: when tracing is on, each attempt is a span continuing the trace stored with the run,
 *   the handler runs inside it, and the span ends with the decision.
 */
import { LeaseLostError, ShutdownError, UnrecoverableError, coerceError } from '../../errors.js'
import type { LogEntry, Progress } from '../../task/context.js'
import type { AnyTask } from '../../task/define.js'
import { parseTaskArgs } from '../../task/validate.js'
import type { Attempt, ClaimedRun, Completion, Lease } from '../../store/types.js'
import { ActiveRun, type RunSink } from '../execute/active-run.js'
import { toRunError } from '../execute/run-error.js'
import { partialJson } from '../execute/partial-result.js'
import { backoffPolicyOf, decideAttempt, type AttemptDecision, type AttemptResult } from './attempt-outcome.js'
import type { AttemptTrace } from '../tracing/trace-context.js'
import type { WorkerEngine } from './worker-engine.js'
import type { WriteBuffer } from './write-buffer.js'

/** What the executions need from their worker. */
export interface ExecutionHost {
  readonly workerId: string
  /** Whether the worker stops (a run whose start was being stored then goes back unstarted). */
  stopping(): boolean
  /** Whether the store records this claim's attempt as started now (see `LocalBuffer.startStands`). */
  startStands(run: ClaimedRun): boolean
  /** Writes a claimed run back whose handler never ran. */
  handBack(run: ClaimedRun, status: 'pending' | 'cancelled', reason: Error | null): void
  /** A run is held (`1`) or let go (`-1`), for the claim limits. */
  count(run: ClaimedRun, delta: number): void
  /** Starts runs from the local buffer while slots are free. */
  startLocal(): void
  /** Saves the worker's row soon (what it runs changed). */
  saveRowSoon(): void
  /** An attempt finished (prefetch sizing). */
  finished(): void
  /** Looks for runs now. */
  wake(): void
}

/** One claimed run this worker executes. */
interface Execution {
  readonly run: ClaimedRun
  readonly token: string
  readonly task: AnyTask | undefined
  /** Set when the handler is called: at once, or once the run's start is stored (see `begin`). */
  active: ActiveRun | undefined
  /** A cancel that arrived while the run's start was being stored: the handler is never called. */
  abortBeforeStart: Error | undefined
  readonly startedAt: number
  waiting: boolean
  lost: boolean
  stopping: boolean
  progress: Progress | undefined
  tags: readonly string[]
  /** The partial result (`ctx.setResult`) not stored yet; `undefined` once written (or never set). */
  partial: Readonly<Record<string, unknown>> | undefined
  lastStateWrite: number
  stateTimer: NodeJS.Timeout | undefined
  /** The attempt's span, when tracing is on. */
  trace: AttemptTrace | undefined
}

/** The worker's side of every execution's sink. */
interface SinkHost {
  log(execution: Execution, entry: LogEntry): void
  state(execution: Execution, progress: Progress | undefined, tags: readonly string[]): void
  result(execution: Execution, partial: Readonly<Record<string, unknown>>): void
  artifact(execution: Execution, name: string, data: Buffer, contentType: string): Promise<void>
  waiting(execution: Execution, waiting: boolean): void
}

/** Where one execution's output goes. */
class ExecutionSink implements RunSink {
  readonly #host: SinkHost
  readonly #execution: Execution
  constructor(host: SinkHost, execution: Execution) {
    this.#host = host
    this.#execution = execution
  }
  log(entry: LogEntry): void {
    this.#host.log(this.#execution, entry)
  }
  state(progress: Progress | undefined, tags: readonly string[]): void {
    this.#host.state(this.#execution, progress, tags)
  }
  result(partial: Readonly<Record<string, unknown>>): void {
    this.#host.result(this.#execution, partial)
  }
  artifact(name: string, data: Buffer, contentType: string): Promise<void> {
    return this.#host.artifact(this.#execution, name, data, contentType)
  }
  waiting(waiting: boolean): void {
    this.#host.waiting(this.#execution, waiting)
  }
}

/** The runs a worker executes, and the slots they take. */
export class Executions {
  readonly #host: ExecutionHost
  readonly #engine: WorkerEngine
  readonly #buffer: WriteBuffer
  readonly #byId = new Map<string, Execution>()
  #busy = 0
  #idle: (() => void)[] = []

  constructor(host: ExecutionHost, engine: WorkerEngine, buffer: WriteBuffer) {
    this.#host = host
    this.#engine = engine
    this.#buffer = buffer
  }

  /** Slots in use (waiting runs lend theirs out). */
  get busy(): number {
    return this.#busy
  }

  get size(): number {
    return this.#byId.size
  }

  ids(): string[] {
    return [...this.#byId.keys()]
  }

  has(runId: string): boolean {
    return this.#byId.has(runId)
  }

  /** The leases of the runs executing (renewed by the heartbeat). */
  leases(): Lease[] {
    return [...this.#byId.values()].map((e) => ({ id: e.run.id, token: e.token }))
  }

  /** Aborts an executing run through its signal (before its start is stored: it never starts). `false` if not executing here. */
  abort(runId: string, reason: Error): boolean {
    const execution = this.#byId.get(runId)
    if (execution === undefined) return false
    if (execution.active === undefined) execution.abortBeforeStart ??= reason
    else execution.active.abort(reason)
    return true
  }

  /** The run's lease was lost: its handler is aborted and nothing more is written for it. */
  lose(runId: string): void {
    const execution = this.#byId.get(runId)
    if (execution === undefined) return
    execution.lost = true
    execution.active?.abort(new LeaseLostError())
  }

  /** The grace period of a stop is over: every handler is aborted, its attempt counted (see `decideAttempt`). */
  stopAll(): void {
    for (const execution of this.#byId.values()) {
      execution.stopping = true
      execution.active?.abort(new ShutdownError('worker shutting down'))
    }
  }

  /** Resolves once no run executes. */
  allDone(): Promise<void> {
    if (this.#byId.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  /**
   * Takes a slot for a claimed run and calls its handler: at once when the store already records
   * the attempt as started, else once a start write is stored (a run on its last attempt, or one
   * whose hold left): a handler is never called while a rescue would take its run for unstarted.
   */
  begin(run: ClaimedRun): void {
    const execution: Execution = {
      run,
      token: run.token,
      task: this.#engine.registry.get(run.task),
      active: undefined,
      abortBeforeStart: undefined,
      waiting: false,
      lost: false,
      stopping: false,
      progress: undefined,
      tags: run.tags,
      partial: undefined,
      lastStateWrite: 0,
      stateTimer: undefined,
      trace: undefined,
      startedAt: this.#engine.now(),
    }
    this.#busy++
    this.#byId.set(run.id, execution)
    this.#host.saveRowSoon()
    if (this.#host.startStands(run)) {
      this.#execute(execution)
      return
    }
    this.#buffer
      .start({ id: run.id, token: run.token, startedAt: execution.startedAt })
      .then((fenced) => this.#afterStart(execution, fenced))
      .catch((error: unknown) => {
        // Preparing the handler threw before it ran: free the slot and hand the run back.
        this.#engine.onError(coerceError(error))
        if (this.#byId.get(run.id) !== execution || execution.active !== undefined) return
        this.#retire(execution)
        this.#host.handBack(run, 'pending', null)
      })
  }

  /** A run's start was stored (or fenced): call its handler, or let go of a run that must not start now. */
  #afterStart(execution: Execution, fenced: boolean): void {
    const { run } = execution
    if (this.#byId.get(run.id) !== execution) return
    if (fenced || execution.lost) {
      // No longer this claim's run (rescued, deleted): nothing more to write.
      this.#retire(execution)
      return
    }
    const reason = execution.abortBeforeStart
    if (reason !== undefined || this.#host.stopping()) {
      // Stored as started, but the handler never ran: hand it back as if never claimed.
      this.#retire(execution)
      this.#host.handBack(run, reason === undefined ? 'pending' : 'cancelled', reason ?? null)
      return
    }
    this.#execute(execution)
  }

  /** Calls the handler of a run whose attempt the store records as started. */
  #execute(execution: Execution): void {
    const { run, task } = execution
    const trace = this.#engine.tracing.attempt(run, this.#host.workerId)
    execution.trace = trace
    let args: Record<string, unknown> | undefined
    let invalid: Error | undefined
    if (task === undefined) invalid = new UnrecoverableError(`task "${run.task}" is not registered in this process`)
    else {
      try {
        // Stored arguments may come from older code: validate them again (fields and the
        // task's own validate) before running.
        args = parseTaskArgs(task, run.args)
      } catch (error) {
        invalid = new UnrecoverableError(`stored arguments no longer match the task's fields or its validate(): ${coerceError(error).message}`, { cause: error })
      }
    }
    if (task === undefined || args === undefined) {
      // The attempt counts, and fails at once: an unrecoverable error is never retried.
      const thrown = invalid ?? new UnrecoverableError('invalid run')
      this.#end(execution, { status: 'failed', data: undefined, error: toRunError(thrown) }, thrown, task, undefined, undefined)
      return
    }
    const active = new ActiveRun(
      {
        task,
        label: run.label,
        attempt: run.attempt,
        tags: run.tags,
        timeoutMs: run.timeoutMs ?? task.timeoutMs,
        signal: undefined,
        interruptible: true,
        hookTimeoutMs: this.#engine.hookTimeoutMs,
        logLimits: this.#engine.logLimits,
        // Decided at start, like in-process runs: events are only built when someone listens.
        emit: this.#engine.listening() ? (event) => this.#engine.emit(event) : undefined,
        emitFinal: false,
        retainLogs: false,
        logSeqStart: run.logCount,
        sink: new ExecutionSink(this.#sinkHost, execution),
        poolId: run.poolId,
        durable: true,
        maxArtifactBytes: this.#engine.maxArtifactBytes,
        openPool: this.#engine.openPool,
        // The worker ends its own runs on stop.
        tracker: undefined,
        epoch: 0,
      },
      run.id,
      args,
      trace,
    )
    execution.active = active
    void (trace === undefined ? active.execute() : trace.within(() => active.execute())).then((result) =>
      this.#end(execution, result, active.thrown, task, result.progress, result.tags),
    )
  }

  /** What an execution's sink calls back into (one object per worker, not closures per run). */
  readonly #sinkHost: SinkHost = {
    log: (execution, entry) => {
      this.#buffer.log(
        { runId: execution.run.id, token: execution.token, seq: entry.seq, time: entry.time.getTime(), level: entry.level, message: entry.message },
        this.#engine.logBackend(),
      )
    },
    state: (execution, progress, tags) => {
      execution.progress = progress
      execution.tags = tags
      this.#writeStateThrottled(execution)
    },
    result: (execution, partial) => {
      execution.partial = partial
      this.#writeStateThrottled(execution)
    },
    artifact: async (execution, name, data, contentType) => {
      const stored = await this.#engine.store.putArtifact({ runId: execution.run.id, token: execution.token, name, contentType, data, now: this.#engine.now() })
      if (stored) return
      // The run is no longer ours (rescued, retried, deleted): stop the handler, write nothing more.
      const lost = new LeaseLostError()
      if (this.#byId.get(execution.run.id) === execution) {
        execution.lost = true
        execution.active?.abort(lost)
      }
      throw lost
    },
    waiting: (execution, waiting) => {
      const { run, token } = execution
      if (execution.waiting === waiting || !this.#byId.has(run.id)) return
      execution.waiting = waiting
      // A waiting run lends its slot out; resuming takes it back even if that oversubscribes
      // for a while (the handler never stopped; only the accounting did).
      this.#busy += waiting ? -1 : 1
      if (waiting) this.#host.startLocal()
      this.#buffer.wait({ id: run.id, token, waiting })
      if (this.#engine.listening()) this.#engine.emit({ type: waiting ? 'waiting' : 'resumed', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(this.#engine.now()) })
      if (waiting) this.#host.wake()
    },
  }

  /** Progress, tags and the partial result reach subscribers at once; the store gets at most one write per interval per run. */
  #writeStateThrottled(execution: Execution): void {
    const now = this.#engine.now()
    const wait = execution.lastStateWrite + this.#engine.progressIntervalMs - now
    if (wait <= 0) {
      this.#writeState(execution, now)
    } else if (execution.stateTimer === undefined) {
      execution.stateTimer = setTimeout(() => this.#writeState(execution, this.#engine.now()), wait)
      execution.stateTimer.unref()
    }
  }

  #writeState(execution: Execution, now: number): void {
    clearTimeout(execution.stateTimer)
    execution.stateTimer = undefined
    const result = takePartial(execution)
    if (!this.#byId.has(execution.run.id) || execution.progress === undefined) {
      if (execution.progress === undefined && (execution.tags !== execution.run.tags || result !== undefined)) {
        // Throttled like progress: a handler that only sets partial results writes once an interval.
        execution.lastStateWrite = now
        this.#buffer.progress({ id: execution.run.id, token: execution.token, progress: {}, tags: execution.tags, ...(result === undefined ? {} : { result }) })
      }
      return
    }
    execution.lastStateWrite = now
    this.#buffer.progress({ id: execution.run.id, token: execution.token, progress: execution.progress, tags: execution.tags, ...(result === undefined ? {} : { result }) })
  }

  /** The attempt ended (with the handler's progress and tags, if it ran): decide, then complete. */
  #end(execution: Execution, result: AttemptResult, thrown: Error | undefined, task: AnyTask | undefined, progress: Progress | undefined, tags: readonly string[] | undefined): void {
    const decision = decideAttempt(execution, result, thrown, backoffPolicyOf(task, execution.run.backoff), this.#engine.now(), this.#host.workerId)
    const trace = execution.trace
    if (trace !== undefined) {
      const outcome = decision.status === 'lost' ? 'lost' : decision.outcome
      // A RetryLaterError's attempt did not fail: it asked to be tried later.
      trace.end(outcome, decision.error ?? result.error, outcome === 'failed' || (outcome === 'retry' && decision.refund !== true))
    }
    void this.#complete(execution, decision, progress, tags)
  }

  /** Frees an execution's slot and refills it from the local buffer at once. */
  #retire(execution: Execution): void {
    clearTimeout(execution.stateTimer)
    this.#byId.delete(execution.run.id)
    if (!execution.waiting) this.#busy--
    this.#host.count(execution.run, -1)
    this.#host.startLocal()
    this.#host.saveRowSoon()
    if (this.#byId.size === 0) for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #complete(execution: Execution, decision: AttemptDecision, progress?: Progress, tags?: readonly string[]): Promise<void> {
    const { run, token } = execution
    this.#host.finished()
    // Refill the slot from the local buffer now, before the write is even flushed.
    this.#retire(execution)
    try {
      if (decision.status === 'lost') return
      const attempt: Attempt = {
        number: run.attempt,
        workerId: this.#host.workerId,
        startedAt: new Date(execution.startedAt),
        finishedAt: new Date(decision.finishedAt),
        outcome: decision.outcome,
        error: decision.error,
      }
      const completion: Completion = {
        id: run.id,
        token,
        status: decision.status,
        finishedAt: decision.finishedAt,
        ...(decision.runAt === undefined ? {} : { runAt: decision.runAt }),
        ...(decision.data === undefined ? {} : { data: decision.data }),
        error: decision.error,
        progress: progress ?? execution.progress ?? null,
        tags: tags ?? execution.tags,
        attempt,
        ...(decision.refund === true ? { refundAttempt: true } : {}),
      }
      const fenced = await this.#buffer.complete(completion)
      if (!fenced) this.#emitCompletion(run, completion)
    } catch (error) {
      this.#engine.onError(coerceError(error))
    } finally {
      this.#host.wake()
    }
  }

  #emitCompletion(run: ClaimedRun, completion: Completion): void {
    if (!this.#engine.listening()) return
    const time = new Date(completion.finishedAt)
    const base = { runId: run.id, task: run.task, poolId: run.poolId, time }
    if (completion.status === 'pending') {
      this.#engine.emit({ ...base, type: 'retrying', attempt: run.attempt, runAt: new Date(completion.runAt ?? completion.finishedAt), error: completion.error })
    } else {
      const durationMs = completion.finishedAt - completion.attempt.startedAt.getTime()
      this.#engine.emit({ ...base, type: completion.status, error: completion.error, attempt: run.attempt, durationMs })
    }
  }
}

/** JSON text of a partial result not stored yet (then marked stored); `undefined` when none waits or it cannot be stored as JSON. */
function takePartial(execution: { partial: Readonly<Record<string, unknown>> | undefined }): string | undefined {
  const partial = execution.partial
  if (partial === undefined) return undefined
  execution.partial = undefined
  return partialJson(partial)
}
