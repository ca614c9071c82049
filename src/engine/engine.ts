/**
 * The engine: a task registry plus every way to execute and steer runs — in-process (`run`,
 * `runAll`), durable (`enqueue`, workers, `cancel`/`retry`/`delete`, pools) — and one event
 * subscription for all of them. A façade: each method checks what it is given (`options.ts`) and
 * hands the work to the module named for it — `in-process/`, `durable/` (enqueue, the worker,
 * steering, pools), `events/` (the bus and the cross-process relay), `schedules/`, `settings/`.
 */
import { hostname } from 'node:os'
import { ConflictError, coerceError } from '../errors.js'
import type { LogEntry, PoolOptions, RunResult } from '../task/context.js'
import type { AnyTask, Task } from '../task/define.js'
import type { ArgsInput } from '../task/fields.js'
import { TaskRegistry, type TaskCategory } from '../task/registry.js'
import type { Schedule } from '../task/schedule.js'
import type { Artifact, ArtifactContent, Run, RunFilter, RunPage, Store, StoreStats, ThroughputBucket, WorkerCommandType, WorkerInfo } from '../store/types.js'
import { BulkJobs } from './durable/bulk-jobs.js'
import { Audit } from './access/audit.js'
import { Users } from './access/users.js'
import { RunControl } from './durable/control.js'
import { enqueueRuns, type EnqueueHost, type EnqueueOptions } from './durable/enqueue.js'
import type { PoolHandle } from './durable/pool.js'
import { Pools, type PoolReport } from './durable/pools.js'
import type { Worker, WorkerOptions } from './durable/worker.js'
import { startWorker } from './durable/start-worker.js'
import type { DeadWorker } from './durable/dead-workers.js'
import { Fleet } from './durable/fleet.js'
import type { UnservedRun, UnservedTask } from './durable/unserved.js'
import { EventBus } from './events/bus.js'
import { EventRelay } from './events/relay.js'
import type { RunEventFilter, RunEventListener } from './events/run-events.js'
import { newId } from './ids.js'
import { InProcessRuns } from './in-process/in-process.js'
import { RecordedRuns } from './in-process/recorded-runs.js'
import type { RunBatch } from './in-process/run-batch.js'
import { LazyStore, OPEN_DEFAULT_STORE, type DefaultStoreOpener } from './lazy-store.js'
import { checkBy, checkFilter, checkId, checkThroughputWindow, engineConfig, logPage, stopGraceMs } from './options.js'
import type { ArgsInputOf, EngineConfig, EngineOptions, RunAllOptions, RunOptions, StopOptions } from './options.js'
import { EngineSchedules } from './schedules/schedules.js'
import type { ScheduleInfo } from './schedules/scheduler.js'
import { LogBackendRegistry } from './settings/log-backend-registry.js'
import { FlowControl, type QueueFlow, type QueuePatch, type TaskFlow, type TaskPatch } from './flow/flow-control.js'
import { flowReport, type FlowReport, type QueueInfo } from './flow/report.js'
import { STORE_LOG_BACKEND, type LogBackend, type LogBackendInfo } from './settings/log-backends.js'
import { retentionSchedule, retentionTask } from './settings/retention.js'
import { SharedSettings, settingsFacade, type EngineSettings } from './settings/shared-settings.js'
import { Tracing } from './tracing/tracing.js'
import { readHistory, type History, type HistoryOptions } from './history/history.js'

// The types of the engine's signature, where callers of the engine look for them.
export { DEFAULT_LABEL, resolveConcurrency } from './options.js'
export type { ArgsInputOf, EngineOptions, RunAllOptions, RunOptions, StopOptions } from './options.js'
export type { PoolReport } from './durable/pools.js'
export type { DeadWorker, HeldRun, HeldRunFate } from './durable/dead-workers.js'
export type { UnservedRun, UnservedTask } from './durable/unserved.js'
export type { FlowReport, GroupInfo, QueueInfo, TaskFlowInfo } from './flow/report.js'

/** Run counts by status and queue, and the limits across workers with their usage. */
export interface EngineStats extends StoreStats {
  /** Every known queue and every task with limits (or paused), with their usage now. */
  readonly flow: FlowReport
}
export type { QueueFlow, QueuePatch, TaskFlow, TaskPatch } from './flow/flow-control.js'

/** The task engine. Create it with {@link createEngine}. */
export class Engine {
  readonly #registry = new TaskRegistry()
  readonly #config: EngineConfig
  readonly #bus: EventBus
  readonly #store: LazyStore
  readonly #ready: () => Promise<Store>
  readonly #now: () => number
  readonly #inProcess: InProcessRuns
  readonly #relay: EventRelay
  readonly #control: RunControl
  readonly #pools: Pools
  readonly #schedules: EngineSchedules
  readonly #logBackends = new LogBackendRegistry()
  readonly #settings: SharedSettings
  readonly #flow: FlowControl
  /** What enqueueing uses of the engine (one object, not one per call). */
  readonly #enqueueHost: EnqueueHost
  /** OpenTelemetry spans of enqueues and attempts (see `tracing/`). */
  readonly #tracing: Tracing
  /** The processes sharing the store: live, dead, commanded, and the tasks none of them serves. */
  readonly #fleet: Fleet
  #worker: Worker | undefined
  /**
   * Cancel, retry or delete every run matching a filter, in stored jobs worked through in
   * batches (`preview`, `start`, `get`, `list`, `cancel`; `resume` picks up jobs other engines left).
   */
  readonly bulk: BulkJobs
  /** The audit trail: who did what (`record`, `list`). */
  readonly audit: Audit
  /** The built-in users, their roles, API tokens and sessions. */
  readonly users: Users

  constructor(options: EngineOptions = {}) {
    const config = engineConfig(options)
    this.#config = config
    const onError = config.onError
    const bus = new EventBus((error) => onError(coerceError(error)))
    this.#bus = bus
    const tracing = new Tracing(config.tracing, onError)
    this.#tracing = tracing
    this.#store = new LazyStore(options.store, (options as { readonly [OPEN_DEFAULT_STORE]?: DefaultStoreOpener })[OPEN_DEFAULT_STORE])
    const ready = (): Promise<Store> => this.#store.ready()
    this.#ready = ready
    const clock = config.clock
    const now = (): number => clock()
    this.#now = now
    const worker = (): Worker | undefined => this.#worker
    this.#settings = new SharedSettings({
      store: ready,
      now,
      defaultMaxAttempts: config.defaultMaxAttempts,
      logBackends: this.#logBackends,
      concurrencyChanged: (settings) => this.#worker?.setConcurrency(settings.workerConcurrency),
      onError,
    })
    const settings = this.#settings
    this.#flow = new FlowControl({
      registry: this.#registry,
      queueDefaults: config.queueLimits,
      stored: () => settings.stored,
      reload: async () => {
        await settings.load(true)
        return settings.stored ?? {}
      },
      save: (values) => settings.save(values),
    })
    this.#relay = new EventRelay({
      bus,
      // This process, as other processes sharing the store see it.
      processId: `${hostname()}:${process.pid}:${newId().slice(-8)}`,
      heartbeatMs: config.heartbeatMs,
      now,
      store: ready,
      currentStore: () => this.#store.current,
      worker,
      taskKeys: () => this.list().map((t) => t.key),
      onError,
    })
    this.#enqueueHost = { store: ready, now, settings: this.#settings, bus, tracing, claimer: () => this.#worker?.claimer }
    this.#fleet = new Fleet({ store: ready, now, heartbeatMs: config.heartbeatMs, registry: this.#registry, unservedAfterMs: config.unservedAfterMs, worker, onError })
    const recorded = new RecordedRuns({ ...config, store: ready, now, logBackend: () => this.#logBackends.writeTo(this.#settings.current?.logBackend ?? STORE_LOG_BACKEND.name) })
    this.#control = new RunControl({ store: ready, now, worker: recorded.withLocal(worker), emit: (event) => this.#relay.emit(event) })
    this.bulk = new BulkJobs({ store: ready, now, control: this.#control, onError })
    this.audit = new Audit({ store: ready, now })
    this.users = new Users({ store: ready, now, audit: this.audit, options: options.users ?? {} })
    this.#pools = new Pools({
      store: ready,
      now,
      bus,
      pollIntervalMs: config.pollIntervalMs,
      enqueue: (task, args, enqueueOptions) => this.enqueue(task as string, args, enqueueOptions),
      enqueueMany: (task, argsList, enqueueOptions) => this.enqueueMany(task as string, argsList, enqueueOptions),
      cancelPool: (id, reason) => this.#control.cancelPool(id, reason),
      onError,
    })
    this.#inProcess = new InProcessRuns({ bus, hookTimeoutMs: config.hookTimeoutMs, logLimits: config.logLimits, maxArtifactBytes: config.maxArtifactBytes, openPool: this.#pools.open, tracing, recorded, onError })
    this.#schedules = new EngineSchedules({
      registry: this.#registry,
      bus,
      store: ready,
      now,
      register: (task) => this.register(task),
      settings: () => this.#settings.load(),
      listRuns: (filter) => this.listRuns(filter),
      onError,
    })
    if (options.tasks !== undefined) this.register(...options.tasks)
    for (const backend of options.logBackends ?? []) this.registerLogBackend(backend)
    if (options.retention !== false) {
      this.register(retentionTask({ store: ready, settings: () => this.#settings.load(true), logBackends: () => this.#logBackends.list(), now }, options.retention ?? {}))
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
   * failing handler never rejects: its error is in the result. `record: true` also stores it.
   *
   * @example
   * const result = await engine.run('backup', { format: 'tar' }, { label: 'nightly', timeoutMs: 60_000 })
   * if (result.status !== 'succeeded') console.error(result.error?.message)
   */
  run<A, R>(task: Task<A, R>, args?: ArgsInputOf<A>, options?: RunOptions): Promise<RunResult<R>>
  run(key: string, args?: ArgsInput, options?: RunOptions): Promise<RunResult>
  run(taskOrKey: AnyTask | string, args?: ArgsInput, options?: RunOptions): Promise<RunResult> {
    // Not async (an async frame around the run's own promise costs ticks on every call); a bad call still rejects.
    try {
      return this.#inProcess.run(this.#registry.resolve(taskOrKey), args, options)
    } catch (error) {
      return Promise.reject(coerceError(error))
    }
  }

  /**
   * Executes a task once per argument object, at most `maxConcurrent` at a time (the task's, or
   * `options.concurrency`): `0` = available CPU parallelism, `-1` = 128. Every argument object
   * is validated first; if any is invalid this throws a `ValidationError` listing each bad
   * field as `[index].key` and nothing runs. `await` the batch for results in input order, or
   * `for await` it for results in completion order as they finish.
   *
   * @example
   * for await (const result of engine.runAll('backup', 'batch', [{ format: 'sql' }, { format: 'tar' }])) {
   *   console.log(result.args.format, result.status)
   * }
   */
  runAll<A, R>(task: Task<A, R>, label: string, argsList: readonly ArgsInputOf<A>[], options?: RunAllOptions): RunBatch<R>
  runAll(key: string, label: string, argsList: readonly ArgsInput[], options?: RunAllOptions): RunBatch
  runAll(taskOrKey: AnyTask | string, label: string, argsList: readonly ArgsInput[], options: RunAllOptions = {}): RunBatch {
    return this.#inProcess.runAll(this.#registry.resolve(taskOrKey), label, argsList, options)
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
    const [run] = await enqueueRuns(this.#enqueueHost, this.#registry.resolve(taskOrKey), [args], options)
    return run!
  }

  /** Stores one durable run per argument object, in one statement. All are validated first; if any is invalid nothing is stored. */
  enqueueMany<A, R>(task: Task<A, R>, argsList: readonly ArgsInputOf<A>[], options?: EnqueueOptions): Promise<Run[]>
  enqueueMany(key: string, argsList: readonly ArgsInput[], options?: EnqueueOptions): Promise<Run[]>
  async enqueueMany(taskOrKey: AnyTask | string, argsList: readonly ArgsInput[], options: EnqueueOptions = {}): Promise<Run[]> {
    return enqueueRuns(this.#enqueueHost, this.#registry.resolve(taskOrKey), argsList, options)
  }

  /**
   * Starts a worker in this process: it claims durable runs and executes them, at most
   * `concurrency` at once (default 10). Resolves once the worker is registered. The worker keeps
   * the process alive until {@link stop} or {@link close} (`keepAlive: false` opts out).
   */
  async start(options: WorkerOptions = {}): Promise<void> {
    if (this.#worker !== undefined) throw new ConflictError('a worker is already running in this engine; stop() it first')
    await startWorker(
      {
        config: this.#config,
        registry: this.#registry,
        relay: this.#relay,
        settings: this.#settings,
        logBackends: this.#logBackends,
        pools: this.#pools,
        flow: this.#flow,
        tracing: this.#tracing,
        schedules: this.#schedules,
        store: this.#ready,
        stop: (worker) => (this.#worker === worker ? this.stop() : Promise.resolve()),
        adopt: (worker) => void (this.#worker = worker),
      },
      options,
    )
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
    const graceMs = stopGraceMs(options, 'engine.stop')
    if (worker === undefined) return
    await this.#schedules.stop()
    await worker.stop(graceMs)
    this.#worker = undefined
    // Still serving live views: say so without the worker's row.
    if (this.#relay.observing()) await this.#relay.announcePresence().catch((error: unknown) => this.#config.onError(coerceError(error)))
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
    const graceMs = stopGraceMs(options, 'engine.close')
    await Promise.all([this.stop(options), this.#inProcess.close(graceMs), this.bulk.stop()])
    await this.#relay.close()
    await this.#store.close()
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
    const { after, limit } = logPage(options)
    const settings = this.#settings
    // Lines live where the worker wrote them: the current backend first, then the others.
    return this.#logBackends.read(await this.#ready(), id, after, limit, async () => (settings.current ?? (await settings.load())).logBackend)
  }

  /**
   * Cancels a durable run: a pending one at once; a running one by firing its handler's signal
   * (in this process at once, in another within one heartbeat), after which it ends
   * `cancelled`. Cancels every run in the pools it opened, too. A finished run is a
   * `ConflictError`. `options.by` names who asks (kept as the run's `cancelledBy`).
   *
   * @example
   * await engine.cancel(run.id, 'wrong tenant', { by: 'ada' })
   */
  async cancel(id: string, reason = 'cancelled by request', options: { readonly by?: string } = {}): Promise<Run> {
    checkId(id)
    return this.#control.cancel(id, reason, checkBy(options.by))
  }

  /** Failed or cancelled → pending again, with a fresh attempt budget and the cancel request cleared. */
  async retry(id: string): Promise<Run> {
    checkId(id)
    return this.#control.retry(id)
  }

  /**
   * Soft-deletes a durable run. A pending run never executes; a running one is cancelled first.
   * Like {@link Engine.cancel}, it cancels every run in the pools it opened, and below them.
   */
  async delete(id: string): Promise<Run> {
    checkId(id)
    return this.#control.delete(id)
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
    return this.#pools.create(options)
  }

  /** A pool with its aggregate status (over the whole tree below it), its runs and the pools nested in it. */
  async getPool(id: string): Promise<PoolReport | undefined> {
    checkId(id)
    return this.#pools.report(id)
  }

  /** Run counts by status and by queue (depth, running, oldest pending). */
  async stats(): Promise<EngineStats> {
    const store = await this.#ready()
    const now = this.#now()
    // Limits as another process may have changed them: a worker here re-reads them at each
    // heartbeat (the view it claims under); without one, read them now.
    const [stats] = await Promise.all([store.stats(now), this.#worker === undefined || this.#settings.stored === undefined ? this.#settings.load(true) : undefined])
    const flow = await flowReport({ flow: this.#flow, tasks: this.#registry.list(), queueStats: stats.queues, now, flowUsage: (query) => store.flowUsage(query) })
    return { ...stats, flow }
  }

  /**
   * Every queue this engine knows of — those its tasks enqueue into, those with limits across
   * workers (in code or changed live), and those with runs in the store — idle ones included, by
   * name, with the limits that hold now, paused state, and what is pending, running and started
   * in the current rate window.
   */
  async queues(): Promise<QueueInfo[]> {
    return [...(await this.stats()).flow.queues]
  }

  /**
   * Changes a queue's limits across workers, live: every worker sharing the store applies them
   * within one heartbeat, and they are stored (they outlast restarts and override
   * `EngineOptions.queues`). `null` removes a limit; `paused: true` holds the queue's pending
   * runs (running ones finish). An unknown queue is a `NotFoundError`; a bad value a
   * `ValidationError` naming the field; either changes nothing.
   * @example await engine.updateQueue('mail', { concurrency: 5, rate: { max: 10, perMs: 1_000 }, paused: false })
   */
  async updateQueue(name: string, patch: QueuePatch): Promise<QueueFlow> {
    return this.#flow.updateQueue(name, patch, async (queue) => (await this.queues()).some((q) => q.name === queue))
  }

  /**
   * Changes a task's limits across workers, live and stored, as {@link updateQueue} does for a
   * queue (also `groupConcurrency`). An unregistered task is a `NotFoundError`.
   * @example await engine.updateTask('sync-tenant', { concurrency: 2, paused: false })
   */
  async updateTask(key: string, patch: TaskPatch): Promise<TaskFlow> {
    return this.#flow.updateTask(key, patch)
  }

  /** Finished runs per bucket over the last `windowMs` (default: an hour in 60 buckets of a minute). */
  async throughput(windowMs = 3_600_000, bucketMs = 60_000): Promise<ThroughputBucket[]> {
    checkThroughputWindow(windowMs, bucketMs)
    const until = Math.ceil((this.#now() + 1) / bucketMs) * bucketMs
    return (await this.#ready()).throughput(until - windowMs, until, bucketMs)
  }

  /**
   * Throughput, failures and (with `totals`) duration and wait percentiles over the last hour,
   * day or week, from the store's per-minute rollups.
   * @example await engine.history({ range: '24h', task: 'send-mail', totals: true })
   */
  async history(options: HistoryOptions = {}): Promise<History> {
    return readHistory(await this.#ready(), this.#now(), options)
  }

  /**
   * Live processes sharing the store (heartbeat within three heartbeat intervals): workers, and
   * servers that only serve live views (`observer: true`, concurrency 0; see {@link Engine.observe}).
   */
  async workers(): Promise<WorkerInfo[]> {
    return this.#fleet.workers()
  }

  /**
   * Asks worker `id` (on any machine sharing the store) to `quiet` (claim nothing more, finish
   * the runs it holds), `resume` (claim again) or `stop` (stop gracefully; see
   * {@link WorkerOptions.onStopRequested}). It applies the command within a heartbeat (at once on
   * PostgreSQL). Unknown id: `NotFoundError`; a dead worker, or a stopping one asked to quiet or
   * resume: `ConflictError`. Returns its row, the command on it.
   */
  async commandWorker(id: string, command: WorkerCommandType, options: { readonly by?: string } = {}): Promise<WorkerInfo> {
    return this.#fleet.command(id, command, options.by ?? null)
  }

  /**
   * Tasks with pending runs that no live worker serves on their queue (by task, then queue), with
   * when a worker serving them was last seen. Read at most once a second.
   */
  async unserved(): Promise<UnservedTask[]> {
    return this.#fleet.unserved()
  }

  /**
   * Why a pending run waits with nobody to execute it (since when, the last worker seen, when
   * `unservedAfterMs` fails it); `undefined` when a live worker serves it or it is not pending.
   */
  async unservedRun(run: Run): Promise<UnservedRun | undefined> {
    return this.#fleet.unservedRun(run)
  }

  /** Workers whose heartbeat stopped in the last day, last first, with the runs each held and what became of them. */
  async deadWorkers(): Promise<DeadWorker[]> {
    return this.#fleet.dead()
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

  /**
   * Marks this process as serving live views (the server calls it): other processes sharing a
   * store that can push (PostgreSQL) send it their run events, which subscribers here receive
   * with `remote: true`. The process announces itself in the store's worker table so that workers
   * know someone listens; {@link Engine.workers} lists it with concurrency 0 when it runs no worker. Returns the function that stops observing.
   */
  observe(): () => void {
    return this.#relay.observe()
  }

  // ─── Schedules ──────────────────────────────────────────────────────────────

  /**
   * Registers cron schedules (see `defineSchedule`). A duplicate id is an error; so is a task
   * that is neither registered nor given as a definition (a definition is registered with it).
   * Engines that run a worker fire them; any number of engines may share a store and still
   * enqueue one run per tick.
   */
  registerSchedule(...schedules: Schedule[]): this {
    this.#schedules.register(schedules)
    return this
  }

  /** Every registered schedule with its state: enabled, next and last tick, newest run. */
  async schedules(): Promise<ScheduleInfo[]> {
    return this.#schedules.list()
  }

  /** One schedule with its state; `NotFoundError` for an unknown id. */
  async getSchedule(id: string): Promise<ScheduleInfo> {
    return this.#schedules.get(id)
  }

  /** Turns a schedule on or off, for every process sharing the store. Ticks missed while off are not caught up. */
  async toggleSchedule(id: string, enabled: boolean): Promise<ScheduleInfo> {
    return this.#schedules.toggle(id, enabled)
  }

  /** Enqueues a run of the schedule now (besides its ticks). A disabled schedule is a `ConflictError`. */
  async triggerSchedule(id: string, options: { readonly createdBy?: string } = {}): Promise<Run> {
    return this.#schedules.trigger(id, options.createdBy ?? null)
  }

  /** Runs of a schedule, newest first (its history). */
  async scheduleRuns(id: string, filter: Omit<RunFilter, 'scheduleId'> = {}): Promise<RunPage> {
    return this.#schedules.runs(id, filter)
  }

  // ─── Settings and log backends ──────────────────────────────────────────────

  /**
   * Runtime settings, shared by every process on the store: worker concurrency (applied to
   * running workers), retention days, default attempts, log storage.
   *
   * @example
   * await engine.settings.update({ workerConcurrency: 20, runRetentionDays: 7 })
   */
  readonly settings: EngineSettings = settingsFacade(() => this.#settings)

  /** Adds a place for log lines, chosen with the `logBackend` setting. A duplicate name is an error. */
  registerLogBackend(backend: LogBackend): this {
    this.#logBackends.register(backend)
    return this
  }

  /** The log backends to choose from: the store, then the registered ones. */
  logBackends(): LogBackendInfo[] {
    return this.#logBackends.infos()
  }
}
