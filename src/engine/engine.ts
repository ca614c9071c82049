/**
 * The engine: a task registry plus every way to execute and steer runs — in-process (`run`,
 * `runAll`), durable (`enqueue`, workers, `cancel`/`retry`/`delete`, pools) — and one event
 * subscription for all of them.
 */
import { hostname } from 'node:os'
import { CancelledError, ConflictError, NotFoundError, ShutdownError, ValidationError, coerceError, describeValue, type FieldIssue } from '../errors.js'
import type { LogEntry, PoolOptions, PoolStatus, RunResult } from '../task/context.js'
import { checkConcurrency, concurrencyOf, type AnyTask, type Task } from '../task/define.js'
import { parseArgs, type ArgsInput } from '../task/fields.js'
import { TaskRegistry, type TaskCategory } from '../task/registry.js'
import { describeCron, isSchedule, type Schedule } from '../task/schedule.js'
import {
  RUN_STATES,
  type Artifact,
  type ArtifactContent,
  type Pool,
  type PoolCounts,
  type Run,
  type RunFilter,
  type RunPage,
  type RunState,
  type Store,
  type StoreStats,
  type ThroughputBucket,
  type WorkerInfo,
} from '../store/types.js'
import { checkEnqueueOptions, enqueueOptionIssues, hashArgs, newRunRow, newRunRows, type EnqueueOptions } from './durable/enqueue.js'
import { EventBus, deliver } from './events/bus.js'
import type { RunEvent, RunEventFilter, RunEventListener } from './events/run-events.js'
import { executeRun, type LogLimits, type PoolOpener, type RunSpec } from './execute/active-run.js'
import { RunTracker } from './execute/run-tracker.js'
import { newId } from './ids.js'
import { STORE_LOG_BACKEND, checkLogBackend, type LogBackend, type LogBackendInfo } from './settings/log-backends.js'
import { PoolHandle, poolStatus, type PoolEngine } from './durable/pool.js'
import { retentionSchedule, retentionTask, type RetentionOptions } from './settings/retention.js'
import { RunBatch } from './in-process/run-batch.js'
import { ScheduleRegistry, Scheduler, fireKeyOf, type ScheduleInfo } from './schedules/scheduler.js'
import { SETTING_KEYS, checkSettingsPatch, defaultSettings, describeSettings, mergeSettings, type SettingInfo, type Settings } from './settings/settings.js'
import { Worker, type WorkerOptions } from './durable/worker.js'

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** Tasks to register at once. */
  readonly tasks?: readonly AnyTask[]
  /**
   * Where durable runs live: a store, or a function that makes one on first use.
   * Default (`createEngine`): a private in-memory SQLite store.
   */
  readonly store?: Store | (() => Store)
  /** How long a claimed run's lease lasts without a heartbeat, in ms. Default: 30 000. */
  readonly leaseMs?: number
  /** How often workers renew leases (and hear of cancels from other processes), in ms. Default: `leaseMs / 3`. */
  readonly heartbeatMs?: number
  /** How often an idle worker looks for runs nobody woke it for, in ms. Default: 250. */
  readonly pollIntervalMs?: number
  /** At most one progress write per run per this many ms (every update still streams live). Default: 250. */
  readonly progressIntervalMs?: number
  /** Attempts of a durable run when neither the enqueue nor the task says. Default: 3. */
  readonly defaultMaxAttempts?: number
  /** Largest artifact a run may store, in bytes. Default: 10 MiB. */
  readonly maxArtifactBytes?: number
  /** How long an `onSuccess`/`onFailure`/`onSettled` hook may take before it is logged as overrun. Default: 30 000 ms. */
  readonly hookTimeoutMs?: number
  /** Log lines one in-process run keeps in memory; past it the oldest are dropped and counted. Default: 10 000. */
  readonly maxLogLines?: number
  /** Characters kept of one log line. Default: 65 536. */
  readonly maxLogLineLength?: number
  /** The clock durable runs are scheduled by, in epoch ms. Default: `Date.now`. */
  readonly clock?: () => number
  /** Cron schedules to register at once (see `defineSchedule`). */
  readonly schedules?: readonly Schedule[]
  /** Log backends besides the store, chosen with the `logBackend` setting (see `filesLogBackend`). */
  readonly logBackends?: readonly LogBackend[]
  /**
   * The built-in retention task and its schedule (daily at 03:15 UTC by default), which delete
   * what the retention settings say. `false` leaves both out.
   */
  readonly retention?: false | RetentionOptions
  /**
   * Receives errors the engine cannot hand to anyone else (a throwing event listener, a failed
   * background write that will be retried). Default: print to stderr.
   */
  readonly onError?: (error: Error) => void
}

/** Options of one in-process run. */
export interface RunOptions {
  /** The run label. Default: the task's `defaults.label`, else `ad-hoc`. */
  readonly label?: string
  /** Time limit in milliseconds; overrides the task's `timeoutMs`. */
  readonly timeoutMs?: number
  /** Cancels the run from outside: it ends `cancelled` as soon as the signal fires. */
  readonly signal?: AbortSignal
  /** Receives every event of this run (started, log, progress, tags, then the final status) as it happens. */
  readonly onEvent?: RunEventListener
  /** Tags the run starts with. Default: the task's `defaults.tags`, else none. */
  readonly tags?: readonly string[]
}

/** Options of {@link Engine.runAll}. */
export interface RunAllOptions extends Omit<RunOptions, 'label'> {
  /** Overrides the task's `maxConcurrent` (same meaning: `0` = CPU count, `-1` = 128). */
  readonly concurrency?: number
}

/** Options of {@link Engine.stop}. */
export interface StopOptions {
  /** How long running handlers may take to finish before they are aborted and their runs returned to pending. Default: 10 000 ms. */
  readonly graceMs?: number
}

/** A pool with its aggregate status, as {@link Engine.getPool} reports it. */
export interface PoolReport {
  readonly pool: Pool
  readonly status: PoolStatus
  /** The pool's own runs (newest first, up to 1000). */
  readonly runs: readonly Run[]
  /** Pools nested directly below this one (opened by its runs). */
  readonly children: readonly Pool[]
}

/** Arguments for a known task: its fields' types, or text to be coerced. */
export type ArgsInputOf<A> = { readonly [K in keyof A]?: A[K] | string | readonly string[] | number | boolean | null }

/** The default label of a run. */
export const DEFAULT_LABEL = 'ad-hoc'

/** The task engine. Create it with {@link createEngine}. */
export class Engine {
  readonly #registry = new TaskRegistry()
  readonly #bus: EventBus
  readonly #hookTimeoutMs: number
  readonly #logLimits: LogLimits
  readonly #onError: (error: Error) => void
  readonly #storeOption: Store | (() => Store) | undefined
  #store: Store | undefined
  #storeReady: Promise<Store> | undefined
  readonly #leaseMs: number
  readonly #heartbeatMs: number
  readonly #pollIntervalMs: number
  readonly #progressIntervalMs: number
  readonly #defaultMaxAttempts: number
  readonly #maxArtifactBytes: number
  readonly #clock: () => number
  #worker: Worker | undefined
  /** In-process runs executing now (`run`, `runAll`), ended by {@link Engine.close}. */
  readonly #inProcess = new RunTracker()
  readonly #openPool: PoolOpener
  /** This process, as other processes sharing the store see it. */
  readonly #processId = `${hostname()}:${process.pid}:${newId().slice(-8)}`
  /** Live views in this process that want other processes' events (see {@link Engine.observe}). */
  #observers = 0
  #stopObserving: (() => void) | undefined
  /** Whether another process serves live views, so this one shares its run events through the store. */
  #shareEvents = false
  #outbox: RunEvent[] = []
  #outboxLogs = 0
  #presenceSince = 0
  #outboxTimer: NodeJS.Timeout | undefined
  readonly #schedules = new ScheduleRegistry()
  #scheduler: Scheduler | undefined
  readonly #logBackends = new Map<string, LogBackend>()
  /** The shared settings as last read from the store (undefined until first needed). */
  #settings: Settings | undefined
  #settingsLoad: Promise<Settings> | undefined

  constructor(options: EngineOptions = {}) {
    this.#onError = options.onError ?? ((error) => console.error('[taskengine]', error))
    this.#bus = new EventBus((error) => this.#onError(coerceError(error)))
    this.#hookTimeoutMs = positiveInt(options.hookTimeoutMs, 30_000, 'hookTimeoutMs')
    this.#logLimits = {
      maxLines: positiveInt(options.maxLogLines, 10_000, 'maxLogLines'),
      maxLineLength: positiveInt(options.maxLogLineLength, 65_536, 'maxLogLineLength'),
    }
    this.#storeOption = options.store
    this.#leaseMs = positiveInt(options.leaseMs, 30_000, 'leaseMs')
    this.#heartbeatMs = positiveInt(options.heartbeatMs, Math.max(1, Math.floor(this.#leaseMs / 3)), 'heartbeatMs')
    if (this.#heartbeatMs >= this.#leaseMs) throw new ValidationError(`heartbeatMs (${this.#heartbeatMs}) must be shorter than leaseMs (${this.#leaseMs})`)
    this.#pollIntervalMs = positiveInt(options.pollIntervalMs, 250, 'pollIntervalMs')
    this.#progressIntervalMs = positiveInt(options.progressIntervalMs, 250, 'progressIntervalMs')
    this.#defaultMaxAttempts = positiveInt(options.defaultMaxAttempts, 3, 'defaultMaxAttempts')
    this.#maxArtifactBytes = positiveInt(options.maxArtifactBytes, 10 * 1024 * 1024, 'maxArtifactBytes')
    if (options.clock !== undefined && typeof options.clock !== 'function') throw new ValidationError(`clock: expected a function, got ${describeValue(options.clock)}`)
    this.#clock = options.clock ?? Date.now
    this.#openPool = (poolOptions, parent) => new PoolHandle(this.#poolEngine(), poolOptions, parent)
    if (options.tasks !== undefined) this.register(...options.tasks)
    for (const backend of options.logBackends ?? []) this.registerLogBackend(backend)
    if (options.retention !== false) {
      this.register(
        retentionTask({
          store: () => this.#ready(),
          settings: () => this.#loadSettings(true),
          logBackends: () => [...this.#logBackends.values()],
          now: () => this.#clock(),
        }, options.retention ?? {}),
      )
      this.registerSchedule(retentionSchedule(options.retention ?? {}))
    }
    if (options.schedules !== undefined) this.registerSchedule(...options.schedules)
  }

  // ─── Registry ───────────────────────────────────────────────────────────────

  /** Registers tasks. A duplicate or malformed key is an error naming it; nothing is registered then. */
  register(...tasks: AnyTask[]): this {
    this.#registry.register(...tasks)
    this.#worker?.wake()
    return this
  }

  /** Removes exactly the task with this key. Returns whether it was registered. */
  remove(key: string): boolean {
    return this.#registry.remove(key)
  }

  /** The task with this key, or `undefined`. */
  get(key: string): AnyTask | undefined {
    return this.#registry.get(key)
  }

  /** Every registered task, sorted by key. */
  list(): readonly AnyTask[] {
    return this.#registry.list()
  }

  /** The categories in use, sorted by name, each with its tasks. */
  categories(): TaskCategory[] {
    return this.#registry.categories()
  }

  // ─── In-process runs ────────────────────────────────────────────────────────

  /**
   * Executes a task now, in this process, and resolves to its result. Invalid arguments or an
   * unknown task reject with a `ValidationError` / `NotFoundError` before anything runs; a
   * failing handler never rejects: its error is in the result.
   *
   * @example
   * const result = await engine.run('backup', { format: 'tar' }, { label: 'nightly', timeoutMs: 60_000 })
   * if (result.status !== 'succeeded') console.error(result.error?.message)
   */
  run<A, R>(task: Task<A, R>, args?: ArgsInputOf<A>, options?: RunOptions): Promise<RunResult<R>>
  run(key: string, args?: ArgsInput, options?: RunOptions): Promise<RunResult>
  async run(taskOrKey: AnyTask | string, args?: ArgsInput, options: RunOptions = {}): Promise<RunResult> {
    const task = this.#resolve(taskOrKey)
    const parsed = withOptionIssues(runOptionIssues(options, RUN_OPTION_KEYS), 'invalid run options', () => parseArgs(task.fields, args))
    return executeRun(this.#spec(task, options.label ?? task.defaults.label ?? DEFAULT_LABEL, options), newId(), parsed)
  }

  /**
   * Executes a task once per argument object, at most `maxConcurrent` at a time (the task's, or
   * `options.concurrency`): `0` = available CPU parallelism, `-1` = 128. Every argument object
   * is validated first; if any is invalid this throws a `ValidationError` listing each bad
   * field as `[index].key` and nothing runs.
   *
   * `await` the batch for results in input order, or `for await` it for results in completion
   * order as they finish.
   *
   * @example
   * for await (const result of engine.runAll('backup', 'batch', [{ format: 'sql' }, { format: 'tar' }])) {
   *   console.log(result.args.format, result.status)
   * }
   */
  runAll<A, R>(task: Task<A, R>, label: string, argsList: readonly ArgsInputOf<A>[], options?: RunAllOptions): RunBatch<R>
  runAll(key: string, label: string, argsList: readonly ArgsInput[], options?: RunAllOptions): RunBatch
  runAll(taskOrKey: AnyTask | string, label: string, argsList: readonly ArgsInput[], options: RunAllOptions = {}): RunBatch {
    const task = this.#resolve(taskOrKey)
    const issues = runOptionIssues(options, RUN_ALL_OPTION_KEYS)
    if (typeof label !== 'string' || label === '') issues.unshift(optionIssue('label', 'a non-empty string', label, 'label'))
    const parsed = withOptionIssues(issues, 'invalid run options', () => this.#parseBatch(task, argsList))
    const concurrency = resolveConcurrency(
      options.concurrency ?? task.maxConcurrent ?? 0,
      options.concurrency === undefined ? `task "${task.key}": maxConcurrent` : 'concurrency',
    )
    const spec = this.#spec(task, label, options)
    return new RunBatch(parsed.length, concurrency, (index) => executeRun(spec, newId(), parsed[index]!))
  }

  // ─── Durable runs ───────────────────────────────────────────────────────────

  /** The store durable runs live in (created on first use when the engine was given a factory). */
  async store(): Promise<Store> {
    return this.#ready()
  }

  /**
   * Stores a durable run for a worker to execute. The arguments are validated by the task's
   * fields first (a `ValidationError` naming each bad field; nothing stored). Resolves to the
   * stored run — or to the existing one when its `uniqueKey` is held by an active run, or to a
   * recent identical success when the task reuses results.
   *
   * @example
   * const run = await engine.enqueue('backup', { format: 'tar' }, { delayMs: 60_000, maxAttempts: 5 })
   */
  enqueue<A, R>(task: Task<A, R>, args?: ArgsInputOf<A>, options?: EnqueueOptions): Promise<Run>
  enqueue(key: string, args?: ArgsInput, options?: EnqueueOptions): Promise<Run>
  async enqueue(taskOrKey: AnyTask | string, args?: ArgsInput, options: EnqueueOptions = {}): Promise<Run> {
    const [run] = await this.#enqueue(taskOrKey, [args], options)
    return run!
  }

  /** Stores one durable run per argument object, in one statement. All are validated first; if any is invalid nothing is stored. */
  enqueueMany<A, R>(task: Task<A, R>, argsList: readonly ArgsInputOf<A>[], options?: EnqueueOptions): Promise<Run[]>
  enqueueMany(key: string, argsList: readonly ArgsInput[], options?: EnqueueOptions): Promise<Run[]>
  async enqueueMany(taskOrKey: AnyTask | string, argsList: readonly ArgsInput[], options: EnqueueOptions = {}): Promise<Run[]> {
    return this.#enqueue(taskOrKey, argsList, options)
  }

  async #enqueue(taskOrKey: AnyTask | string, argsList: readonly ArgsInput[], options: EnqueueOptions): Promise<Run[]> {
    const task = this.#resolve(taskOrKey)
    // Every bad argument and every bad option, in one error; nothing is stored.
    const optionIssues = enqueueOptionIssues(options)
    const parsed = withOptionIssues(optionIssues, 'invalid enqueue options', () =>
      argsList.length === 1 ? [parseArgs(task.fields, argsList[0])] : this.#parseBatch(task, argsList),
    )
    const store = await this.#ready()
    const now = this.#clock()
    const defaults = { maxAttempts: (this.#settings ?? (await this.#loadSettings())).defaultMaxAttempts, label: DEFAULT_LABEL }
    // Arguments with a recent identical success get that run instead (tasks that reuse results).
    let fresh = parsed
    let reused: Map<number, Run> | undefined
    if (task.reuseResultMs !== undefined) {
      fresh = []
      for (let i = 0; i < parsed.length; i++) {
        const reusable = await store.findReusable(task.key, hashArgs(JSON.parse(JSON.stringify(parsed[i])) as unknown), now - task.reuseResultMs)
        if (reusable === undefined) fresh.push(parsed[i]!)
        else (reused ??= new Map()).set(i, reusable)
      }
    }
    const rows = newRunRows(task, fresh, options, defaults, now)
    const client = options.client
    const outcomes = await store.insertRuns(rows, client === undefined ? undefined : { client })
    const results = new Array<Run>(parsed.length)
    for (let i = 0, j = 0; i < parsed.length; i++) results[i] = reused?.get(i) ?? outcomes[j++]!.run
    if (client === undefined && this.#bus.active) {
      for (const outcome of outcomes) {
        if (outcome.created) this.#bus.emit({ type: 'created', runId: outcome.run.id, task: task.key, poolId: outcome.run.poolId, time: outcome.run.createdAt, run: outcome.run })
      }
    }
    return results
  }

  /**
   * Starts a worker in this process: it claims durable runs and executes them, at most
   * `concurrency` at once (default 10). Resolves once the worker is registered. The worker keeps
   * the process alive until {@link stop} or {@link close} (`keepAlive: false` opts out).
   */
  async start(options: WorkerOptions = {}): Promise<void> {
    if (this.#worker !== undefined) throw new ConflictError('a worker is already running in this engine; stop() it first')
    const concurrency = positiveInt(options.concurrency, 10, 'concurrency')
    if (options.queues !== undefined) checkQueues(options.queues)
    const pollIntervalMs = positiveInt(options.pollIntervalMs, this.#pollIntervalMs, 'pollIntervalMs')
    const prefetch = options.prefetch ?? Math.max(concurrency, 100)
    if (!Number.isSafeInteger(prefetch) || prefetch < 0) throw new ValidationError(`prefetch: expected an integer >= 0, got ${describeValue(prefetch)}`)
    if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') throw new ValidationError(`keepAlive: expected true or false, got ${describeValue(options.keepAlive)}`)
    const store = await this.#ready()
    const settings = await this.#loadSettings(true)
    const worker = new Worker(
      {
        store,
        registry: this.#registry,
        now: this.#clock,
        emit: (event) => this.#emit(event),
        listening: () => this.#bus.active || this.#shareEvents,
        observing: () => this.#observers > 0,
        peers: (workers) => {
          const own = this.#worker?.id
          this.#shareEvents = workers.some((w) => w.observer && w.id !== own && !w.id.startsWith(this.#processId))
        },
        logBackend: () => {
          const name = this.#settings?.logBackend ?? STORE_LOG_BACKEND.name
          return name === STORE_LOG_BACKEND.name ? undefined : this.#logBackends.get(name)
        },
        refreshSettings: async () => void (await this.#loadSettings(true)),
        onError: this.#onError,
        leaseMs: this.#leaseMs,
        heartbeatMs: this.#heartbeatMs,
        maintenanceMs: Math.max(1, Math.floor(this.#leaseMs / 2)),
        progressIntervalMs: this.#progressIntervalMs,
        hookTimeoutMs: this.#hookTimeoutMs,
        logLimits: this.#logLimits,
        maxArtifactBytes: this.#maxArtifactBytes,
        openPool: this.#openPool,
      },
      concurrency,
      options.queues,
      pollIntervalMs,
      prefetch,
    )
    worker.setConcurrency(settings.workerConcurrency)
    this.#worker = worker
    await worker.start(options.keepAlive ?? true)
    if (options.schedules !== false) await this.#schedulerOf(store).start()
    // The worker's row now says this process serves live views; the server's own row goes.
    if (this.#observers > 0) await store.removeWorker(this.#presenceId).catch((error: unknown) => this.#onError(coerceError(error)))
  }

  /** Whether a worker runs in this engine. */
  get started(): boolean {
    return this.#worker !== undefined
  }

  /** The worker's id in this process, if started. */
  get workerId(): string | undefined {
    return this.#worker?.id
  }

  /**
   * Stops the worker: no more claims; running handlers get `graceMs` (default 10 s) to finish,
   * then their signals fire and their runs go back to `pending` — nothing is lost.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const worker = this.#worker
    const graceMs = checkGrace(options.graceMs)
    if (worker === undefined) return
    await this.#scheduler?.stop()
    await worker.stop(graceMs)
    this.#worker = undefined
    // Still serving live views: say so without the worker's row.
    if (this.#observers > 0) await this.#announcePresence().catch((error: unknown) => this.#onError(coerceError(error)))
  }

  /**
   * Stops the worker (if any), ends in-process runs, and closes the store. Running handlers, durable
   * and in-process alike, get `graceMs` (default 10 s) to finish; then their signals fire with a
   * `ShutdownError`: durable runs go back to `pending` (see {@link Engine.stop}), in-process runs
   * end `cancelled` (at once when they have a time limit or an outside signal, else when their
   * handler stops), and items of a `runAll` batch that had not started yet end `cancelled`
   * without starting. The engine runs in-process runs started after `close()` as usual, and
   * opens its store again when a durable method is called.
   */
  async close(options: StopOptions = {}): Promise<void> {
    const graceMs = checkGrace(options.graceMs)
    await Promise.all([this.stop(options), this.#endInProcess(graceMs)])
    this.#stopObserving?.()
    this.#stopObserving = undefined
    clearTimeout(this.#outboxTimer)
    await this.#sendOutbox()
    const store = this.#store
    this.#store = undefined
    this.#storeReady = undefined
    await store?.close()
  }

  /** Waits up to `graceMs` for in-process runs, then ends the rest with a `ShutdownError`. */
  async #endInProcess(graceMs: number): Promise<void> {
    const runs = this.#inProcess
    if (runs.size > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([runs.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
      clearTimeout(timer)
    }
    runs.shutdown(new ShutdownError('engine shutting down'))
    // Handlers that stop when their signal fires settle within this turn; others are not waited for.
    if (runs.size > 0) await new Promise<void>((resolve) => setImmediate(resolve))
  }

  /** A durable run with its attempts, progress, result and error; `undefined` if unknown (or deleted). */
  async getRun(id: string): Promise<Run | undefined> {
    checkId(id)
    return (await this.#ready()).getRun(id)
  }

  /** A page of durable runs, newest first. */
  async listRuns(filter: RunFilter = {}): Promise<RunPage> {
    checkFilter(filter)
    return (await this.#ready()).listRuns(filter)
  }

  /** Log lines of a durable run after position `after` (default 0), oldest first, at most `limit` (default 1000). */
  async getLogs(id: string, options: { readonly after?: number; readonly limit?: number } = {}): Promise<LogEntry[]> {
    checkId(id)
    const after = options.after ?? 0
    const limit = options.limit ?? 1000
    if (!Number.isSafeInteger(after) || after < 0) throw new ValidationError(`after: expected an integer >= 0, got ${describeValue(after)}`)
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new ValidationError(`limit: expected an integer from 1 to 10000, got ${describeValue(limit)}`)
    const store = await this.#ready()
    if (this.#logBackends.size === 0) return store.getLogs(id, after, limit)
    // Lines live where the worker wrote them: the current backend first, then the others.
    const current = (this.#settings ?? (await this.#loadSettings())).logBackend
    const order = [current, ...this.#backendNames().filter((name) => name !== current)]
    for (const name of order) {
      const backend = this.#logBackends.get(name)
      const lines = backend === undefined ? await store.getLogs(id, after, limit) : await backend.read(id, after, limit)
      if (lines.length > 0) return lines
    }
    return []
  }

  /**
   * Cancels a durable run: a pending one at once; a running one by firing its handler's signal
   * (in this process at once, in another within one heartbeat), after which it ends
   * `cancelled`. Cancels every run in the pools it opened, too. A finished run is a
   * `ConflictError`.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<Run> {
    checkId(id)
    const store = await this.#ready()
    const run = await store.getRun(id)
    if (run === undefined) throw new NotFoundError(`unknown run "${id}"`)
    if (run.status !== 'pending' && run.status !== 'running' && run.status !== 'waiting') {
      throw new ConflictError(`run ${id} ${statusPhrase(run.status)}; only pending, running or waiting runs can be cancelled`)
    }
    const poolIds = await this.#descendantPools(store, id)
    await this.#cancelSelection(store, { ids: [id], poolIds }, reason)
    return (await store.getRun(id, { includeDeleted: true }))!
  }

  /** Failed or cancelled → pending again, with a fresh attempt budget and the cancel request cleared. */
  async retry(id: string): Promise<Run> {
    checkId(id)
    const store = await this.#ready()
    const run = await store.retryRun(id, this.#clock())
    if (run === undefined) {
      const current = await store.getRun(id)
      if (current === undefined) throw new NotFoundError(`unknown run "${id}"`)
      throw new ConflictError(`run ${id} ${statusPhrase(current.status)}; only failed or cancelled runs can be retried`)
    }
    this.#emit({ type: 'retried', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(this.#clock()), run })
    return run
  }

  /**
   * Soft-deletes a durable run. A pending run never executes; a running one is cancelled first.
   * Like {@link Engine.cancel}, it cancels every run in the pools it opened, and below them.
   */
  async delete(id: string): Promise<Run> {
    checkId(id)
    const store = await this.#ready()
    const run = await store.deleteRun(id, this.#clock())
    if (run === undefined) throw new NotFoundError(`unknown run "${id}"`)
    if (run.status === 'running' || run.status === 'waiting') {
      if (this.#worker?.has(id) === true) this.#worker.abort(id, new CancelledError('cancelled: deleted'))
      else if (store.signal !== undefined) await store.signal({ type: 'cancel', ids: [id], reason: 'deleted' })
    }
    const poolIds = await this.#descendantPools(store, id)
    if (poolIds.length > 0) await this.#cancelSelection(store, { poolIds }, 'parent run deleted')
    this.#emit({ type: 'deleted', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(this.#clock()) })
    return run
  }

  /** An artifact a durable run stored, with its bytes. */
  async getArtifact(runId: string, name: string): Promise<ArtifactContent | undefined> {
    checkId(runId)
    return (await this.#ready()).getArtifact(runId, name)
  }

  /** The artifacts a durable run stored (without bytes). */
  async listArtifacts(runId: string): Promise<Artifact[]> {
    checkId(runId)
    return (await this.#ready()).listArtifacts(runId)
  }

  /** Opens a pool of durable runs outside any run. */
  pool(options: PoolOptions = {}): PoolHandle {
    return new PoolHandle(this.#poolEngine(), options, { runId: null, poolId: null, onWait: undefined })
  }

  /** A pool with its aggregate status (over the whole tree below it), its runs and the pools nested in it. */
  async getPool(id: string): Promise<PoolReport | undefined> {
    checkId(id)
    const store = await this.#ready()
    const pool = await store.getPool(id)
    if (pool === undefined) return undefined
    const [counts, page] = await Promise.all([store.poolCounts(id, { tree: true }), store.listRuns({ poolId: id, pageSize: 1000 })])
    const children: Pool[] = []
    for (const run of page.data) children.push(...(await store.poolsOfRun(run.id)))
    return { pool, status: poolStatus(pool, counts, this.#clock()), runs: page.data, children }
  }

  /** Run counts by status and by queue (depth, running, oldest pending). */
  async stats(): Promise<StoreStats> {
    return (await this.#ready()).stats(this.#clock())
  }

  /** Finished runs per bucket over the last `windowMs` (default: an hour in 60 buckets of a minute). */
  async throughput(windowMs = 3_600_000, bucketMs = 60_000): Promise<ThroughputBucket[]> {
    if (!Number.isSafeInteger(windowMs) || windowMs <= 0 || !Number.isSafeInteger(bucketMs) || bucketMs <= 0 || windowMs / bucketMs > 10_000) {
      throw new ValidationError(`throughput: expected a positive window and bucket (at most 10000 buckets), got ${describeValue(windowMs)} / ${describeValue(bucketMs)}`)
    }
    const now = this.#clock()
    const until = Math.ceil((now + 1) / bucketMs) * bucketMs
    return (await this.#ready()).throughput(until - windowMs, until, bucketMs)
  }

  /**
   * Live processes sharing the store (heartbeat within three heartbeat intervals): workers, and
   * servers that only serve live views (`observer: true`, concurrency 0; see {@link Engine.observe}).
   */
  async workers(): Promise<WorkerInfo[]> {
    const store = await this.#ready()
    return store.listWorkers(this.#clock() - this.#heartbeatMs * 3)
  }

  /**
   * Subscribes to run events of every run (or those matching `filter`): in-process runs and
   * durable runs created, executed or changed through this engine. In-process runs started while
   * nobody listens emit nothing, so subscribe before starting them. Returns the unsubscribe
   * function.
   */
  subscribe(listener: RunEventListener, filter?: RunEventFilter): () => void {
    return this.#bus.subscribe(listener, filter)
  }

  // ─── Schedules ──────────────────────────────────────────────────────────────

  /**
   * Registers cron schedules (see `defineSchedule`). A duplicate id is an error; so is a task
   * that is neither registered nor given as a definition (a definition is registered with it).
   * Engines that run a worker fire them; any number of engines may share a store and still
   * enqueue one run per tick.
   */
  registerSchedule(...schedules: Schedule[]): this {
    for (const schedule of schedules) {
      if (!isSchedule(schedule)) throw new ValidationError(`registerSchedule: expected a schedule made by defineSchedule(), got ${describeValue(schedule)}`)
      if (this.#schedules.has(schedule.id)) throw new ConflictError(`a schedule with id "${schedule.id}" is already registered`)
      if (!this.#registry.has(schedule.task)) {
        if (schedule.taskDefinition === undefined) throw new NotFoundError(`schedule "${schedule.id}": unknown task "${schedule.task}"; register the task first, or give its definition`)
        this.register(schedule.taskDefinition)
      }
    }
    for (const schedule of schedules) this.#schedules.add(schedule)
    void this.#scheduler?.wake()
    return this
  }

  /** Every registered schedule with its state: enabled, next and last tick, newest run. */
  async schedules(): Promise<ScheduleInfo[]> {
    const store = await this.#ready()
    const states = await this.#schedulerOf(store).states()
    const now = this.#clock()
    return Promise.all(
      this.#schedules.list().map(async (schedule) => {
        const state = states.get(schedule.id)
        const enabled = state?.enabled ?? schedule.enabled
        const [lastRun] = (await store.listRuns({ scheduleId: schedule.id, pageSize: 1 })).data
        return {
          id: schedule.id,
          name: schedule.name,
          description: schedule.description,
          cron: schedule.cron,
          cronText: describeCron(schedule.cron),
          timezone: schedule.timezone,
          task: schedule.task,
          enabled,
          overlap: schedule.overlap,
          catchUp: schedule.catchUp,
          expireAtNextTick: schedule.expireAtNextTick,
          nextRunAt: enabled ? schedule.nextTick(new Date(now)) : null,
          lastTickAt: state?.lastTickAt === null || state === undefined ? null : new Date(state.lastTickAt),
          lastRun: lastRun ?? null,
        }
      }),
    )
  }

  /** One schedule with its state; `NotFoundError` for an unknown id. */
  async getSchedule(id: string): Promise<ScheduleInfo> {
    this.#schedules.get(id)
    return (await this.schedules()).find((s) => s.id === id)!
  }

  /** Turns a schedule on or off, for every process sharing the store. Ticks missed while off are not caught up. */
  async toggleSchedule(id: string, enabled: boolean): Promise<ScheduleInfo> {
    if (typeof enabled !== 'boolean') throw new ValidationError(`enabled: expected true or false, got ${describeValue(enabled)}`)
    await this.#schedulerOf(await this.#ready()).toggle(id, enabled)
    return this.getSchedule(id)
  }

  /** Enqueues a run of the schedule now (besides its ticks). A disabled schedule is a `ConflictError`. */
  async triggerSchedule(id: string, options: { readonly createdBy?: string } = {}): Promise<Run> {
    return this.#schedulerOf(await this.#ready()).trigger(id, options.createdBy ?? null)
  }

  /** Runs of a schedule, newest first (its history). */
  async scheduleRuns(id: string, filter: Omit<RunFilter, 'scheduleId'> = {}): Promise<RunPage> {
    this.#schedules.get(id)
    return this.listRuns({ ...filter, scheduleId: id })
  }

  #schedulerOf(store: Store): Scheduler {
    this.#scheduler ??= new Scheduler(
      {
        store,
        now: () => this.#clock(),
        prepare: async (schedule, tickAt, notAfter, createdBy) => {
          const task = this.#registry.get(schedule.task)
          if (task === undefined) throw new NotFoundError(`unknown task "${schedule.task}"`)
          const input = schedule.argsBuilder === undefined ? (schedule.args ?? {}) : await schedule.argsBuilder({ scheduleId: schedule.id, scheduledAt: new Date(tickAt ?? this.#clock()) })
          const args = parseArgs(task.fields, input)
          const settings = await this.#loadSettings()
          const options: EnqueueOptions = {
            ...schedule.options,
            label: schedule.options.label ?? schedule.name,
            category: 'system',
            scheduleId: schedule.id,
            ...(tickAt === null ? {} : { runAt: tickAt }),
            ...(notAfter === null ? {} : { notAfter }),
            ...(createdBy === null ? {} : { createdBy }),
          }
          checkEnqueueOptions(options)
          const row = newRunRow(task, args, options, { maxAttempts: settings.defaultMaxAttempts, label: DEFAULT_LABEL }, this.#clock())
          return tickAt === null ? row : { ...row, fireKey: fireKeyOf(schedule.id, tickAt) }
        },
        hasActiveRun: async (scheduleId) => (await store.listRuns({ scheduleId, status: ['pending', 'running', 'waiting'], pageSize: 1, count: false })).data.length > 0,
        created: (run) => {
          if (this.#bus.active) this.#bus.emit({ type: 'created', runId: run.id, task: run.task, poolId: run.poolId, time: run.createdAt, run })
        },
        onError: this.#onError,
      },
      this.#schedules,
    )
    return this.#scheduler
  }

  // ─── Settings and log backends ──────────────────────────────────────────────

  /**
   * Runtime settings, shared by every process on the store: worker concurrency (applied to
   * running workers), retention days, default attempts, log storage.
   *
   * @example
   * await engine.settings.update({ workerConcurrency: 20, runRetentionDays: 7 })
   */
  readonly settings = {
    /** The current settings (read from the store). */
    get: (): Promise<Settings> => this.#loadSettings(true),
    /** Changes some settings; unknown keys and bad values are a `ValidationError` naming each, and change nothing. */
    update: async (patch: Partial<Settings>): Promise<Settings> => {
      const change = checkSettingsPatch(patch, this.#backendNames())
      const store = await this.#ready()
      await store.saveSettings(change, this.#clock())
      const settings = await this.#loadSettings(true)
      await store.signal?.({ type: 'settings' }).catch((error: unknown) => this.#onError(coerceError(error)))
      return settings
    },
    /** Every setting with its title, description, constraints, default and value (for forms). */
    describe: async (): Promise<SettingInfo[]> => describeSettings(await this.#loadSettings(true), this.#defaultSettings(), this.logBackends()),
    /** The setting keys. */
    keys: (): readonly string[] => SETTING_KEYS,
  }

  /** Adds a place for log lines, chosen with the `logBackend` setting. A duplicate name is an error. */
  registerLogBackend(backend: LogBackend): this {
    checkLogBackend(backend)
    if (this.#logBackends.has(backend.name)) throw new ConflictError(`a log backend named "${backend.name}" is already registered`)
    this.#logBackends.set(backend.name, backend)
    return this
  }

  /** The log backends to choose from: the store, then the registered ones. */
  logBackends(): LogBackendInfo[] {
    return [STORE_LOG_BACKEND, ...[...this.#logBackends.values()].map((b) => ({ name: b.name, title: b.title, description: b.description }))]
  }

  #backendNames(): string[] {
    return [STORE_LOG_BACKEND.name, ...this.#logBackends.keys()]
  }

  #defaultSettings(): Settings {
    return defaultSettings(this.#defaultMaxAttempts)
  }

  /** The settings: cached, or read from the store (`fresh`); applies a changed worker concurrency. */
  #loadSettings(fresh = false): Promise<Settings> {
    if (!fresh && this.#settings !== undefined) return Promise.resolve(this.#settings)
    this.#settingsLoad ??= (async () => {
      const store = await this.#ready()
      const settings = mergeSettings(this.#defaultSettings(), await store.getSettings(), this.#backendNames())
      const before = this.#settings
      this.#settings = settings
      if (this.#worker !== undefined && before?.workerConcurrency !== settings.workerConcurrency) this.#worker.setConcurrency(settings.workerConcurrency)
      return settings
    })().finally(() => {
      this.#settingsLoad = undefined
    })
    return this.#settingsLoad
  }

  // ─── Internals ──────────────────────────────────────────────────────────────

  #ready(): Promise<Store> {
    if (this.#storeReady === undefined) {
      const option = this.#storeOption
      if (option === undefined) throw new ConflictError('this engine has no store: pass createEngine({ store }) for durable runs')
      const store = typeof option === 'function' ? option() : option
      this.#store = store
      this.#storeReady = store.ready().then(() => store)
    }
    return this.#storeReady
  }

  #emit(event: RunEvent): void {
    if (this.#bus.active) this.#bus.emit(event)
    if (this.#shareEvents && event.remote !== true) this.#share(event)
  }

  /**
   * Queues an event for other processes' live views; sent in batches, progress coalesced per run.
   * Log lines beyond {@link MAX_SHARED_LOGS} per batch are not pushed (views following a run read
   * them from the store); state changes always are.
   */
  #share(event: RunEvent): void {
    if (event.type === 'log') {
      if (this.#outboxLogs >= MAX_SHARED_LOGS) return
      this.#outboxLogs++
    } else if (event.type === 'progress') {
      const at = this.#outbox.findIndex((e) => e.type === 'progress' && e.runId === event.runId)
      if (at !== -1) this.#outbox.splice(at, 1)
    }
    const { run: _run, result: _result, ...light } = event as RunEvent & { run?: unknown; result?: unknown }
    this.#outbox.push(light as RunEvent)
    this.#outboxTimer ??= setTimeout(() => void this.#sendOutbox(), 200)
    this.#outboxTimer.unref()
  }

  async #sendOutbox(): Promise<void> {
    this.#outboxTimer = undefined
    const events = this.#outbox
    this.#outbox = []
    this.#outboxLogs = 0
    const store = this.#store
    if (events.length === 0 || store?.signal === undefined) return
    await store.signal({ type: 'events', origin: this.#processId, events: JSON.parse(JSON.stringify(events)) as unknown[] }).catch((error: unknown) => this.#onError(coerceError(error)))
  }

  /**
   * Marks this process as serving live views (the server calls it): other processes sharing a
   * store that can push (PostgreSQL) send it their run events, which subscribers here receive
   * with `remote: true`. The process announces itself in the store's worker table so that workers
   * know someone listens; {@link Engine.workers} lists it with concurrency 0 when it runs no worker. Returns the function that stops observing.
   */
  observe(): () => void {
    this.#observers++
    if (this.#observers === 1) this.#stopObserving = this.#startObserving()
    let stopped = false
    return () => {
      if (stopped) return
      stopped = true
      this.#observers--
      if (this.#observers === 0) {
        this.#stopObserving?.()
        this.#stopObserving = undefined
      }
    }
  }

  /** The row of this process in the worker table while it serves live views without a worker. */
  get #presenceId(): string {
    return `${this.#processId}:server`
  }

  async #announcePresence(): Promise<void> {
    // A worker in this process announces for both; otherwise the server announces itself.
    if (this.#worker !== undefined) return this.#worker.announce()
    const store = await this.#ready()
    await store.saveWorker({ id: this.#presenceId, host: hostname(), pid: process.pid, concurrency: 0, busy: 0, queues: null, tasks: this.list().map((t) => t.key), running: [], startedAt: this.#presenceSince, heartbeatAt: this.#clock(), observer: true })
  }

  #startObserving(): () => void {
    let unsubscribe: (() => void) | undefined
    let closed = false
    this.#presenceSince = this.#clock()
    const announce = (): Promise<void> => this.#announcePresence()
    const timer = setInterval(() => void announce().catch((error: unknown) => this.#onError(coerceError(error))), this.#heartbeatMs)
    timer.unref()
    void (async () => {
      try {
        const store = await this.#ready()
        if (closed) return
        await announce()
        unsubscribe = store.onSignal?.('events', (message) => {
          if (message.type !== 'events' || message.origin === this.#processId || !this.#bus.active) return
          for (const raw of message.events) this.#bus.emit(reviveEvent(raw))
        })
        // Workers elsewhere start sending events now rather than at their next heartbeat.
        await store.signalsListening?.('events')
        await store.signal?.({ type: 'observing', origin: this.#processId })
      } catch (error) {
        this.#onError(coerceError(error))
      }
    })()
    return () => {
      closed = true
      clearInterval(timer)
      unsubscribe?.()
      const store = this.#store
      if (store !== undefined) store.removeWorker(this.#presenceId).catch(() => undefined)
    }
  }

  async #descendantPools(store: Store, runId: string): Promise<string[]> {
    const pools: string[] = []
    for (const pool of await store.poolsOfRun(runId)) pools.push(...(await store.poolTree(pool.id)))
    return pools
  }

  async #cancelSelection(store: Store, selection: { ids?: readonly string[]; poolIds?: readonly string[] }, reason: string): Promise<void> {
    const outcome = await store.cancelRuns(selection, reason, this.#clock())
    for (const run of outcome.requested) this.#worker?.abort(run.id, new CancelledError(`cancelled: ${reason}`))
    // Runs executing in other processes hear of it at once where the store can push.
    const elsewhere = outcome.requested.filter((run) => this.#worker?.has(run.id) !== true).map((run) => run.id)
    if (elsewhere.length > 0 && store.signal !== undefined) await store.signal({ type: 'cancel', ids: elsewhere, reason })
    for (const run of outcome.cancelled) {
      this.#emit({ type: 'cancelled', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(this.#clock()), error: run.error, run })
    }
  }

  #poolEngine(): PoolEngine {
    return {
      enqueue: (task, args, options) => this.enqueue(task as string, args, options),
      enqueueMany: (task, argsList, options) => this.enqueueMany(task as string, argsList, options),
      createPool: async (pool) => (await this.#ready()).createPool({ ...pool, now: this.#clock() }),
      closePool: async (id) => (await this.#ready()).closePool(id, this.#clock()),
      getPool: async (id) => (await this.#ready()).getPool(id),
      poolCounts: async (id): Promise<PoolCounts> => (await this.#ready()).poolCounts(id, { tree: true }),
      cancelPool: async (id, reason) => {
        const store = await this.#ready()
        await this.#cancelSelection(store, { poolIds: await store.poolTree(id) }, reason)
      },
      poolChanged: (id) => this.#poolChanged(id),
      now: this.#clock,
    }
  }

  /** Resolves when a run of the pool tree settles here, or after the poll interval (runs elsewhere). */
  async #poolChanged(id: string): Promise<void> {
    const store = await this.#ready()
    const tree = new Set(await store.poolTree(id))
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, this.#pollIntervalMs)
      const unsubscribe = this.#bus.subscribe((event) => {
        if (event.poolId !== undefined && event.poolId !== null && tree.has(event.poolId) && SETTLING.has(event.type)) finish()
      })
      function finish(): void {
        clearTimeout(timer)
        unsubscribe()
        resolve()
      }
    })
  }

  #parseBatch(task: AnyTask, argsList: readonly ArgsInput[]): Record<string, unknown>[] {
    const list: unknown = argsList
    if (!Array.isArray(list)) throw new ValidationError(`expected an array of argument objects, got ${describeValue(argsList)}`)
    const parsed = new Array<Record<string, unknown>>(argsList.length)
    let issues: FieldIssue[] | undefined
    for (let i = 0; i < argsList.length; i++) {
      try {
        parsed[i] = parseArgs(task.fields, argsList[i])
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error
        const batchIssues = (issues ??= [])
        for (const issue of error.fields) batchIssues.push({ ...issue, key: `[${i}].${issue.key}`, message: `[${i}].${issue.message}` })
        if (error.fields.length === 0) batchIssues.push({ key: `[${i}]`, expected: 'an object', received: describeValue(argsList[i]), message: `[${i}]: ${error.message}` })
      }
    }
    if (issues !== undefined) throw new ValidationError('invalid arguments in batch', issues)
    return parsed
  }

  #resolve(taskOrKey: AnyTask | string): AnyTask {
    if (typeof taskOrKey === 'string') return this.#registry.require(taskOrKey)
    const registered = this.#registry.get(taskOrKey.key)
    if (registered !== taskOrKey) throw new NotFoundError(`task "${String(taskOrKey.key)}" is not registered on this engine`)
    return registered
  }

  #spec(task: AnyTask, label: string, options: RunOptions): RunSpec {
    return {
      task,
      label,
      attempt: 1,
      tags: options.tags ?? task.defaults.tags ?? [],
      timeoutMs: options.timeoutMs ?? task.timeoutMs,
      signal: options.signal,
      interruptible: false,
      hookTimeoutMs: this.#hookTimeoutMs,
      logLimits: this.#logLimits,
      emit: this.#emitter(options.onEvent),
      emitFinal: true,
      retainLogs: true,
      logSeqStart: 0,
      sink: undefined,
      poolId: null,
      durable: false,
      maxArtifactBytes: this.#maxArtifactBytes,
      openPool: this.#openPool,
      tracker: this.#inProcess,
      epoch: this.#inProcess.epoch,
    }
  }

  /** One function that feeds a run's events to its own listener and the subscribers; none when nobody listens. */
  #emitter(onEvent: RunEventListener | undefined): ((event: RunEvent) => void) | undefined {
    const bus = this.#bus
    const report = (error: unknown): void => this.#onError(coerceError(error))
    if (onEvent === undefined) return bus.active ? (event) => bus.emit(event) : undefined
    return (event) => {
      deliver(onEvent, event, report)
      if (bus.active) bus.emit(event)
    }
  }
}

/** Log lines pushed to other processes per 200 ms batch, at most. */
const MAX_SHARED_LOGS = 500

const SETTLING = new Set<RunEvent['type']>(['succeeded', 'failed', 'cancelled', 'retrying', 'deleted'])

/** An event received from another process: times back to Dates, marked remote. */
function reviveEvent(raw: unknown): RunEvent {
  const event: Record<string, unknown> = { ...(raw as Record<string, unknown>), remote: true }
  for (const key of ['time', 'runAt']) {
    const value = event[key]
    if (typeof value === 'string') event[key] = new Date(value)
  }
  return event as unknown as RunEvent
}

/** The parallelism a `maxConcurrent` value means: `0` → available parallelism, `-1` → 128. */
export function resolveConcurrency(value: number, what = 'concurrency'): number {
  checkConcurrency(value, what, ValidationError)
  return concurrencyOf(value)
}

const RUN_OPTION_KEYS: readonly string[] = ['label', 'timeoutMs', 'signal', 'onEvent', 'tags']
const RUN_ALL_OPTION_KEYS: readonly string[] = ['timeoutMs', 'signal', 'onEvent', 'tags', 'concurrency']

/** One bad option as a field issue, keyed `options.<name>` (or `key` when given). */
function optionIssue(name: string, expected: string, value: unknown, key = `options.${name}`): FieldIssue {
  const received = describeValue(value)
  return { key, expected, received, message: `${key}: expected ${expected}, got ${received}` }
}

/** Every problem with run options (unknown names included), as field issues. */
function runOptionIssues(options: unknown, known: readonly string[]): FieldIssue[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return [optionIssue('options', 'an object of run options', options, 'options')]
  const issues: FieldIssue[] = []
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      issues.push({ key: `options.${key}`, expected: `a known option (${known.join(', ')})`, received: describeValue(o[key]), message: `options.${key}: unknown option (known: ${known.join(', ')})` })
    }
  }
  const { label, timeoutMs, signal, onEvent, tags, concurrency } = o
  if (known.includes('label') && label !== undefined && (typeof label !== 'string' || label === '')) issues.push(optionIssue('label', 'a non-empty string', label))
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) issues.push(optionIssue('timeoutMs', 'a positive number of milliseconds', timeoutMs))
  if (signal !== undefined && !(signal instanceof AbortSignal)) issues.push(optionIssue('signal', 'an AbortSignal', signal))
  if (onEvent !== undefined && typeof onEvent !== 'function') issues.push(optionIssue('onEvent', 'a function', onEvent))
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t !== ''))) issues.push(optionIssue('tags', 'an array of non-empty strings', tags))
  if (known.includes('concurrency') && concurrency !== undefined) {
    try {
      checkConcurrency(concurrency, 'concurrency', ValidationError)
    } catch {
      issues.push(optionIssue('concurrency', 'a positive integer, 0 (available parallelism) or -1 (128)', concurrency))
    }
  }
  return issues
}

/**
 * Parses arguments with `parse`, and throws one `ValidationError` listing every bad argument
 * (as `parse` reports them) followed by every bad option; `parse`'s own error when only the
 * arguments are wrong.
 */
function withOptionIssues<T>(optionIssues: readonly FieldIssue[], message: string, parse: () => T): T {
  let parsed: T
  try {
    parsed = parse()
  } catch (error) {
    if (!(error instanceof ValidationError) || optionIssues.length === 0) throw error
    const argIssues: FieldIssue[] =
      error.fields.length > 0 ? [...error.fields] : [{ key: 'args', expected: 'an object of field values', received: undefined, message: error.message }]
    throw new ValidationError('invalid arguments and options', [...argIssues, ...optionIssues])
  }
  if (optionIssues.length > 0) throw new ValidationError(message, optionIssues)
  return parsed
}

function checkQueues(queues: unknown): void {
  if (Array.isArray(queues)) {
    if (queues.length === 0 || !queues.every((q) => typeof q === 'string' && q !== '')) throw new ValidationError(`queues: expected queue names, got ${describeValue(queues)}`)
    return
  }
  if (typeof queues !== 'object' || queues === null) throw new ValidationError(`queues: expected a list of names or { name: concurrency }, got ${describeValue(queues)}`)
  const entries = Object.entries(queues)
  if (entries.length === 0) throw new ValidationError('queues: expected at least one queue')
  for (const [name, limit] of entries) {
    if (!Number.isSafeInteger(limit) || (limit as number) < 0) throw new ValidationError(`queues.${name}: expected a concurrency >= 0 (0 = no queue limit), got ${describeValue(limit)}`)
  }
}

/** A run's status in a sentence: `has already succeeded`, `is already cancelled`, `is running`. */
export function statusPhrase(status: RunState): string {
  switch (status) {
    case 'succeeded':
    case 'failed':
      return `has already ${status}`
    case 'cancelled':
      return 'is already cancelled'
    case 'waiting':
      return 'is waiting on its child runs'
    default:
      return `is ${status}`
  }
}

/** The longest id a run or pool can have (generated ids have 36 characters). */
const MAX_ID_LENGTH = 100

function checkId(id: unknown, name = 'run id'): asserts id is string {
  if (typeof id !== 'string' || id === '') throw new ValidationError(`${name}: expected a non-empty string, got ${describeValue(id)}`)
  if (id.length > MAX_ID_LENGTH) throw new ValidationError(`${name}: expected at most ${MAX_ID_LENGTH} characters, got ${id.length.toLocaleString('en-US')} characters`)
}

function checkFilter(filter: RunFilter): void {
  if (typeof filter !== 'object' || filter === null) throw new ValidationError(`filter: expected an object, got ${describeValue(filter)}`)
  const statuses = filter.status === undefined ? [] : typeof filter.status === 'string' ? [filter.status] : filter.status
  for (const status of statuses) {
    if (!RUN_STATES.includes(status)) throw new ValidationError(`status: expected one of ${RUN_STATES.join(', ')}, got ${describeValue(status)}`)
  }
  if (filter.page !== undefined && (!Number.isSafeInteger(filter.page) || filter.page < 1)) throw new ValidationError(`page: expected an integer >= 1, got ${describeValue(filter.page)}`)
  if (filter.pageSize !== undefined && (!Number.isSafeInteger(filter.pageSize) || filter.pageSize < 1 || filter.pageSize > 1000)) {
    throw new ValidationError(`pageSize: expected an integer from 1 to 1000, got ${describeValue(filter.pageSize)}`)
  }
  for (const key of ['from', 'to'] as const) {
    const value = filter[key]
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) throw new ValidationError(`${key}: expected a valid Date, got ${describeValue(value)}`)
  }
  if (filter.before !== undefined) checkId(filter.before, 'before')
  if (filter.count !== undefined && typeof filter.count !== 'boolean') throw new ValidationError(`count: expected true or false, got ${describeValue(filter.count)}`)
}

function checkGrace(value: unknown): number {
  if (value === undefined) return 10_000
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ValidationError(`graceMs: expected a non-negative number, got ${describeValue(value)}`)
  return value
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) throw new ValidationError(`${name}: expected a positive integer, got ${describeValue(value)}`)
  return value
}
