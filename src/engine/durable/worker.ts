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
 * - `stop()` stops claiming, lets handlers finish within the grace period, then aborts them: their
 *   runs go back to `pending` at once while attempts are left (the interrupted attempt counts).
 * - At most once per attempt: a handler is called only while the store records its attempt as
 *   started — by the claim itself for runs with attempts left, or by a start the worker stores
 *   first for a run on its last attempt. A run held in the local buffer has that start taken
 *   back (a hold write), so a run that never reached its handler goes back unspent, whether the
 *   worker gives it back or dies holding it.
 */
import { hostname } from 'node:os'
import { CancelledError, LeaseLostError, RetryLaterError, ShutdownError, UnrecoverableError, ValidationError, coerceError } from '../../errors.js'
import { backoffDelay, DEFAULT_BACKOFF } from '../../task/backoff.js'
import type { LogEntry, Progress, RunError, RunResult } from '../../task/context.js'
import { concurrencyOf, type AnyTask } from '../../task/define.js'
import { parseArgs } from '../../task/fields.js'
import type { TaskRegistry } from '../../task/registry.js'
import { attemptsLeftAfter, type Attempt, type ClaimRequest, type ClaimedRun, type Completion, type Store, type WorkerInfo } from '../../store/types.js'
import type { RunEvent } from '../events/run-events.js'
import { ActiveRun, toRunError, type LogLimits, type PoolOpener, type RunSink } from '../execute/active-run.js'
import { newId } from '../ids.js'
import { rescueExpiredRuns } from './rescuer.js'
import type { LogBackend } from '../settings/log-backends.js'
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
  /**
   * At most this many runs claimed ahead of free slots and held locally, so a finishing run is
   * replaced at once without waiting on the store. The worker only claims ahead as many runs
   * as it finished in the last ~50 ms (so long tasks are never hoarded away from other
   * workers), and gives back any it could not start within a second. They hold leases (shown
   * `running`, without a start time) until they start; a stop returns them to pending unspent,
   * and so does the rescue when the worker dies before starting them. Default: the
   * concurrency, at least 100; `0` turns prefetching off.
   */
  readonly prefetch?: number
  /** Fire the engine's cron schedules from this process. Default: `true`. */
  readonly schedules?: boolean
  /**
   * Keep the process alive while the worker runs, even when the queue is empty: a started worker
   * is a service, and a process that exited when idle would leave its runs to no one. `stop()`
   * and `close()` let the process exit again. `false` leaves the process's lifetime to the rest
   * of the program (the worker then runs only while something else keeps the process up).
   * Default: `true`.
   *
   * @example
   * await engine.start({ keepAlive: false }) // a script that exits when its own work is done
   */
  readonly keepAlive?: boolean
}

/** The engine services a worker uses. */
export interface WorkerEngine {
  readonly store: Store
  readonly registry: TaskRegistry
  now(): number
  /** Emits an event to subscribers. */
  emit(event: RunEvent): void
  /** Whether anyone listens (events are not built otherwise). */
  listening(): boolean
  /** Whether this process also serves live views (it says so in its worker row). */
  observing(): boolean
  /** Learns, at each heartbeat, the live processes sharing the store (to decide whether to share events). */
  peers(workers: readonly WorkerInfo[]): void
  /** Where log lines go now: `undefined` for the store, else a registered backend. */
  logBackend(): LogBackend | undefined
  /** Re-reads shared settings (at each heartbeat). */
  refreshSettings(): Promise<void>
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

/** The worker's side of every execution's sink. */
interface SinkHost {
  log(execution: Execution, entry: LogEntry): void
  state(execution: Execution, progress: Progress | undefined, tags: readonly string[]): void
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
  artifact(name: string, data: Buffer, contentType: string): Promise<void> {
    return this.#host.artifact(this.#execution, name, data, contentType)
  }
  waiting(waiting: boolean): void {
    this.#host.waiting(this.#execution, waiting)
  }
}

interface Execution {
  readonly run: ClaimedRun
  readonly token: string
  readonly task: AnyTask | undefined
  /** Set when the handler is called: at once, or once the run's start is stored (see `#begin`). */
  active: ActiveRun | undefined
  /** A cancel that arrived while the run's start was being stored: the handler is never called. */
  abortBeforeStart: Error | undefined
  readonly startedAt: number
  waiting: boolean
  lost: boolean
  stopping: boolean
  progress: Progress | undefined
  tags: readonly string[]
  lastStateWrite: number
  stateTimer: NodeJS.Timeout | undefined
}

/** The error of an attempt this worker's stop interrupted once the grace period was over. */
function workerStoppedError(workerId: string): RunError {
  return { message: `worker stopped: ${workerId} shut down during this attempt (its grace period ran out)`, code: 'ERR_SHUTDOWN', name: 'WorkerStoppedError' }
}

/** Prefetch sizing looks at completions over windows of this length. */
const RATE_WINDOW_MS = 50
/** Runs held ahead longer than this are given back. */
const LOCAL_TTL_MS = 1000
/**
 * A run held ahead this long has the start its claim counted taken back (a hold write), so that
 * it goes back unspent if the worker dies before starting it. Runs started sooner (the usual
 * case: the buffer holds about 50 ms of work) never need that write, nor a stored start before
 * their handler: holding every run would put a store round trip in front of each of them.
 */
const HOLD_AFTER_MS = 100

export class Worker {
  /** `host:pid:random` */
  readonly id: string
  readonly #engine: WorkerEngine
  #concurrency: number
  /** The concurrency the worker was started with (the setting may override it). */
  readonly #startConcurrency: number
  readonly #queueLimits: ReadonlyMap<string, number>
  readonly #queues: readonly string[] | undefined
  readonly #pollIntervalMs: number
  readonly #buffer: WriteBuffer
  readonly #executions = new Map<string, Execution>()
  readonly #taskRunning = new Map<string, number>()
  readonly #queueRunning = new Map<string, number>()
  readonly #startedAt: number
  #busy = 0
  readonly #prefetch: number
  /** Claimed runs waiting for a slot (see `prefetch`), with when they were claimed. */
  #local: ClaimedRun[] = []
  #localSince = new Map<string, number>()
  /** Runs held in `#local` whose claim recorded a start, taken back by a queued hold write. */
  readonly #held = new Set<string>()
  /** Set while counted runs wait in `#local` without a hold: it holds them once HOLD_AFTER_MS passed. */
  #holdTimer: NodeJS.Timeout | undefined
  /** Completions in the current and the previous rate window (for prefetch sizing). */
  #rateWindowStart = 0
  #rateNow = 0
  #ratePrevious = 0
  #claiming = false
  readonly #parallelWrites: number
  /** Runs asked for by claims riding on write batches, not answered yet. */
  #requested = 0
  /** Claims that failed in a row (store unreachable), and when to try again. */
  #claimFailures = 0
  #claimPausedUntil = 0
  #again = false
  #stopping = false
  #stopped = false
  #timers: NodeJS.Timeout[] = []
  /** A pending save of this worker's row (busy slots, running runs), at most one per second. */
  #saveTimer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined
  #idle: (() => void)[] = []

  constructor(engine: WorkerEngine, concurrency: number, queues: QueueSelection | undefined, pollIntervalMs: number, prefetch = Math.max(concurrency, 100)) {
    this.#engine = engine
    this.#prefetch = prefetch
    this.id = `${hostname()}:${process.pid}:${newId().slice(-8)}`
    this.#concurrency = concurrency
    this.#startConcurrency = concurrency
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
    this.#parallelWrites = Math.max(1, engine.store.parallelWrites ?? 1)
    this.#buffer = new WriteBuffer(
      engine.store,
      (error) => engine.onError(error),
      {
        request: () => {
          // A claim of its own may be on the way (#fill); claims riding on batches may overlap.
          if (this.#stopping || this.#claiming) return undefined
          // With batches in parallel, each claims its share of the capacity: the runs then finish
          // in waves that ride on different batches, and the store works on several at once.
          const share = Math.ceil((this.#concurrency + this.#aheadLimit()) / this.#parallelWrites)
          const want = Math.min(share, this.#wanted() - this.#requested)
          const request = want > 0 ? this.#claimRequest(want) : undefined
          if (request === undefined) return undefined
          // Limits are counted from the runs held here: with a claim still out, they could be exceeded.
          if (this.#requested > 0 && (request.taskCaps.size > 0 || request.queueCaps.size > 0)) return undefined
          this.#requested += request.limit
          return request
        },
        claimed: (runs, request) => {
          this.#requested -= request.limit
          this.#accept(runs)
          if (runs.length === request.limit || this.#again) this.wake()
        },
        failed: (request) => {
          this.#requested -= request.limit
        },
      },
      this.#parallelWrites,
    )
    this.#startedAt = engine.now()
  }

  /** Slots in use (waiting runs lend theirs out). */
  get busy(): number {
    return this.#busy
  }

  get concurrency(): number {
    return this.#concurrency
  }

  /** Ids of the runs this worker holds: executing, then claimed ahead. */
  runningIds(): string[] {
    return [...this.#executions.keys(), ...this.#local.map((r) => r.id)]
  }

  /** Whether this worker holds the run now. */
  has(runId: string): boolean {
    return this.#executions.has(runId) || this.#local.some((r) => r.id === runId)
  }

  /** Starts claiming; `keepAlive` holds the process open until {@link stop} (see {@link WorkerOptions.keepAlive}). */
  async start(keepAlive = true): Promise<void> {
    await this.#saveWorker()
    const unsubscribeWake = this.#engine.store.onRunsAvailable(() => this.wake())
    // Cancels requested in other processes arrive at once where the store can push them.
    const unsubscribeCancel = this.#engine.store.onSignal?.('cancel', (message) => {
      if (message.type === 'cancel') for (const id of message.ids) this.abort(id, new CancelledError(message.reason === '' ? 'cancelled' : `cancelled: ${message.reason}`))
    })
    // A live view that opens elsewhere gets this worker's events from then on, not from the next heartbeat.
    const unsubscribeObserving = this.#engine.store.onSignal?.('observing', () => void this.#lookForObservers())
    // Settings changed elsewhere apply at once (else at the next heartbeat).
    const unsubscribeSettings = this.#engine.store.onSignal?.('settings', () => {
      this.#engine.refreshSettings().catch((error: unknown) => this.#engine.onError(coerceError(error)))
    })
    this.#unsubscribe = () => {
      unsubscribeWake()
      unsubscribeCancel?.()
      unsubscribeObserving?.()
      unsubscribeSettings?.()
    }
    await this.#lookForObservers()
    const poll = setInterval(() => {
      this.#expireLocal()
      this.wake()
    }, this.#pollIntervalMs)
    const heartbeat = setInterval(() => void this.#heartbeat(), this.#engine.heartbeatMs)
    const maintenance = setInterval(() => void this.maintain(), this.#engine.maintenanceMs)
    // The poll timer alone holds the process open (when asked to); the others never do.
    if (!keepAlive) poll.unref()
    heartbeat.unref()
    maintenance.unref()
    this.#timers.push(poll, heartbeat, maintenance)
    await this.maintain()
    this.wake()
  }

  /** Looks for runs now. */
  wake(): void {
    void this.#fill()
  }

  /** Aborts a run held here (a local cancel): an executing one through its signal, a claimed-ahead one at once. */
  abort(runId: string, reason: Error): void {
    const execution = this.#executions.get(runId)
    if (execution !== undefined) {
      if (execution.active === undefined) execution.abortBeforeStart ??= reason
      else execution.active.abort(reason)
      return
    }
    const ahead = this.#takeLocal(runId)
    if (ahead !== undefined) this.#releaseUnstarted(ahead, 'cancelled', reason)
  }

  /**
   * Stops claiming; waits up to `graceMs` for handlers, then aborts them: their runs go back to
   * pending (or fail, on their last attempt). Runs that never started go back unspent.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopped) return
    this.#stopping = true
    this.#unsubscribe?.()
    // Runs claimed ahead never started: back to pending at once, unspent, for other workers.
    clearTimeout(this.#holdTimer)
    this.#holdTimer = undefined
    for (const run of this.#local.splice(0)) this.#releaseUnstarted(run, 'pending', null)
    this.#localSince.clear()
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
        execution.active?.abort(new ShutdownError('worker shutting down'))
      }
      await this.#allDone()
      await this.#buffer.drain()
    } finally {
      clearInterval(heartbeat)
      clearTimeout(this.#saveTimer)
      this.#stopped = true
      await this.#engine.store.removeWorker(this.id).catch((error: unknown) => this.#engine.onError(coerceError(error)))
    }
  }

  #allDone(): Promise<void> {
    if (this.#executions.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  async #fill(): Promise<void> {
    if (this.#stopping || (this.#claimFailures > 0 && this.#engine.now() < this.#claimPausedUntil)) return
    if (this.#claiming) {
      this.#again = true
      return
    }
    this.#claiming = true
    try {
      do {
        this.#again = false
        // Claims riding on write batches may be out: claim what they do not cover (runs just
        // announced must not wait for them), unless limits are counted (see the batch claimer).
        const want = Math.min(this.#wanted() - this.#requested, Math.ceil((this.#concurrency + this.#aheadLimit()) / this.#parallelWrites))
        if (want <= 0) {
          if (this.#requested > 0) this.#again = true
          break
        }
        const request = this.#claimRequest(want)
        if (request === undefined) break
        if (this.#requested > 0 && (request.taskCaps.size > 0 || request.queueCaps.size > 0)) {
          this.#again = true
          break
        }
        const claimed = await this.#engine.store.claimRuns(request)
        this.#claimFailures = 0
        this.#accept(claimed)
        // A full batch means more may be waiting.
        if (claimed.length > 0 && claimed.length === want) this.#again = true
      } while (this.#again && !this.#stopping)
    } catch (error) {
      // The store is unreachable or failing: back off (up to 5 s) instead of hammering it.
      this.#claimFailures++
      const pauseMs = Math.min(5000, 100 * 2 ** Math.min(this.#claimFailures - 1, 6))
      this.#claimPausedUntil = this.#engine.now() + pauseMs
      this.#engine.onError(new Error(`claiming runs failed (${this.#claimFailures} in a row; next try in ${pauseMs} ms): ${coerceError(error).message}`, { cause: error }))
    } finally {
      this.#claiming = false
    }
  }

  /** How many runs to claim: the free slots plus room in the local buffer. */
  #wanted(): number {
    const free = Math.max(0, this.#concurrency - this.#busy)
    return free + Math.max(0, this.#aheadLimit() - this.#local.length)
  }

  /** How many runs to hold ahead: as many as finished in the last rate window, up to `prefetch`. */
  #aheadLimit(): number {
    if (this.#prefetch === 0) return 0
    this.#rollRate(this.#engine.now())
    return Math.min(this.#prefetch, this.#rateNow + this.#ratePrevious)
  }

  #rollRate(now: number): void {
    if (now - this.#rateWindowStart < RATE_WINDOW_MS) return
    this.#ratePrevious = now - this.#rateWindowStart < 2 * RATE_WINDOW_MS ? this.#rateNow : 0
    this.#rateNow = 0
    this.#rateWindowStart = now
  }

  /** Gives back runs held ahead too long (the rate dropped: they would wait for a slot here while another worker idles). */
  #expireLocal(): void {
    if (this.#local.length === 0) return
    const cutoff = this.#engine.now() - LOCAL_TTL_MS
    for (const run of [...this.#local]) {
      if ((this.#localSince.get(run.id) ?? 0) <= cutoff) {
        this.#takeLocal(run.id)
        this.#releaseUnstarted(run, 'pending', null)
      }
    }
  }

  /** Takes claimed runs: starts them while slots are free, keeps the rest for later. */
  #accept(runs: readonly ClaimedRun[]): void {
    for (const run of runs) {
      this.#count(run, 1)
      if (this.#busy < this.#concurrency && !this.#stopping) this.#begin(run)
      else {
        this.#local.push(run)
        this.#localSince.set(run.id, this.#engine.now())
      }
    }
    // Counted runs that end up waiting here long are held (see HOLD_AFTER_MS).
    this.#watchHolds()
    if (this.#stopping) {
      for (const run of this.#local.splice(0)) this.#releaseUnstarted(run, 'pending', null)
      this.#localSince.clear()
    }
  }

  /** Arms the hold timer for the oldest counted run in the local buffer that is not held yet. */
  #watchHolds(): void {
    if (this.#holdTimer !== undefined || this.#stopping) return
    const oldest = this.#local.find((run) => run.started && !this.#held.has(run.id))
    if (oldest === undefined) return
    const wait = Math.max(0, (this.#localSince.get(oldest.id) ?? 0) + HOLD_AFTER_MS - this.#engine.now())
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = undefined
      this.#holdOverdue()
    }, wait)
    this.#holdTimer.unref()
  }

  /**
   * Takes back the start that claims counted for runs held ahead HOLD_AFTER_MS or longer. One
   * started before its hold leaves cancels it; one started after needs a stored start first.
   */
  #holdOverdue(): void {
    const cutoff = this.#engine.now() - HOLD_AFTER_MS
    // The buffer is in claim order: the first run young enough ends the scan.
    for (const run of this.#local) {
      if (!run.started || this.#held.has(run.id)) continue
      if ((this.#localSince.get(run.id) ?? 0) > cutoff) break
      this.#held.add(run.id)
      this.#buffer.hold({ id: run.id, token: run.token })
    }
    this.#watchHolds()
  }

  /** Starts claimed-ahead runs while slots are free. Limits were counted when they were claimed. */
  #startLocal(): void {
    while (this.#busy < this.#concurrency && this.#local.length > 0 && !this.#stopping) {
      const run = this.#local.shift()!
      this.#localSince.delete(run.id)
      this.#begin(run)
    }
  }

  #takeLocal(runId: string): ClaimedRun | undefined {
    const at = this.#local.findIndex((r) => r.id === runId)
    if (at === -1) return undefined
    this.#localSince.delete(runId)
    return this.#local.splice(at, 1)[0]
  }

  /**
   * Whether the store records this claim's attempt as started now, so its handler may be called
   * at once: its claim said so and no hold of it has left since.
   */
  #startStands(run: ClaimedRun): boolean {
    if (!run.started) return false
    if (!this.#held.delete(run.id)) return true
    return this.#buffer.unhold(run.id)
  }

  /** Gives back a run held in the local buffer: `pending` (unspent, as if never claimed) or `cancelled` (`reason`). */
  #releaseUnstarted(run: ClaimedRun, status: 'pending' | 'cancelled', reason: Error | null): void {
    this.#count(run, -1)
    this.#held.delete(run.id)
    this.#handBack(run, status, reason)
  }

  /** Writes a claimed run back whose handler never ran (see {@link ReleaseWrite}). */
  #handBack(run: ClaimedRun, status: 'pending' | 'cancelled', reason: Error | null): void {
    const now = this.#engine.now()
    const error = status === 'cancelled' && reason !== null ? toRunError(reason) : null
    void this.#buffer
      .release({ id: run.id, token: run.token, status, at: now, error })
      .then((fenced) => {
        if (fenced || status !== 'cancelled' || !this.#engine.listening()) return
        this.#engine.emit({ type: 'cancelled', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(now), error })
      })
      .catch((error: unknown) => this.#engine.onError(coerceError(error)))
  }

  #claimRequest(free: number): ClaimRequest | undefined {
    const tasks: string[] = []
    const taskCaps = new Map<string, number>()
    for (const task of this.#engine.registry.list()) {
      if (task.maxConcurrent === undefined) {
        tasks.push(task.key)
        continue
      }
      const limit = concurrencyOf(task.maxConcurrent)
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

  /**
   * Takes a slot for a claimed run and calls its handler: at once when the store already records
   * the attempt as started, else once a start write is stored (a run on its last attempt, or one
   * whose hold left): a handler is never called while a rescue would take its run for unstarted.
   */
  #begin(run: ClaimedRun): void {
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
      lastStateWrite: 0,
      stateTimer: undefined,
      startedAt: this.#engine.now(),
    }
    this.#busy++
    this.#executions.set(run.id, execution)
    this.#saveWorkerSoon()
    if (this.#startStands(run)) {
      this.#execute(execution)
      return
    }
    this.#buffer
      .start({ id: run.id, token: run.token, startedAt: execution.startedAt })
      .then((fenced) => this.#afterStart(execution, fenced))
      .catch((error: unknown) => {
        // Preparing the handler threw before it ran: free the slot and hand the run back.
        this.#engine.onError(coerceError(error))
        if (this.#executions.get(run.id) !== execution || execution.active !== undefined) return
        this.#retire(execution)
        this.#handBack(run, 'pending', null)
      })
  }

  /** A run's start was stored (or fenced): call its handler, or let go of a run that must not start now. */
  #afterStart(execution: Execution, fenced: boolean): void {
    const { run } = execution
    if (this.#executions.get(run.id) !== execution) return
    if (fenced || execution.lost) {
      // No longer this claim's run (rescued, deleted): nothing more to write.
      this.#retire(execution)
      return
    }
    const reason = execution.abortBeforeStart
    if (reason !== undefined || this.#stopping) {
      // Stored as started, but the handler never ran: hand it back as if never claimed.
      this.#retire(execution)
      this.#handBack(run, reason === undefined ? 'pending' : 'cancelled', reason ?? null)
      return
    }
    this.#execute(execution)
  }

  /** Calls the handler of a run whose attempt the store records as started. */
  #execute(execution: Execution): void {
    const { run, task } = execution
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
      void this.#complete(execution, { status: 'failed', error: toRunError(invalid ?? new UnrecoverableError('invalid run')), data: undefined, finishedAt: this.#engine.now(), outcome: 'failed' })
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
    )
    execution.active = active
    void active.execute().then((result) => this.#finish(execution, active, task, result))
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
    artifact: async (execution, name, data, contentType) => {
      const stored = await this.#engine.store.putArtifact({ runId: execution.run.id, token: execution.token, name, contentType, data, now: this.#engine.now() })
      if (stored) return
      // The run is no longer ours (rescued, retried, deleted): stop the handler, write nothing more.
      const lost = new LeaseLostError()
      if (this.#executions.get(execution.run.id) === execution) {
        execution.lost = true
        execution.active?.abort(lost)
      }
      throw lost
    },
    waiting: (execution, waiting) => {
      const { run, token } = execution
      if (execution.waiting === waiting || !this.#executions.has(run.id)) return
      execution.waiting = waiting
      // A waiting run lends its slot out; resuming takes it back even if that oversubscribes
      // for a while (the handler never stopped; only the accounting did).
      this.#busy += waiting ? -1 : 1
      if (waiting) this.#startLocal()
      this.#buffer.wait({ id: run.id, token, waiting })
      if (this.#engine.listening()) this.#engine.emit({ type: waiting ? 'waiting' : 'resumed', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(this.#engine.now()) })
      if (waiting) this.wake()
    },
  }

  /** Progress and tags reach subscribers at once; the store gets at most one write per interval per run. */
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
    if (!this.#executions.has(execution.run.id) || execution.progress === undefined) {
      if (execution.progress === undefined && execution.tags !== execution.run.tags) {
        this.#buffer.progress({ id: execution.run.id, token: execution.token, progress: {}, tags: execution.tags })
      }
      return
    }
    execution.lastStateWrite = now
    this.#buffer.progress({ id: execution.run.id, token: execution.token, progress: execution.progress, tags: execution.tags })
  }

  #finish(execution: Execution, active: ActiveRun, task: AnyTask, result: RunResult): void {
    const { run } = execution
    const thrown = active.thrown
    const now = this.#engine.now()
    let decision: Decision
    if (execution.lost) {
      decision = { status: 'lost', error: result.error ?? null, data: undefined, finishedAt: now, outcome: 'interrupted' }
    } else if (execution.stopping && result.status !== 'succeeded') {
      // Shut down mid-run: the attempt counts (its handler ran), but the run is not at fault, so
      // it goes back at once while attempts are left.
      const error = workerStoppedError(this.id)
      decision = attemptsLeftAfter(run) ? { status: 'pending', runAt: now, error, data: undefined, finishedAt: now, outcome: 'interrupted' } : { status: 'failed', error, data: undefined, finishedAt: now, outcome: 'failed' }
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
      decision = this.#afterFailure(run, task, thrown, result.error ?? null, now)
    }
    void this.#complete(execution, decision, result.progress, result.tags)
  }

  /** A failed attempt: retry later (with backoff, or when asked), or fail for good. */
  #afterFailure(run: ClaimedRun, task: AnyTask, thrown: Error | undefined, error: RunError | null, now: number): Decision {
    const base = { error, data: undefined, finishedAt: now }
    if (thrown instanceof RetryLaterError) return { ...base, status: 'pending', runAt: now + thrown.delayMs, refund: true, outcome: 'retry' }
    if (thrown instanceof UnrecoverableError || thrown instanceof ValidationError) return { ...base, status: 'failed', outcome: 'failed' }
    if (!attemptsLeftAfter(run)) return { ...base, status: 'failed', outcome: 'failed' }
    const policy = typeof task.backoff === 'function' ? task.backoff : (run.backoff ?? DEFAULT_BACKOFF)
    const delay = backoffDelay(policy, run.attempt, error ?? { message: 'failed', code: 'ERR_HANDLER', name: 'Error' })
    return { ...base, status: 'pending', runAt: now + delay, outcome: 'retry' }
  }

  /** Frees an execution's slot and refills it from the local buffer at once. */
  #retire(execution: Execution): void {
    clearTimeout(execution.stateTimer)
    this.#executions.delete(execution.run.id)
    if (!execution.waiting) this.#busy--
    this.#count(execution.run, -1)
    this.#startLocal()
    this.#saveWorkerSoon()
    if (this.#executions.size === 0) for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #complete(execution: Execution, decision: Decision, progress?: Progress, tags?: readonly string[]): Promise<void> {
    const { run, token } = execution
    this.#rollRate(this.#engine.now())
    this.#rateNow++
    // Refill the slot from the local buffer now, before the write is even flushed.
    this.#retire(execution)
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

  #count(run: ClaimedRun, delta: number): void {
    this.#taskRunning.set(run.task, (this.#taskRunning.get(run.task) ?? 0) + delta)
    this.#queueRunning.set(run.queue, (this.#queueRunning.get(run.queue) ?? 0) + delta)
  }

  /**
   * Changes how many runs execute at once, live: more slots are filled at once; with fewer, runs
   * already executing finish and no new ones start until the count is below the new limit.
   * `null` goes back to the concurrency the worker was started with.
   */
  setConcurrency(concurrency: number | null): void {
    const next = concurrency ?? this.#startConcurrency
    if (!Number.isSafeInteger(next) || next < 1) throw new ValidationError(`concurrency: expected a positive integer, got ${String(concurrency)}`)
    if (next === this.#concurrency) return
    this.#concurrency = next
    if (this.#timers.length === 0) return // not started yet: the new value is simply the one it starts with
    this.#saveWorkerSoon()
    this.#startLocal()
    this.wake()
  }

  async #heartbeat(): Promise<void> {
    // Settings are read beside the lease renewal, never in front of it.
    void this.#engine.refreshSettings().catch((error: unknown) => this.#engine.onError(new Error(`reading settings failed: ${coerceError(error).message}`, { cause: error })))
    try {
      const leases = [...this.#executions.values()].map((e) => ({ id: e.run.id, token: e.token })).concat(this.#local.map((r) => ({ id: r.id, token: r.token })))
      const now = this.#engine.now()
      const outcome = await this.#engine.store.renewLeases(this.id, leases, now + this.#engine.leaseMs)
      for (const { id, reason } of outcome.cancelRequested) this.abort(id, new CancelledError(reason === null || reason === '' ? 'cancelled' : `cancelled: ${reason}`))
      for (const id of outcome.lost) {
        const ahead = this.#takeLocal(id)
        if (ahead !== undefined) {
          this.#count(ahead, -1)
          if (this.#held.delete(id)) this.#buffer.unhold(id)
        }
        const execution = this.#executions.get(id)
        if (execution === undefined) continue
        execution.lost = true
        execution.active?.abort(new LeaseLostError())
      }
      await this.#saveWorker()
      await this.#lookForObservers()
    } catch (error) {
      this.#engine.onError(new Error(`heartbeat failed: ${coerceError(error).message}`, { cause: error }))
    }
  }

  /** Tells the engine which processes sharing the store serve live views (where the store can push events). */
  async #lookForObservers(): Promise<void> {
    if (this.#engine.store.signal === undefined) return
    try {
      this.#engine.peers(await this.#engine.store.listWorkers(this.#engine.now() - this.#engine.heartbeatMs * 3))
    } catch (error) {
      this.#engine.onError(new Error(`listing workers failed: ${coerceError(error).message}`, { cause: error }))
    }
  }

  /** Keeps the worker's row (what it runs now) current for operators, without a write per run. */
  #saveWorkerSoon(): void {
    if (this.#saveTimer !== undefined || this.#stopped) return
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined
      if (!this.#stopped) this.#saveWorker().catch((error: unknown) => this.#engine.onError(coerceError(error)))
    }, 1000)
    this.#saveTimer.unref()
  }

  /** Saves the worker's row now (e.g. when the process starts serving live views). */
  announce(): Promise<void> {
    return this.#stopped ? Promise.resolve() : this.#saveWorker()
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
      observer: this.#engine.observing(),
    })
  }

  /** Rescues runs whose worker died and expires runs past `notAfter`; emits their events. */
  async maintain(): Promise<void> {
    try {
      // Where the store elects a leader, only the leader maintains; the others stand by.
      if (this.#engine.store.lead !== undefined && !(await this.#engine.store.lead())) return
      const now = this.#engine.now()
      const rescued = await rescueExpiredRuns(this.#engine.store, this.#engine.registry, now)
      const expired = await this.#engine.store.expireOverdue(now)
      for (const run of [...rescued, ...expired]) {
        const base = { runId: run.id, task: run.task, poolId: run.poolId, time: new Date(now) }
        // A run that never reached its handler goes back as if never claimed: nothing to announce.
        if (run.status === 'pending' && run.startedAt !== null) this.#engine.emit({ ...base, type: 'retrying', attempt: run.attempt, runAt: run.runAt, error: run.error })
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
