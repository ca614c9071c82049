/**
 * The worker: the loop in a process that claims durable runs and executes them. This class puts
 * its parts together and owns its lifecycle; each part has a module of its own.
 *
 * - Claims in batches up to its free slots (per-task `maxConcurrent` and per-queue limits
 *   respected), woken at once by the store when runs arrive through this process, else by a
 *   poll timer (runs enqueued by other processes, delayed runs coming due): `claim-loop.ts`,
 *   `claim-limits.ts`. Runs claimed beyond the free slots wait in the local buffer
 *   (`local-buffer.ts`).
 * - Each claimed run holds a lease, renewed by a heartbeat (`heartbeat.ts`); the heartbeat also
 *   brings cancel requests made by other processes and tells the worker when it lost a lease.
 * - Each run's attempt (`executions.ts`): output (logs, progress, completions) goes through a
 *   group-commit buffer (`write-buffer.ts`); every write is fenced by the run's lease token; the
 *   decision after the attempt is `attempt-outcome.ts`.
 * - A handler waiting on a pool lends its slot out; the run shows `waiting`.
 * - `stop()` stops claiming, lets handlers finish within the grace period, then aborts them: their
 *   runs go back to `pending` at once while attempts are left (the interrupted attempt counts).
 * - Commands an operator leaves on the worker's row (`worker-row.ts`), read at each save:
 *   `quiet` stops claiming (runs held ahead go back unspent; executing ones finish; the worker
 *   keeps heartbeating and shows `quiet`), `resume` claims again, `stop` asks the engine to
 *   stop the worker gracefully (`WorkerEngine.stopRequested`).
 * - At most once per attempt: a handler is called only while the store records its attempt as
 *   started — by the claim itself for runs with attempts left, or by a start the worker stores
 *   first for a run on its last attempt. A run held in the local buffer has that start taken
 *   back (a hold write), so a run that never reached its handler goes back unspent, whether the
 *   worker gives it back or dies holding it.
 * - Maintenance (`maintenance.ts`): the rescuer and expiry, where this process maintains.
 */
import { hostname } from 'node:os'
import { CancelledError, ValidationError, coerceError } from '../../errors.js'
import type { ClaimedRun, WorkerCommand, WorkerState } from '../../store/types.js'
import { newId } from '../ids.js'
import { toRunError } from '../execute/run-error.js'
import type { QueueSelection } from './claim-limits.js'
import { ClaimLoop } from './claim-loop.js'
import { Executions } from './executions.js'
import { heartbeat, lookForObservers, type HeartbeatHost } from './heartbeat.js'
import { LocalBuffer } from './local-buffer.js'
import { maintain } from './maintenance.js'
import type { WorkerEngine } from './worker-engine.js'
import { WorkerRow, type WorkerRowData } from './worker-row.js'
import { WriteBuffer, type BatchClaimer } from './write-buffer.js'

export type { QueueSelection } from './claim-limits.js'

/** Options of `engine.start`. */
export interface WorkerOptions {
  /**
   * How many runs execute at once in this process (the `workerConcurrency` setting, when set, overrides it).
   * @default 10
   */
  readonly concurrency?: number
  /**
   * Serve only these queues (with optional per-queue limits: `{ default: 0, mail: 2 }`, 0 = no limit).
   * @default every queue
   */
  readonly queues?: QueueSelection
  /**
   * How often to look for runs when nothing woke the worker, in ms.
   * @default the engine's `pollIntervalMs` (250)
   */
  readonly pollIntervalMs?: number
  /**
   * At most this many runs claimed ahead of free slots and held locally, so a finishing run is
   * replaced at once without waiting on the store. The worker only claims ahead as many runs
   * as it finished in the last ~50 ms (so long tasks are never hoarded away from other
   * workers), and gives back any it could not start within a second. They hold leases (shown
   * `running`, without a start time) until they start; a stop returns them to pending unspent,
   * and so does the rescue when the worker dies before starting them. `0` turns prefetching off.
   * @default Math.max(concurrency, 100)
   */
  readonly prefetch?: number
  /**
   * Fire the engine's cron schedules from this process.
   * @default true
   */
  readonly schedules?: boolean
  /**
   * Keep the process alive while the worker runs, even when the queue is empty: a started worker
   * is a service, and a process that exited when idle would leave its runs to no one. `stop()`
   * and `close()` let the process exit again. `false` leaves the process's lifetime to the rest
   * of the program (the worker then runs only while something else keeps the process up).
   * @default true
   *
   * @example
   * await engine.start({ keepAlive: false }) // a script that exits when its own work is done
   */
  readonly keepAlive?: boolean
  /**
   * Called when an operator asks this worker to stop (`engine.commandWorker(id, 'stop')`, from
   * the API, the admin UI or the CLI, on any machine sharing the store). Given, the host decides
   * how to stop (the CLI's `worker` and `serve` close the engine with their grace period, then
   * exit 0); the engine does nothing more than stop claiming. Without it, the engine stops its
   * worker itself (`engine.stop()`, the default grace): the process lives on, library code never
   * exits it. Either way the worker claims nothing once the request arrives.
   * @default stop the worker with `engine.stop()`
   *
   * @example
   * await engine.start({ onStopRequested: (command) => void shutDown(`stop requested by ${command.by}`) })
   */
  readonly onStopRequested?: (command: WorkerCommand) => void
}

export class Worker {
  /** `host:pid:random` */
  readonly id: string
  readonly #engine: WorkerEngine
  #concurrency: number
  /** The concurrency the worker was started with (the setting may override it). */
  readonly #startConcurrency: number
  readonly #pollIntervalMs: number
  readonly #buffer: WriteBuffer
  readonly #claims: ClaimLoop
  readonly #local: LocalBuffer
  readonly #executions: Executions
  readonly #row: WorkerRow
  readonly #heartbeat: HeartbeatHost
  readonly #startedAt: number
  #stopping = false
  /** Quieted by an operator (or asked to stop): no claims, executing runs finish. */
  #quiet = false
  /** Started (subscribed, first maintenance done) and not stopping: enqueues may claim for it (see {@link claimer}). */
  #lendsClaims = false
  #stopRequested = false
  #timers: NodeJS.Timeout[] = []
  #unsubscribe: (() => void) | undefined

  constructor(engine: WorkerEngine, concurrency: number, queues: QueueSelection | undefined, pollIntervalMs: number, prefetch: number) {
    this.#engine = engine
    this.id = `${hostname()}:${process.pid}:${newId().slice(-8)}`
    this.#concurrency = concurrency
    this.#startConcurrency = concurrency
    this.#pollIntervalMs = pollIntervalMs
    const parallelWrites = Math.max(1, engine.store.parallelWrites ?? 1)
    this.#claims = new ClaimLoop(
      {
        workerId: this.id,
        store: engine.store,
        registry: engine.registry,
        leaseMs: engine.leaseMs,
        flow: () => engine.flow(),
        now: () => engine.now(),
        onError: (error) => engine.onError(error),
        stopping: () => this.#stopping || this.#quiet,
        wanted: () => this.#wanted(),
        slots: () => this.#concurrency - this.#executions.busy - this.#local.length,
        capacity: () => this.#concurrency + this.#local.aheadLimit(),
        accept: (runs) => this.#accept(runs),
      },
      queues,
      parallelWrites,
    )
    this.#buffer = new WriteBuffer(engine.store, (error) => engine.onError(error), this.#claims.batchClaimer, parallelWrites)
    this.#local = new LocalBuffer(prefetch, this.#buffer, () => engine.now())
    this.#executions = new Executions(
      {
        workerId: this.id,
        stopping: () => this.#stopping,
        startStands: (run) => this.#local.startStands(run),
        handBack: (run, status, reason) => this.#handBack(run, status, reason),
        count: (run, delta) => this.#claims.count(run, delta),
        startLocal: () => this.#startLocal(),
        saveRowSoon: () => this.#row.saveSoon(),
        finished: () => this.#local.finished(),
        wake: () => this.wake(),
      },
      engine,
      this.#buffer,
    )
    this.#row = new WorkerRow(this.id, engine.store, (now) => this.#describe(now), () => engine.now(), (error) => engine.onError(error), (command) => this.#apply(command))
    this.#heartbeat = {
      workerId: this.id,
      engine,
      leases: () => this.#executions.leases().concat(this.#local.leases()),
      abort: (id, reason) => this.abort(id, reason),
      lose: (id) => this.#lose(id),
      saveRow: () => this.#row.save(),
    }
    this.#startedAt = engine.now()
  }

  /** Slots in use (waiting runs lend theirs out). */
  get busy(): number {
    return this.#executions.busy
  }

  get concurrency(): number {
    return this.#concurrency
  }

  /** Ids of the runs this worker holds: executing, then claimed ahead. */
  runningIds(): string[] {
    return [...this.#executions.ids(), ...this.#local.ids()]
  }

  /** Whether this worker holds the run now. */
  has(runId: string): boolean {
    return this.#executions.has(runId) || this.#local.has(runId)
  }

  /** Starts claiming; `keepAlive` holds the process open until {@link stop} (see {@link WorkerOptions.keepAlive}). */
  async start(keepAlive = true): Promise<void> {
    const engine = this.#engine
    await this.#row.save()
    const unsubscribeWake = engine.store.onRunsAvailable(() => this.wake())
    // Cancels requested in other processes arrive at once where the store can push them.
    const unsubscribeCancel = engine.store.onSignal?.('cancel', (message) => {
      if (message.type === 'cancel') for (const id of message.ids) this.abort(id, new CancelledError(message.reason === '' ? 'cancelled' : `cancelled: ${message.reason}`))
    })
    // A live view that opens elsewhere gets this worker's events from then on, not from the next heartbeat.
    const unsubscribeObserving = engine.store.onSignal?.('observing', () => void lookForObservers(engine))
    // Settings changed elsewhere apply at once (else at the next heartbeat).
    const unsubscribeSettings = engine.store.onSignal?.('settings', () => {
      engine.refreshSettings().catch((error: unknown) => engine.onError(coerceError(error)))
    })
    // Commands left on this worker's row apply at once where the store pushes (else at the next heartbeat).
    const unsubscribeCommand = engine.store.onSignal?.('worker', (message) => {
      if (message.type === 'worker' && message.id === this.id) this.#row.announce().catch((error: unknown) => engine.onError(coerceError(error)))
    })
    this.#unsubscribe = () => {
      unsubscribeCommand?.()
      unsubscribeWake()
      unsubscribeCancel?.()
      unsubscribeObserving?.()
      unsubscribeSettings?.()
    }
    await lookForObservers(engine)
    const poll = setInterval(() => {
      for (const run of this.#local.expired()) this.#releaseUnstarted(run, 'pending', null)
      this.wake()
    }, this.#pollIntervalMs)
    const beat = setInterval(() => void heartbeat(this.#heartbeat), engine.heartbeatMs)
    const maintenance = setInterval(() => void this.maintain(), engine.maintenanceMs)
    // The poll timer alone holds the process open (when asked to); the others never do.
    if (!keepAlive) poll.unref()
    beat.unref()
    maintenance.unref()
    this.#timers.push(poll, beat, maintenance)
    await this.maintain()
    this.#lendsClaims = true
    this.wake()
  }

  /**
   * The claim loop's claims that ride on other writes, for an enqueue in this process to claim in
   * its own transaction (`Store.insertRunsAndClaim`): `undefined` until the worker is started.
   * The claimer itself declines while the worker stops or a claim of its own is out.
   */
  get claimer(): BatchClaimer | undefined {
    return this.#lendsClaims ? this.#claims.batchClaimer : undefined
  }

  /** Looks for runs now. */
  wake(): void {
    void this.#claims.fill()
  }

  /** Aborts a run held here (a local cancel): an executing one through its signal, a claimed-ahead one at once. */
  abort(runId: string, reason: Error): void {
    if (this.#executions.abort(runId, reason)) return
    const ahead = this.#local.take(runId)
    if (ahead !== undefined) this.#releaseUnstarted(ahead, 'cancelled', reason)
  }

  /**
   * Stops claiming; waits up to `graceMs` for handlers, then aborts them: their runs go back to
   * pending (or fail, on their last attempt). Runs that never started go back unspent.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#row.removed) return
    this.#stopping = true
    this.#lendsClaims = false
    this.#unsubscribe?.()
    // Runs claimed ahead never started: back to pending at once, unspent, for other workers.
    for (const run of this.#local.close()) this.#releaseUnstarted(run, 'pending', null)
    // Keep renewing leases while handlers finish; stop polling and maintenance.
    for (const timer of this.#timers.splice(0)) clearInterval(timer)
    this.#claims.stop()
    const beat = setInterval(() => void heartbeat(this.#heartbeat), this.#engine.heartbeatMs)
    beat.unref()
    try {
      if (this.#executions.size > 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([this.#executions.allDone(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
        clearTimeout(timer)
      }
      this.#executions.stopAll()
      await this.#executions.allDone()
      // A claim still out takes its runs in the store: they come back here, and go back unspent.
      await this.#claims.settled()
      await this.#buffer.drain()
      this.#buffer.close()
    } finally {
      clearInterval(beat)
      await this.#row.remove()
    }
  }

  /** How many runs to claim: the free slots plus room in the local buffer. */
  #wanted(): number {
    const free = Math.max(0, this.#concurrency - this.#executions.busy)
    return free + Math.max(0, this.#local.aheadLimit() - this.#local.length)
  }

  /** Takes claimed runs: starts them while slots are free, keeps the rest for later. */
  #accept(runs: readonly ClaimedRun[]): void {
    for (const run of runs) {
      this.#claims.count(run, 1)
      if (this.#executions.busy < this.#concurrency && !this.#stopping && !this.#quiet) this.#executions.begin(run)
      else this.#local.push(run)
    }
    // Counted runs that end up waiting here long are held (see HOLD_AFTER_MS).
    this.#local.watchHolds()
    if (this.#stopping || this.#quiet) for (const run of this.#local.takeAll()) this.#releaseUnstarted(run, 'pending', null)
  }

  /** Starts claimed-ahead runs while slots are free. Limits were counted when they were claimed. */
  #startLocal(): void {
    while (this.#executions.busy < this.#concurrency && this.#local.length > 0 && !this.#stopping && !this.#quiet) this.#executions.begin(this.#local.shift()!)
  }

  /** Gives back a run held in the local buffer: `pending` (unspent, as if never claimed) or `cancelled` (`reason`). */
  #releaseUnstarted(run: ClaimedRun, status: 'pending' | 'cancelled', reason: Error | null): void {
    this.#claims.count(run, -1)
    this.#local.forget(run.id)
    this.#handBack(run, status, reason)
  }

  /** Writes a claimed run back whose handler never ran (see `ReleaseWrite`). */
  #handBack(run: ClaimedRun, status: 'pending' | 'cancelled', reason: Error | null): void {
    const engine = this.#engine
    const now = engine.now()
    const error = status === 'cancelled' && reason !== null ? toRunError(reason) : null
    void this.#buffer
      .release({ id: run.id, token: run.token, status, at: now, error })
      .then((fenced) => {
        if (fenced || status !== 'cancelled' || !engine.listening()) return
        engine.emit({ type: 'cancelled', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(now), error })
      })
      .catch((error: unknown) => engine.onError(coerceError(error)))
  }

  /** A lease the heartbeat reports lost: a run held ahead is dropped, an executing one aborted. */
  #lose(runId: string): void {
    const ahead = this.#local.lose(runId)
    if (ahead !== undefined) this.#claims.count(ahead, -1)
    this.#executions.lose(runId)
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
    this.#row.saveSoon()
    this.#startLocal()
    this.wake()
  }

  /** Saves the worker's row now (e.g. when the process starts serving live views). */
  announce(): Promise<void> {
    return this.#row.announce()
  }

  /** What the worker does now, as its row says. */
  get state(): WorkerState {
    return this.#stopping || this.#stopRequested ? 'stopping' : this.#quiet ? 'quiet' : 'active'
  }

  /**
   * Applies the command an operator left on the row (read back at each save): idempotent, so a
   * command seen again at the next heartbeat changes nothing.
   */
  #apply(command: WorkerCommand | null): void {
    if (command === null || this.#stopping || this.#stopRequested) return
    if (command.type === 'resume') {
      if (!this.#quiet) return
      this.#quiet = false
      this.#showState()
      this.#startLocal()
      this.wake()
      return
    }
    if (command.type === 'quiet' && this.#quiet) return
    this.#quiet = true
    // Runs held ahead never started: back to pending at once, unspent, for other workers.
    for (const run of this.#local.takeAll()) this.#releaseUnstarted(run, 'pending', null)
    if (command.type === 'stop') {
      this.#stopRequested = true
      this.#engine.stopRequested(command)
    }
    this.#showState()
  }

  /** Saves the row now, so that operators see the new state at once (the save reads the command back: applying it again changes nothing). */
  #showState(): void {
    this.#row.announce().catch((error: unknown) => this.#engine.onError(coerceError(error)))
  }

  /** Rescues runs whose worker died and expires runs past `notAfter`; emits their events. */
  maintain(): Promise<void> {
    return maintain(this.#engine, () => this.wake())
  }

  #describe(now: number): WorkerRowData {
    const queues = this.#claims.queues
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      concurrency: this.#concurrency,
      busy: this.#executions.busy,
      queues: queues === undefined ? null : [...queues],
      tasks: this.#engine.registry.list().map((t) => t.key),
      running: this.runningIds(),
      startedAt: this.#startedAt,
      heartbeatAt: now,
      observer: this.#engine.observing(),
      state: this.state,
    }
  }
}
