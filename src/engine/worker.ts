/**
 * The worker: the loop in a process that claims durable runs and executes them.
 *
 * - Claims in batches up to its free slots (per-task `maxConcurrent` and per-queue limits
 *   respected), woken at once by the store when runs arrive through this process, else by a
 *   poll timer (runs enqueued by other processes, delayed runs coming due).
 * - Each claimed run holds a lease, renewed by a heartbeat; the heartbeat also brings cancel
 *   requests made by other processes and tells the worker when it lost a lease.
 * - Output (logs, progress, completions) goes through a group-commit buffer; every write is
 *   fenced by the run's lease token.
 * - A handler waiting on a pool lends its slot out; the run shows `waiting`.
 * - `stop()` stops claiming, lets handlers finish within the grace period, then aborts them and
 *   puts their runs back to `pending` without spending an attempt.
 */
import { hostname } from 'node:os'
import { CancelledError, RetryLaterError, UnrecoverableError, ValidationError, coerceError } from '../errors.js'
import { backoffDelay, DEFAULT_BACKOFF } from '../task/backoff.js'
import type { LogEntry, Progress, RunError, RunResult } from '../task/context.js'
import type { AnyTask } from '../task/define.js'
import { parseArgs } from '../task/fields.js'
import type { TaskRegistry } from '../task/registry.js'
import type { Attempt, ClaimRequest, ClaimedRun, Completion, Run, Store } from '../store/types.js'
import type { RunEvent } from './events.js'
import { ActiveRun, toRunError, type LogLimits, type PoolOpener, type RunSink } from './execute.js'
import { newId } from './ids.js'
import { WriteBuffer } from './write-buffer.js'

/** Per-queue limits: a map of queue name → concurrency, or a list of queue names (no per-queue limit). */
export type QueueSelection = Readonly<Record<string, number>> | readonly string[]

/** Options of `engine.start`. */
export interface WorkerOptions {
  /** How many runs execute at once in this process. Default: 10. */
  readonly concurrency?: number
  /** Serve only these queues (with optional per-queue limits). Default: every queue. */
  readonly queues?: QueueSelection
  /** How often to look for runs when nothing woke the worker, in ms. Default: the engine's `pollIntervalMs`. */
  readonly pollIntervalMs?: number
}

/** The engine services a worker uses. */
export interface WorkerEngine {
  readonly store: Store
  readonly registry: TaskRegistry
  now(): number
  /** Emits an event to subscribers (checks at call time whether anyone listens). */
  emit(event: RunEvent): void
  onError(error: Error): void
  readonly leaseMs: number
  readonly heartbeatMs: number
  readonly maintenanceMs: number
  readonly progressIntervalMs: number
  readonly hookTimeoutMs: number
  readonly logLimits: LogLimits
  readonly maxArtifactBytes: number
  readonly openPool: PoolOpener
}

/** Thrown into a handler's signal when the worker shuts down. */
export class ShutdownError extends CancelledError {
  constructor() {
    super('worker shutting down')
  }
}

/** Thrown into a handler's signal when its lease was lost (the run was taken over). */
export class LeaseLostError extends CancelledError {
  constructor() {
    super('lease lost: the run was rescued, retried or deleted elsewhere')
  }
}

interface Execution {
  readonly run: Run
  readonly token: string
  readonly task: AnyTask
  readonly controller: AbortController
  readonly active: ActiveRun
  readonly startedAt: number
  waiting: boolean
  lost: boolean
  stopping: boolean
  progress: Progress | undefined
  tags: readonly string[]
  lastStateWrite: number
  stateTimer: NodeJS.Timeout | undefined
  readonly done: Promise<void>
}

export class Worker {
  /** `host:pid:random` */
  readonly id: string
  readonly #engine: WorkerEngine
  readonly #concurrency: number
  readonly #queueLimits: ReadonlyMap<string, number>
  readonly #queues: readonly string[] | undefined
  readonly #pollIntervalMs: number
  readonly #buffer: WriteBuffer
  readonly #executions = new Map<string, Execution>()
  readonly #taskRunning = new Map<string, number>()
  readonly #queueRunning = new Map<string, number>()
  readonly #startedAt: number
  #busy = 0
  #claiming = false
  #again = false
  #stopping = false
  #stopped = false
  #timers: NodeJS.Timeout[] = []
  #unsubscribe: (() => void) | undefined
  #idle: (() => void)[] = []

  constructor(engine: WorkerEngine, concurrency: number, queues: QueueSelection | undefined, pollIntervalMs: number) {
    this.#engine = engine
    this.id = `${hostname()}:${process.pid}:${newId().slice(-8)}`
    this.#concurrency = concurrency
    if (queues === undefined) {
      this.#queues = undefined
      this.#queueLimits = new Map()
    } else if (Array.isArray(queues)) {
      this.#queues = [...(queues as readonly string[])]
      this.#queueLimits = new Map()
    } else {
      const limits = queues as Readonly<Record<string, number>>
      this.#queues = Object.keys(limits)
      this.#queueLimits = new Map(Object.entries(limits).filter(([, limit]) => limit > 0))
    }
    this.#pollIntervalMs = pollIntervalMs
    this.#buffer = new WriteBuffer(engine.store, (error) => engine.onError(error))
    this.#startedAt = engine.now()
  }

  /** Slots in use (waiting runs lend theirs out). */
  get busy(): number {
    return this.#busy
  }

  get concurrency(): number {
    return this.#concurrency
  }

  /** Ids of the runs executing here. */
  runningIds(): string[] {
    return [...this.#executions.keys()]
  }

  /** Whether this worker executes the run now. */
  has(runId: string): boolean {
    return this.#executions.has(runId)
  }

  async start(): Promise<void> {
    await this.#saveWorker()
    this.#unsubscribe = this.#engine.store.onRunsAvailable(() => this.wake())
    this.#timers.push(setInterval(() => this.wake(), this.#pollIntervalMs))
    this.#timers.push(setInterval(() => void this.#heartbeat(), this.#engine.heartbeatMs))
    this.#timers.push(setInterval(() => void this.maintain(), this.#engine.maintenanceMs))
    for (const timer of this.#timers) timer.unref()
    await this.maintain()
    this.wake()
  }

  /** Looks for runs now. */
  wake(): void {
    void this.#fill()
  }

  /** Aborts a run executing here (a local cancel). */
  abort(runId: string, reason: Error): void {
    this.#executions.get(runId)?.controller.abort(reason)
  }

  /** Stops claiming; waits up to `graceMs` for handlers, then aborts them and returns their runs to pending. */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopped) return
    this.#stopping = true
    this.#unsubscribe?.()
    // Keep renewing leases while handlers finish; stop polling and maintenance.
    for (const timer of this.#timers.splice(0)) clearInterval(timer)
    const heartbeat = setInterval(() => void this.#heartbeat(), this.#engine.heartbeatMs)
    heartbeat.unref()
    try {
      if (this.#executions.size > 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([this.#allDone(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
        clearTimeout(timer)
      }
      for (const execution of this.#executions.values()) {
        execution.stopping = true
        execution.controller.abort(new ShutdownError())
      }
      await this.#allDone()
      await this.#buffer.drain()
    } finally {
      clearInterval(heartbeat)
      this.#stopped = true
      await this.#engine.store.removeWorker(this.id).catch((error: unknown) => this.#engine.onError(coerceError(error)))
    }
  }

  #allDone(): Promise<void> {
    if (this.#executions.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  async #fill(): Promise<void> {
    if (this.#stopping) return
    if (this.#claiming) {
      this.#again = true
      return
    }
    this.#claiming = true
    try {
      do {
        this.#again = false
        const free = this.#concurrency - this.#busy
        if (free <= 0) break
        const request = this.#claimRequest(free)
        if (request === undefined) break
        const claimed = await this.#engine.store.claimRuns(request)
        for (const c of claimed) this.#begin(c)
        // A full batch means more may be waiting.
        if (claimed.length > 0 && claimed.length === free) this.#again = true
      } while (this.#again && !this.#stopping)
    } catch (error) {
      this.#engine.onError(new Error(`claiming runs failed: ${coerceError(error).message}`, { cause: error }))
    } finally {
      this.#claiming = false
    }
  }

  #claimRequest(free: number): ClaimRequest | undefined {
    const tasks: string[] = []
    const taskCaps = new Map<string, number>()
    for (const task of this.#engine.registry.list()) {
      if (task.maxConcurrent === undefined) {
        tasks.push(task.key)
        continue
      }
      const limit = task.maxConcurrent === 0 ? Number.MAX_SAFE_INTEGER : task.maxConcurrent === -1 ? 128 : task.maxConcurrent
      const left = limit - (this.#taskRunning.get(task.key) ?? 0)
      if (left <= 0) continue
      tasks.push(task.key)
      if (left < free) taskCaps.set(task.key, left)
    }
    if (tasks.length === 0) return undefined
    let queues = this.#queues
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
    const now = this.#engine.now()
    return { workerId: this.id, limit: free, now, leaseUntil: now + this.#engine.leaseMs, tasks, queues, taskCaps, queueCaps }
  }

  #begin(claimed: ClaimedRun): void {
    const { run, token } = claimed
    const task = this.#engine.registry.get(run.task)
    const controller = new AbortController()
    let resolveDone!: () => void
    const done = new Promise<void>((resolve) => (resolveDone = resolve))
    const execution = { run, token, task, controller, waiting: false, lost: false, stopping: false, progress: run.progress ?? undefined, tags: run.tags, lastStateWrite: 0, stateTimer: undefined, done, startedAt: this.#engine.now() } as Omit<Execution, 'active'> & {
      active: ActiveRun
    }
    this.#busy++
    this.#count(run, 1)
    this.#executions.set(run.id, execution)
    let args: Record<string, unknown> | undefined
    let invalid: Error | undefined
    if (task === undefined) invalid = new UnrecoverableError(`task "${run.task}" is not registered in this process`)
    else {
      try {
        // Stored arguments may come from older code: validate them again before running.
        args = parseArgs(task.fields, run.args)
      } catch (error) {
        invalid = new UnrecoverableError(`stored arguments no longer match the task's fields: ${coerceError(error).message}`, { cause: error })
      }
    }
    if (task === undefined || args === undefined) {
      this.#finishInvalid(execution, invalid ?? new UnrecoverableError('invalid run'), resolveDone)
      return
    }
    const active = new ActiveRun(
      {
        task,
        label: run.label,
        attempt: run.attempt,
        tags: run.tags,
        timeoutMs: run.timeoutMs ?? task.timeoutMs,
        signal: controller.signal,
        hookTimeoutMs: this.#engine.hookTimeoutMs,
        logLimits: this.#engine.logLimits,
        emit: (event) => this.#engine.emit(event),
        emitFinal: false,
        retainLogs: false,
        logSeqStart: run.logCount,
        sink: this.#sink(execution),
        poolId: run.poolId,
        durable: true,
        maxArtifactBytes: this.#engine.maxArtifactBytes,
        openPool: this.#engine.openPool,
      },
      run.id,
      args,
    )
    execution.active = active
    void active.execute().then((result) => this.#finish(execution, result, resolveDone))
  }

  #sink(execution: Omit<Execution, 'active'>): RunSink {
    const { run, token } = execution
    return {
      log: (entry: LogEntry) => {
        this.#buffer.log({ runId: run.id, token, seq: entry.seq, time: entry.time.getTime(), level: entry.level, message: entry.message })
      },
      state: (progress, tags) => {
        execution.progress = progress
        execution.tags = tags
        this.#writeStateThrottled(execution)
      },
      artifact: async (name, data, contentType) => {
        await this.#engine.store.putArtifact({ runId: run.id, name, contentType, data, now: this.#engine.now() })
      },
      waiting: (waiting) => {
        if (execution.waiting === waiting || !this.#executions.has(run.id)) return
        execution.waiting = waiting
        // A waiting run lends its slot out; resuming takes it back even if that oversubscribes
        // for a while (the handler never stopped; only the accounting did).
        this.#busy += waiting ? -1 : 1
        this.#buffer.wait({ id: run.id, token, waiting })
        this.#engine.emit({ type: waiting ? 'waiting' : 'resumed', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(this.#engine.now()) })
        if (waiting) this.wake()
      },
    }
  }

  /** Progress and tags reach subscribers at once; the store gets at most one write per interval per run. */
  #writeStateThrottled(execution: Omit<Execution, 'active'>): void {
    const now = this.#engine.now()
    const wait = execution.lastStateWrite + this.#engine.progressIntervalMs - now
    if (wait <= 0) {
      this.#writeState(execution, now)
    } else if (execution.stateTimer === undefined) {
      execution.stateTimer = setTimeout(() => this.#writeState(execution, this.#engine.now()), wait)
      execution.stateTimer.unref()
    }
  }

  #writeState(execution: Omit<Execution, 'active'>, now: number): void {
    clearTimeout(execution.stateTimer)
    execution.stateTimer = undefined
    if (!this.#executions.has(execution.run.id) || execution.progress === undefined) {
      if (execution.progress === undefined && execution.tags !== execution.run.tags) {
        this.#buffer.progress({ id: execution.run.id, token: execution.token, progress: {}, tags: execution.tags })
      }
      return
    }
    execution.lastStateWrite = now
    this.#buffer.progress({ id: execution.run.id, token: execution.token, progress: execution.progress, tags: execution.tags })
  }

  #finishInvalid(execution: Omit<Execution, 'active'>, error: Error, resolveDone: () => void): void {
    const now = this.#engine.now()
    const runError = toRunError(error)
    void this.#complete(execution, {
      status: 'failed',
      error: runError,
      data: undefined,
      finishedAt: now,
      outcome: 'failed',
    }).finally(resolveDone)
  }

  #finish(execution: Execution, result: RunResult, resolveDone: () => void): void {
    const { run } = execution
    const thrown = execution.active.thrown
    const now = this.#engine.now()
    let decision: Decision
    if (execution.lost) {
      decision = { status: 'lost', error: result.error ?? null, data: undefined, finishedAt: now, outcome: 'interrupted' }
    } else if (execution.stopping && result.status !== 'succeeded') {
      // Shut down mid-run: back to pending, and the attempt does not count.
      decision = { status: 'pending', runAt: now, refund: true, error: toRunError(new ShutdownError()), data: undefined, finishedAt: now, outcome: 'interrupted' }
    } else if (result.status === 'succeeded') {
      let data: string | undefined
      try {
        data = JSON.stringify(result.data ?? null)
      } catch (error) {
        const err = new UnrecoverableError(`the handler's result cannot be stored as JSON: ${coerceError(error).message}`)
        decision = { status: 'failed', error: toRunError(err), data: undefined, finishedAt: now, outcome: 'failed' }
      }
      decision ??= { status: 'succeeded', error: null, data, finishedAt: now, outcome: 'succeeded' }
    } else if (result.status === 'cancelled') {
      decision = { status: 'cancelled', error: result.error ?? null, data: undefined, finishedAt: now, outcome: 'cancelled' }
    } else {
      decision = this.#afterFailure(run, execution.task, thrown, result.error ?? null, now)
    }
    void this.#complete(execution, decision, result.progress, result.tags).finally(resolveDone)
  }

  /** A failed attempt: retry later (with backoff, or when asked), or fail for good. */
  #afterFailure(run: Run, task: AnyTask, thrown: Error | undefined, error: RunError | null, now: number): Decision {
    const base = { error, data: undefined, finishedAt: now }
    if (thrown instanceof RetryLaterError) return { ...base, status: 'pending', runAt: now + thrown.delayMs, refund: true, outcome: 'retry' }
    if (thrown instanceof UnrecoverableError || thrown instanceof ValidationError) return { ...base, status: 'failed', outcome: 'failed' }
    const used = run.attempt - run.attemptBase
    if (used >= run.maxAttempts) return { ...base, status: 'failed', outcome: 'failed' }
    const policy = typeof task.backoff === 'function' ? task.backoff : (run.backoff ?? DEFAULT_BACKOFF)
    const delay = backoffDelay(policy, run.attempt, error ?? { message: 'failed', code: 'ERR_HANDLER', name: 'Error' })
    return { ...base, status: 'pending', runAt: now + delay, outcome: 'retry' }
  }

  async #complete(execution: Omit<Execution, 'active'>, decision: Decision, progress?: Progress, tags?: readonly string[]): Promise<void> {
    const { run, token } = execution
    clearTimeout(execution.stateTimer)
    this.#executions.delete(run.id)
    if (!execution.waiting) this.#busy--
    this.#count(run, -1)
    if (this.#executions.size === 0) for (const resolve of this.#idle.splice(0)) resolve()
    try {
      if (decision.status === 'lost') return
      const attempt: Attempt = {
        number: run.attempt,
        workerId: this.id,
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
      this.wake()
    }
  }

  #emitCompletion(run: Run, completion: Completion): void {
    const time = new Date(completion.finishedAt)
    const base = { runId: run.id, task: run.task, poolId: run.poolId, time }
    if (completion.status === 'pending') {
      this.#engine.emit({ ...base, type: 'retrying', attempt: run.attempt, runAt: new Date(completion.runAt ?? completion.finishedAt), error: completion.error })
      return
    }
    const finished: Run = {
      ...run,
      status: completion.status,
      finishedAt: time,
      updatedAt: time,
      data: completion.data === undefined ? null : (JSON.parse(completion.data) as unknown),
      error: completion.error,
      progress: completion.progress,
      tags: completion.tags,
      attempts: [...run.attempts, completion.attempt],
      workerId: null,
      leaseExpiresAt: null,
    }
    this.#engine.emit({ ...base, type: completion.status, error: completion.error, run: finished })
  }

  #count(run: Run, delta: number): void {
    this.#taskRunning.set(run.task, (this.#taskRunning.get(run.task) ?? 0) + delta)
    this.#queueRunning.set(run.queue, (this.#queueRunning.get(run.queue) ?? 0) + delta)
  }

  async #heartbeat(): Promise<void> {
    try {
      const leases = [...this.#executions.values()].map((e) => ({ id: e.run.id, token: e.token }))
      const now = this.#engine.now()
      const outcome = await this.#engine.store.renewLeases(this.id, leases, now + this.#engine.leaseMs)
      for (const { id, reason } of outcome.cancelRequested) {
        this.#executions.get(id)?.controller.abort(new CancelledError(reason === null || reason === '' ? 'cancelled' : `cancelled: ${reason}`))
      }
      for (const id of outcome.lost) {
        const execution = this.#executions.get(id)
        if (execution === undefined) continue
        execution.lost = true
        execution.controller.abort(new LeaseLostError())
      }
      await this.#saveWorker()
    } catch (error) {
      this.#engine.onError(new Error(`heartbeat failed: ${coerceError(error).message}`, { cause: error }))
    }
  }

  async #saveWorker(): Promise<void> {
    const now = this.#engine.now()
    await this.#engine.store.saveWorker({
      id: this.id,
      host: hostname(),
      pid: process.pid,
      concurrency: this.#concurrency,
      busy: this.#busy,
      queues: this.#queues === undefined ? null : [...this.#queues],
      tasks: this.#engine.registry.list().map((t) => t.key),
      running: this.runningIds(),
      startedAt: this.#startedAt,
      heartbeatAt: now,
    })
  }

  /** Rescues runs whose worker died and expires runs past `notAfter`; emits their events. */
  async maintain(): Promise<void> {
    try {
      const now = this.#engine.now()
      const rescued = await this.#engine.store.rescueExpired(now)
      const expired = await this.#engine.store.expireOverdue(now)
      for (const run of [...rescued, ...expired]) {
        const base = { runId: run.id, task: run.task, poolId: run.poolId, time: new Date(now) }
        if (run.status === 'pending') this.#engine.emit({ ...base, type: 'retrying', attempt: run.attempt, runAt: run.runAt, error: run.error })
        else if (run.status === 'failed' || run.status === 'cancelled') this.#engine.emit({ ...base, type: run.status, error: run.error, run })
      }
      if (rescued.some((r) => r.status === 'pending')) this.wake()
    } catch (error) {
      this.#engine.onError(new Error(`maintenance failed: ${coerceError(error).message}`, { cause: error }))
    }
  }
}

interface Decision {
  readonly status: 'pending' | 'succeeded' | 'failed' | 'cancelled' | 'lost'
  readonly runAt?: number
  readonly refund?: boolean
  readonly error: RunError | null
  readonly data: string | undefined
  readonly finishedAt: number
  readonly outcome: Attempt['outcome']
}
