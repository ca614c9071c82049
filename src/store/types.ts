/**
 * The persistence contract every store backend implements (SQLite, PostgreSQL). The engine
 * depends on this file only; backends live in `store/sqlite/` and `store/postgres/` and pass
 * the same conformance suite (`test/store-conformance.ts`).
 *
 * Times are epoch milliseconds from the engine's clock; ids are UUIDv7 strings made by the
 * engine. Every write a worker makes to a run it executes is fenced by the run's lease token:
 * when the token no longer matches (the run was rescued, cancelled and retried, deleted), the
 * write changes nothing and the run is reported back as fenced.
 */
import type { BackoffSpec } from '../task/backoff.js'
import type { LogEntry, LogLevel, Progress, RunError } from '../task/context.js'

export type { BackoffSpec }

/** Every state of a durable run. */
export type RunState = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled'

/** The states a run can still change from (it may execute). */
export const ACTIVE_STATES: readonly RunState[] = ['pending', 'running', 'waiting']
/** The states a run ends in. */
export const FINAL_STATES: readonly RunState[] = ['succeeded', 'failed', 'cancelled']
/** Every state, in lifecycle order. */
export const RUN_STATES: readonly RunState[] = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled']

/** Who a run is for: `user` runs are started by people, `system` runs by schedules and maintenance. */
export type RunCategory = 'user' | 'system'

/** One try of a run, as recorded when it ended. */
export interface Attempt {
  /** The attempt number, from 1, over the run's whole life (retries continue counting). */
  readonly number: number
  readonly workerId: string | null
  readonly startedAt: Date
  readonly finishedAt: Date
  /** How the attempt ended; `pending` means it will be tried again. */
  readonly outcome: 'succeeded' | 'failed' | 'cancelled' | 'retry' | 'interrupted'
  readonly error: RunError | null
}

/** A durable run as stored. */
export interface Run {
  readonly id: string
  readonly task: string
  readonly label: string
  readonly queue: string
  readonly priority: number
  readonly status: RunState
  /** Arguments as stored (JSON values; times as ISO strings). Validated again before each attempt. */
  readonly args: Readonly<Record<string, unknown>>
  readonly tags: readonly string[]
  readonly category: RunCategory
  readonly createdBy: string | null
  readonly uniqueKey: string | null
  /** The run that created this one through a pool. */
  readonly parentId: string | null
  /** The pool this run belongs to. */
  readonly poolId: string | null
  /** The schedule that enqueued this run. */
  readonly scheduleId: string | null
  /**
   * The schedule tick this run is for (`<schedule id>@<tick time, ISO 8601>`), unique among all
   * runs: a tick can never get two runs. `null` for runs not enqueued by a tick.
   */
  readonly fireKey: string | null
  /** Attempts started so far (over the run's whole life). */
  readonly attempt: number
  /** Attempts allowed since the last manual retry. */
  readonly maxAttempts: number
  /** Attempts started before the last manual retry (they do not count against `maxAttempts`). */
  readonly attemptBase: number
  /** `null`: the engine's default (exponential from 1 s with jitter), or the task's own function. */
  readonly backoff: BackoffSpec | null
  readonly timeoutMs: number | null
  /** Earliest start. */
  readonly runAt: Date
  /** Expires (cancelled) if not started by then. */
  readonly notAfter: Date | null
  readonly createdAt: Date
  /** When it last became pending (created or retried). */
  readonly enqueuedAt: Date
  /**
   * When the latest attempt started (for a running run: when its claim counted it, or when its
   * worker stored its start). `null` while a claimed run has not reached its handler: held in its
   * worker's local buffer (see the worker's `prefetch`), or on its last attempt with its start
   * not stored yet. Such a run, when its worker dies, goes back to `pending` as if never claimed.
   */
  readonly startedAt: Date | null
  readonly finishedAt: Date | null
  readonly updatedAt: Date
  /** The worker executing the run now, or the one that executed its final attempt. */
  readonly workerId: string | null
  readonly leaseExpiresAt: Date | null
  readonly cancelRequestedAt: Date | null
  readonly cancelReason: string | null
  readonly progress: Progress | null
  /** The handler's return value (JSON). */
  readonly data: unknown
  readonly error: RunError | null
  readonly attempts: readonly Attempt[]
  /** Log lines stored so far. */
  readonly logCount: number
  readonly deletedAt: Date | null
}

/** A run to insert. The engine fills every value. */
export interface NewRun {
  readonly id: string
  readonly task: string
  readonly label: string
  readonly queue: string
  readonly priority: number
  /** JSON text of the validated arguments. */
  readonly args: string
  /** Hash of the canonical arguments, when the task reuses results. */
  readonly argsHash: string | null
  readonly tags: readonly string[]
  readonly category: RunCategory
  readonly createdBy: string | null
  readonly uniqueKey: string | null
  readonly parentId: string | null
  readonly poolId: string | null
  readonly scheduleId: string | null
  /** The schedule tick the run is for; unique among all runs (an insert that repeats one returns the run holding it). */
  readonly fireKey?: string | null
  readonly maxAttempts: number
  readonly backoff: BackoffSpec | null
  readonly timeoutMs: number | null
  readonly runAt: number
  readonly notAfter: number | null
  readonly createdAt: number
}

/** Options of {@link Store.insertRuns}. */
export interface InsertOptions {
  /**
   * A backend connection to insert through, inside the caller's own transaction (PostgreSQL: a
   * `pg` client between the caller's BEGIN and COMMIT), so a rolled-back transaction leaves no
   * run behind. Backends without such connections reject it.
   */
  readonly client?: unknown
}

/** What an insert did with one new run. */
export interface InsertOutcome {
  /** The stored run: the new one, or the active run holding the same unique key. */
  readonly run: Run
  /** `false` when an active run with the same unique key was returned instead. */
  readonly created: boolean
}

/** A claim request from a worker with free slots. */
export interface ClaimRequest {
  readonly workerId: string
  /** At most this many runs. */
  readonly limit: number
  readonly now: number
  /** The lease expiry to set. */
  readonly leaseUntil: number
  /** Only runs of these tasks (the ones this worker knows and has room for). */
  readonly tasks: readonly string[]
  /** Only runs in these queues; `undefined` means any queue. */
  readonly queues: readonly string[] | undefined
  /** Free slots per task with a limit; tasks not listed are only bound by `limit`. */
  readonly taskCaps: ReadonlyMap<string, number>
  /** Free slots per queue with a limit; queues not listed are only bound by `limit`. */
  readonly queueCaps: ReadonlyMap<string, number>
}

/**
 * A run handed to a worker: what executing it needs (not the whole stored run: claims are the
 * hot path), plus the lease token that fences the worker's writes.
 */
export interface ClaimedRun {
  readonly id: string
  readonly task: string
  readonly label: string
  readonly queue: string
  readonly poolId: string | null
  /** Arguments as stored; validated again before the attempt. */
  readonly args: Readonly<Record<string, unknown>>
  readonly tags: readonly string[]
  /** This attempt's number (attempts started so far, this one included). */
  readonly attempt: number
  readonly attemptBase: number
  readonly maxAttempts: number
  readonly backoff: BackoffSpec | null
  readonly timeoutMs: number | null
  /** Log lines already stored (numbering continues after them). */
  readonly logCount: number
  readonly token: string
  /**
   * Whether the claim itself recorded this attempt as started (for runs with {@link attemptsLeftAfter} this one):
   * then the handler may be called at once, and a rescue spends the attempt. Otherwise (the
   * run is on its last attempt) the handler must not be called before a {@link StartWrite} for
   * this claim is stored: a run's handler is never called more often than its attempt budget
   * allows, even when its process dies with writes still buffered.
   */
  readonly started: boolean
}

/**
 * Whether a run has attempts left after its current one (`attempt`, counted from `attemptBase`).
 * A claim records the attempt as started exactly for these runs (`started_at` = the claim's
 * time); a run on its last attempt is claimed without a start, and its worker stores the start
 * before calling the handler. Both stores apply the rule in SQL too (`attempt + 1 - attempt_base
 * < max_attempts`, read before the claim's increment).
 */
export function attemptsLeftAfter(run: { readonly attempt: number; readonly attemptBase: number; readonly maxAttempts: number }): boolean {
  return run.attempt - run.attemptBase < run.maxAttempts
}

/** How a worker ends one attempt. */
export interface Completion {
  readonly id: string
  readonly token: string
  /** `pending` retries the run at `runAt`. */
  readonly status: 'pending' | 'succeeded' | 'failed' | 'cancelled'
  readonly finishedAt: number
  /** For `pending`: when to try again. */
  readonly runAt?: number
  /** JSON text of the result data, for `succeeded`. */
  readonly data?: string
  readonly error: RunError | null
  readonly progress: Progress | null
  readonly tags: readonly string[]
  readonly attempt: Attempt
  /** Add this to the attempt base (an attempt that must not count against the budget: a `RetryLaterError`). */
  readonly refundAttempt?: boolean
}

/** A log line to append (fenced: written only while the token holds the run). */
export interface NewLogLine {
  readonly runId: string
  readonly token: string
  readonly seq: number
  readonly time: number
  readonly level: LogLevel
  readonly message: string
}

/** A progress snapshot to save (fenced). */
export interface ProgressWrite {
  readonly id: string
  readonly token: string
  readonly progress: Progress
  readonly tags: readonly string[]
}

/**
 * The handler of a claimed run is about to start (fenced). Until this is stored, the run counts
 * as claimed but not started: a rescue returns it to `pending` without spending an attempt, so
 * the worker calls the handler only once this write is stored.
 */
export interface StartWrite {
  readonly id: string
  readonly token: string
  readonly startedAt: number
}

/**
 * A claimed run waits in the worker's buffer for a slot (fenced): the start its claim recorded is
 * taken back, so that a rescue returns it unspent if the worker dies before starting it.
 */
export interface HoldWrite {
  readonly id: string
  readonly token: string
}

/**
 * A claimed run handed back without its handler having run (fenced): `pending` again with the
 * claim's attempt taken back and nothing added to its attempt history (a stop, a run held too
 * long), or `cancelled` (a cancel reached it before it started). A cancel requested meanwhile
 * makes a `pending` release `cancelled`.
 */
export interface ReleaseWrite {
  readonly id: string
  readonly token: string
  readonly status: 'pending' | 'cancelled'
  readonly at: number
  /** The run's error when it ends `cancelled`. */
  readonly error: RunError | null
}

/** A waiting-state change of a run parked on a pool (fenced). */
export interface WaitWrite {
  readonly id: string
  readonly token: string
  readonly waiting: boolean
}

/** Everything a worker writes at once (one transaction where the backend allows). */
export interface WriteBatch {
  readonly logs: readonly NewLogLine[]
  readonly progress: readonly ProgressWrite[]
  readonly waits: readonly WaitWrite[]
  readonly completions: readonly Completion[]
  /** Claimed runs held in the worker's buffer (written before `starts`). */
  readonly holds?: readonly HoldWrite[]
  /** Handlers about to start (see {@link StartWrite}). */
  readonly starts?: readonly StartWrite[]
  /** Claimed runs handed back unstarted (written after `completions`). */
  readonly releases?: readonly ReleaseWrite[]
  /** Claim more runs in the same transaction, after the writes (group commit of completions and the next claim). */
  readonly claim?: ClaimRequest
  /**
   * Log positions of runs whose lines went to a log backend outside the store: the runs'
   * `logCount` rises to them (fenced by token like every write), and no line is stored.
   */
  readonly logCounts?: readonly LogCount[]
}

/** How many log lines a run has written through a log backend outside the store. */
export interface LogCount {
  readonly id: string
  readonly token: string
  readonly count: number
}

/** What a batch write did. */
export interface BatchOutcome {
  /** The runs claimed when the batch asked for a claim. */
  readonly claimed?: readonly ClaimedRun[]
  /** Ids whose token no longer matched: nothing was written for them. */
  readonly fenced: readonly string[]
}

/** A run whose lease expired, as {@link Store.expiredLeases} reads it. */
export interface ExpiredRun {
  readonly id: string
  readonly token: string
  readonly task: string
  readonly queue: string
  readonly poolId: string | null
  /** The worker that held it. */
  readonly workerId: string | null
  readonly attempt: number
  readonly attemptBase: number
  readonly maxAttempts: number
  readonly backoff: BackoffSpec | null
  /** When its attempt counted as started; `null`: its handler never ran (see {@link ClaimedRun.started}). */
  readonly startedAt: Date | null
  readonly cancelRequested: boolean
  /** The run's current error (from an earlier attempt), kept when the run goes back unstarted. */
  readonly error: RunError | null
}

/** What becomes of an expired run (fenced by the lease token it was read with). */
export interface RescueWrite {
  readonly id: string
  readonly token: string
  readonly status: 'pending' | 'failed' | 'cancelled'
  /** For `pending` after a counted attempt: when to try again (its backoff). */
  readonly runAt?: number
  readonly error: RunError | null
  /**
   * The lost attempt, added to the run's history: its handler may have run, so it counts.
   * `null` when it never reached its handler: the run goes back as if never claimed (attempt
   * number taken back, history, `runAt` and, for `pending`, error unchanged).
   */
  readonly attempt: Attempt | null
  /** When the rescue happened (epoch ms). */
  readonly at: number
}

/** A lease to renew. */
export interface Lease {
  readonly id: string
  readonly token: string
}

/** What renewing leases found. */
export interface RenewOutcome {
  /** Runs whose cancellation was requested (by any process). */
  readonly cancelRequested: readonly { readonly id: string; readonly reason: string | null }[]
  /** Runs this worker no longer holds (rescued, retried, deleted): stop them, write nothing. */
  readonly lost: readonly string[]
}

/** Filters and paging of run lists. Every filter is optional; lists are newest first. */
export interface RunFilter {
  readonly status?: RunState | readonly RunState[]
  readonly task?: string
  readonly queue?: string
  readonly label?: string
  readonly tag?: string
  readonly poolId?: string
  readonly parentId?: string
  readonly scheduleId?: string
  readonly createdBy?: string
  readonly category?: RunCategory
  /** Created at or after. */
  readonly from?: Date
  /** Created before. */
  readonly to?: Date
  /** Text search in id, task, label and args. */
  readonly search?: string
  /** Include soft-deleted runs. Default: false. */
  readonly includeDeleted?: boolean
  /** Page number from 1. Default: 1. */
  readonly page?: number
  /** Runs per page, 1–1000. Default: 50. */
  readonly pageSize?: number
  /**
   * Only runs older than this run (by creation order), for walking a long list page by page
   * without an offset: pass the id of the last run of the previous page (and leave `page` at 1).
   * A run no longer stored (deleted by retention meanwhile) still marks its place, by its id.
   */
  readonly before?: string
  /** Count every matching run for `total`. Default: `true`; `false` skips that query and reports `total` as -1. */
  readonly count?: boolean
}

/** One page of runs. */
export interface RunPage {
  readonly data: readonly Run[]
  readonly total: number
  readonly page: number
  readonly pageSize: number
}

/** Result of a cancel request. */
export interface CancelOutcome {
  /** Runs now `cancelled` (they were pending). */
  readonly cancelled: readonly Run[]
  /** Runs executing now, asked to stop; they end `cancelled` when their handler stops. */
  readonly requested: readonly Run[]
}

/** An artifact to store (fenced by the lease token of the attempt writing it). */
export interface ArtifactWrite {
  readonly runId: string
  readonly token: string
  readonly name: string
  readonly contentType: string
  readonly data: Buffer
  readonly now: number
}

/** A stored artifact. */
export interface Artifact {
  readonly runId: string
  readonly name: string
  readonly contentType: string
  readonly size: number
  readonly createdAt: Date
}

/** A stored artifact with its bytes. */
export interface ArtifactContent extends Artifact {
  readonly data: Buffer
}

/** A pool of runs. */
export interface Pool {
  readonly id: string
  /** The run that opened it, if any. */
  readonly parentRunId: string | null
  /** The pool at the top of the tree this pool belongs to (itself for a root). */
  readonly rootId: string
  readonly label: string | null
  readonly createdAt: Date
  /** Set when all runs have been added (`close()`). */
  readonly closedAt: Date | null
}

/** Counts of runs in a pool (or a whole pool tree). */
export interface PoolCounts {
  readonly total: number
  readonly pending: number
  readonly running: number
  readonly waiting: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
  /** Sum of the progress percent of unfinished runs (for aggregate progress). */
  readonly progressSum: number
  readonly firstCreatedAt: Date | null
  readonly lastFinishedAt: Date | null
}

/** A live worker process as registered in the store. */
export interface WorkerInfo {
  readonly id: string
  readonly host: string
  readonly pid: number
  readonly concurrency: number
  readonly busy: number
  readonly queues: readonly string[] | null
  readonly tasks: readonly string[]
  readonly startedAt: Date
  readonly heartbeatAt: Date
  /** Ids of the runs it executes now. */
  readonly running: readonly string[]
  /**
   * The process serves live views and wants run events from the others (see
   * {@link Store.signal}). A process that only observes has concurrency 0.
   */
  readonly observer: boolean
}

/** What the store keeps of a schedule (the definition itself lives in code). */
export interface ScheduleState {
  readonly id: string
  readonly enabled: boolean
  /** The last tick handled (fired or skipped), epoch ms; `null` before the first. */
  readonly lastTickAt: number | null
  /** The run of the last tick that fired. */
  readonly lastRunId: string | null
  /** The next tick, as the process that handled the last one computed it. */
  readonly nextTickAt: number | null
  readonly updatedAt: number
}

/** See {@link Store.initSchedule}. */
export interface ScheduleInit {
  readonly id: string
  readonly enabled: boolean
  /** Ticks up to here count as handled (a new schedule does not catch up on the past). */
  readonly since: number
  readonly nextTickAt: number | null
  readonly now: number
}

/** See {@link Store.fireSchedule}. */
export interface ScheduleFire {
  readonly id: string
  readonly tickAt: number
  readonly nextTickAt: number | null
  /** The tick's run; `null` when the tick is skipped (overlap, disabled, missed). */
  readonly run: NewRun | null
  readonly now: number
}

/** What {@link Store.fireSchedule} did. */
export interface FireOutcome {
  /** Whether this call took the tick. */
  readonly fired: boolean
  /** The insert of the tick's run, when this call took the tick and had one. */
  readonly insert?: InsertOutcome
}

/** A message between processes sharing a store. */
export type StoreSignal =
  /** Stop these runs wherever they execute. */
  | { readonly type: 'cancel'; readonly ids: readonly string[]; readonly reason: string }
  /** Run events from the process `origin` (JSON-safe: times as ISO strings). */
  | { readonly type: 'events'; readonly origin: string; readonly events: readonly unknown[] }
  /** The process `origin` started serving live views: workers elsewhere start sending it events. */
  | { readonly type: 'observing'; readonly origin: string }
  /** Settings changed: every process reads them again. */
  | { readonly type: 'settings' }

/** Counts for dashboards and metrics. Deleted runs are not counted. */
export interface StoreStats {
  /** Runs by status. */
  readonly statuses: Readonly<Record<RunState, number>>
  /** Queues with pending or running runs. */
  readonly queues: readonly {
    readonly queue: string
    readonly pending: number
    /** Running or waiting. */
    readonly running: number
    /** When the longest-waiting pending run became due (`null` without pending runs due). */
    readonly oldestPendingAt: Date | null
    /** The earliest `runAt` of its pending runs, due or not (`null` without pending runs). */
    readonly nextDueAt: Date | null
  }[]
}

/** Finished runs per time bucket. */
export interface ThroughputBucket {
  readonly start: Date
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
}

/** Tells a worker that runs may be available; see {@link Store.onRunsAvailable}. */
export type WakeListener = () => void

/** The persistence contract. */
export interface Store {
  /** `sqlite` or `postgres`. */
  readonly kind: string
  /** Resolves when migrations have run and the store is usable. */
  ready(): Promise<void>
  close(): Promise<void>

  /** Inserts runs in one statement. Runs with a unique key held by an active run return that run. */
  insertRuns(runs: readonly NewRun[], options?: InsertOptions): Promise<InsertOutcome[]>
  /** The newest run of `task` with `argsHash` that succeeded at or after `since`. */
  findReusable(task: string, argsHash: string, since: number): Promise<Run | undefined>
  /**
   * Atomically takes pending runs for a worker: `running`, attempt +1, a fresh lease token, and a
   * start time of `now` for runs with attempts left, none for runs on their last attempt (see
   * {@link ClaimedRun.started}).
   */
  claimRuns(request: ClaimRequest): Promise<ClaimedRun[]>
  /** Writes logs, progress, holds, starts, waiting changes, completions and releases, fenced by lease tokens. */
  writeBatch(batch: WriteBatch): Promise<BatchOutcome>
  /** Extends the leases a worker holds; reports cancellations requested elsewhere and lost leases. */
  renewLeases(workerId: string, leases: readonly Lease[], leaseUntil: number): Promise<RenewOutcome>
  /**
   * Runs whose lease expired before `now` (their worker died or hung), oldest lease first, at
   * most `limit`: what the rescuer needs to decide each one's fate (see {@link rescueRuns}).
   */
  expiredLeases(now: number, limit: number): Promise<ExpiredRun[]>
  /**
   * Writes the rescuer's decisions, each fenced by the lease token it read (a run renewed,
   * rescued or finished since is left alone, and not returned). A cancel requested since the
   * read wins over a `pending` decision, as it does over a worker's retry. Returns the runs as
   * written.
   */
  rescueRuns(writes: readonly RescueWrite[]): Promise<Run[]>
  /** Pending runs past their `notAfter`: `cancelled` as expired. */
  expireOverdue(now: number): Promise<Run[]>

  getRun(id: string, options?: { readonly includeDeleted?: boolean }): Promise<Run | undefined>
  listRuns(filter: RunFilter): Promise<RunPage>
  /** Log lines of a run with `seq > after`, oldest first. */
  getLogs(runId: string, after: number, limit: number): Promise<LogEntry[]>
  /**
   * Cancels runs: pending (or scheduled) ones at once, running and waiting ones by request.
   * `ids` selects runs; `poolIds` adds every active run in those pools.
   */
  cancelRuns(selection: { readonly ids?: readonly string[]; readonly poolIds?: readonly string[] }, reason: string, now: number): Promise<CancelOutcome>
  /**
   * Failed or cancelled → pending with a fresh attempt budget and no cancel request.
   * Returns the run, or `undefined` when it is not in a retryable state.
   */
  retryRun(id: string, now: number): Promise<Run | undefined>
  /** Soft-deletes a run (a pending one is cancelled so it never executes). Returns it, or `undefined` if unknown. */
  deleteRun(id: string, now: number): Promise<Run | undefined>

  /**
   * Stores (or replaces) an artifact of a run, fenced like every worker write: only while
   * `token` is the run's lease token. Resolves to `false`, writing nothing, when it is not (the
   * run was rescued, retried, finished or deleted meanwhile).
   */
  putArtifact(artifact: ArtifactWrite): Promise<boolean>
  getArtifact(runId: string, name: string): Promise<ArtifactContent | undefined>
  listArtifacts(runId: string): Promise<Artifact[]>

  createPool(pool: { readonly id: string; readonly parentRunId: string | null; readonly parentPoolId: string | null; readonly label: string | null; readonly now: number }): Promise<Pool>
  closePool(id: string, now: number): Promise<void>
  getPool(id: string): Promise<Pool | undefined>
  /** Pools opened by a run (its children's pools). */
  poolsOfRun(runId: string): Promise<Pool[]>
  /** Counts of the pool's own runs, or with `tree` of every run in pools below it too. */
  poolCounts(id: string, options?: { readonly tree?: boolean }): Promise<PoolCounts>
  /** Ids of the pool and every pool below it. */
  poolTree(id: string): Promise<string[]>

  /** Run counts by status and by queue. `now` decides which pending runs are due. */
  stats(now: number): Promise<StoreStats>
  /** Runs finished since `since` (and not deleted), counted per `bucketMs`, oldest bucket first, empty buckets included. */
  throughput(since: number, until: number, bucketMs: number): Promise<ThroughputBucket[]>

  /** Registers or refreshes a worker process. */
  saveWorker(worker: Omit<WorkerInfo, 'startedAt' | 'heartbeatAt'> & { readonly startedAt: number; readonly heartbeatAt: number }): Promise<void>
  removeWorker(id: string): Promise<void>
  /** Workers with a heartbeat at or after `since`. */
  listWorkers(since: number): Promise<WorkerInfo[]>

  /**
   * Records a schedule the first time any process registers it (enabled as given, ticks handled
   * up to `since`); a known schedule keeps its state. Returns the stored state.
   */
  initSchedule(init: ScheduleInit): Promise<ScheduleState>
  /** Every schedule the store knows. */
  listSchedules(): Promise<ScheduleState[]>
  /**
   * Turns a schedule on or off. Turning it on counts the ticks up to `now` as handled: ticks
   * missed while it was off are never caught up.
   */
  setScheduleEnabled(id: string, enabled: boolean, now: number): Promise<ScheduleState | undefined>
  /**
   * Takes one tick of a schedule, atomically: when the tick is later than the last one handled,
   * it becomes the last one, and `run` (if any) is inserted in the same transaction. When another
   * process took the tick first (or a later one), nothing changes and `fired` is `false`.
   */
  fireSchedule(fire: ScheduleFire): Promise<FireOutcome>

  /** The stored runtime settings (JSON values by key). */
  getSettings(): Promise<Record<string, unknown>>
  /** Stores settings (JSON values by key), replacing those keys. */
  saveSettings(values: Readonly<Record<string, unknown>>, now: number): Promise<void>

  /**
   * Deletes up to `limit` finished runs (succeeded, failed, cancelled) that finished before
   * `before`, and deleted runs deleted before it, oldest first, with their log lines and
   * artifacts. Returns their ids.
   */
  purgeRuns(before: number, limit: number): Promise<string[]>
  /** Deletes up to `limit` stored log lines of runs that finished before `before`; returns how many. */
  purgeLogs(before: number, limit: number): Promise<number>
  /**
   * Deletes up to `limit` pools created before `before` that hold no runs (any more) and have no
   * pools below them; returns how many. Pools of a tree go leaves first, one level per call.
   */
  purgePools(before: number, limit: number): Promise<number>
  /**
   * What {@link Store.purgeRuns} and {@link Store.purgeLogs} would delete now: runs purgeable at
   * `runsBefore`, and log lines purgeable at `logsBefore` that do not go with those runs (`null`:
   * that kind is not purged). For retention's progress.
   */
  countPurgeable(runsBefore: number | null, logsBefore: number | null): Promise<{ readonly runs: number; readonly logLines: number }>

  /** Calls `listener` when runs were inserted or became pending through this store object (push wake-up). */
  onRunsAvailable(listener: WakeListener): () => void

  /**
   * Sends a signal to every process sharing the store, this one included (PostgreSQL:
   * NOTIFY). Absent when the backend has no push between processes: cancels then travel with
   * heartbeats, and other processes' events are not seen live.
   */
  signal?(message: StoreSignal): Promise<void>
  /**
   * How many write batches ({@link Store.writeBatch}) a worker may have in flight at once: stores that
   * write in parallel (PostgreSQL, one connection each) keep more than one core busy. Default 1.
   */
  readonly parallelWrites?: number
  /** Receives signals of one kind from every process; see {@link Store.signal}. */
  onSignal?(type: StoreSignal['type'], listener: (message: StoreSignal) => void): () => void
  /** Resolves once signals of this kind are being received (after {@link Store.onSignal}). */
  signalsListening?(type: StoreSignal['type']): Promise<void>
  /**
   * Whether this process leads periodic maintenance now (PostgreSQL: it holds an advisory
   * lock on a connection; when it dies another process takes over). Absent: every process
   * maintains (safe where maintenance statements are atomic, as in SQLite).
   */
  lead?(): Promise<boolean>
}
