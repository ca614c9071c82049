/**
 * The queue role: what workers and enqueuers need on the hot path. Runs go in (`insertRuns`),
 * workers take them (`claimRuns`), write what happens in batches fenced by lease tokens
 * (`writeBatch`) and keep their leases alive (`renewLeases`).
 *
 * Every write a worker makes to a run it executes is fenced by the run's lease token: when the
 * token no longer matches (the run was rescued, cancelled and retried, deleted), the write changes
 * nothing and the run is reported back as fenced.
 */
import type { BackoffSpec } from '../../task/backoff.js'
import type { RateLimit } from '../../task/limits.js'
import type { LogLevel, Progress, RunError } from '../../task/context.js'
import type { Attempt, Run, RunCategory } from './runs.js'

/** A run to insert. The engine fills every value. */
export interface NewRun {
  /** A UUIDv7 (ids sort by creation time). */
  readonly id: string
  /** The task's key. */
  readonly task: string
  /** A human label. */
  readonly label: string
  /** The queue it waits in. */
  readonly queue: string
  /** Higher runs first among due runs. */
  readonly priority: number
  /** JSON text of the validated arguments. */
  readonly args: string
  /** Hash of the canonical arguments, when the task reuses results. */
  readonly argsHash: string | null
  /** Tags. */
  readonly tags: readonly string[]
  /** Who the run is for. */
  readonly category: RunCategory
  /** Who made it, if known. */
  readonly createdBy: string | null
  /** While the run is active, an insert with the same key returns it instead of adding a run. */
  readonly uniqueKey: string | null
  /** The run that created this one through a pool. */
  readonly parentId: string | null
  /** The pool it belongs to. */
  readonly poolId: string | null
  /** The schedule that enqueued it. */
  readonly scheduleId: string | null
  /** The schedule tick the run is for; unique among all runs (an insert that repeats one returns the run holding it). */
  readonly fireKey?: string | null
  /**
   * The client's id of the request that made the run (the enqueue's `requestId`), unique among
   * all runs: an insert that repeats one returns the run holding it, whatever its status.
   */
  readonly requestId?: string | null
  /** Attempts allowed. */
  readonly maxAttempts: number
  /** The stored backoff policy (`null`: the engine's default, or the task's own function). */
  readonly backoff: BackoffSpec | null
  /** Time limit of one attempt in ms. */
  readonly timeoutMs: number | null
  /** Earliest start, epoch ms. */
  readonly runAt: number
  /** Expires (cancelled) if not started by then, epoch ms. */
  readonly notAfter: number | null
  /** Creation time, epoch ms (also its first `enqueuedAt` and `updatedAt`). */
  readonly createdAt: number
  /**
   * Its group under the task's per-key limit (`limits.groupBy`, or the enqueue's `groupKey`):
   * at most the task's `groupConcurrency` runs of one key run at once. `null`: no group.
   */
  readonly groupKey?: string | null
  /**
   * Debounce: while a run of this task with the same key is pending, the insert replaces that
   * run's arguments (and label, tags, priority) and moves its start to `runAt` instead of adding
   * a run; the outcome is that run with `created: false`. Atomic under concurrent inserts.
   */
  readonly debounceKey?: string | null
  /**
   * Throttle: while an earlier run of this task took the key less than `ms` ago, the insert
   * returns that run (`created: false`) instead of adding one; else the new run takes the key
   * for `ms` from its creation. Atomic under concurrent inserts.
   */
  readonly throttle?: { readonly key: string; readonly ms: number } | null
  /**
   * The W3C `traceparent` of the span that enqueued the run (OpenTelemetry), handed back with
   * each claim so the worker's span continues that trace in any process. `null`: none.
   */
  readonly traceparent?: string | null
  /** The W3C `tracestate` that goes with {@link traceparent}. `null`: none. */
  readonly tracestate?: string | null
}

/** Options of {@link QueueStore.insertRuns}. */
export interface InsertOptions {
  /**
   * A backend connection to insert through, inside the caller's own transaction (PostgreSQL: a
   * `pg` client between the caller's BEGIN and COMMIT), so a rolled-back transaction leaves no
   * run behind. Backends without such connections reject it with a `ValidationError`.
   */
  readonly client?: unknown
}

/** What {@link QueueStore.insertRunsAndClaim} did: each run's outcome, in order, and the runs the claim took. */
export interface InsertAndClaim {
  readonly outcomes: InsertOutcome[]
  readonly claimed: ClaimedRun[]
}

/** What an insert did with one new run. */
export interface InsertOutcome {
  /** The stored run: the new one, or the active run holding the same unique key. */
  readonly run: Run
  /** `false` when an active run with the same unique key (or the run with the same fire key or request id) was returned instead. */
  readonly created: boolean
}

/**
 * How a run executed in-process by its caller is stored (see {@link QueueStore.insertInProcessRun}):
 * already started, held under its own lease like a claimed run, so the caller writes its logs,
 * progress and completion through {@link QueueStore.writeBatch} and renews the lease with
 * {@link QueueStore.renewLeases}, fenced by `token` as a worker's writes are.
 */
export interface InProcessStart {
  /** The lease token every later write of the run names. */
  readonly token: string
  /** The process executing it (recorded as the run's `workerId`; it has no worker row). */
  readonly workerId: string
  /** When its handler starts, epoch ms. */
  readonly startedAt: number
  /** Its lease expiry, epoch ms: the process renews it while the handler runs. */
  readonly leaseUntil: number
  /** Where it was started (`Run.startedFrom`): `admin`, `admin-live`, `cli`, `engine`, … */
  readonly from: string
}

/** A claim request from a worker with free slots. */
export interface ClaimRequest {
  /** The claiming worker (recorded on the runs). */
  readonly workerId: string
  /** At most this many runs. */
  readonly limit: number
  /** The claim's time: runs due at or before it and not expired by it. */
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
  /**
   * Limits across every worker sharing the store: at most this many runs of the task `running`
   * at once (a task's `limits.concurrency`). The store counts the task's running runs inside
   * the claim's transaction, serialized with every other claim under the same limit, and claims
   * no more than the difference. Absent or empty: no such limit.
   */
  readonly globalTaskLimits?: ReadonlyMap<string, number>
  /** The same across every worker, per queue (the engine's `queues.<name>.concurrency`). */
  readonly globalQueueLimits?: ReadonlyMap<string, number>
  /**
   * Rate limits across every worker, per task: at most `max` runs of the task claimed in any
   * window of `perMs` ms. The store keeps the claim times of such runs (serialized like the
   * limits above), claims no more than the window allows, and reports when it opens again
   * through `onRateLimited`.
   */
  readonly taskRates?: ReadonlyMap<string, RateLimit>
  /** The same per queue. */
  readonly queueRates?: ReadonlyMap<string, RateLimit>
  /**
   * Per-key limits, per task: at most this many runs of one group key (`NewRun.groupKey`)
   * running at once across every worker. Among keys with room, the key served longest ago
   * goes first, then each key's runs in claim order. Runs without a key are not grouped.
   */
  readonly groups?: ReadonlyMap<string, number>
  /**
   * Called by the store, during the claim, with the earliest time (epoch ms) a run held back by
   * a rate limit (or filling one now) may be claimed: the worker claims again then.
   */
  readonly onRateLimited?: (at: number) => void
  /**
   * The claiming worker's clock. A claim under rate limits reads it once it holds their locks
   * and uses that as its time (`now`, and `leaseUntil` moved as much): a request made a while
   * before (one riding on a write batch) must not record its starts in the past, where they
   * would fall out of a window another claim already counted.
   */
  readonly clock?: () => number
}

/**
 * A run handed to a worker: what executing it needs (not the whole stored run: claims are the
 * hot path), plus the lease token that fences the worker's writes.
 */
export interface ClaimedRun {
  /** The run's id. */
  readonly id: string
  /** Its task's key. */
  readonly task: string
  /** Its label. */
  readonly label: string
  /** Its queue. */
  readonly queue: string
  /** The pool it belongs to. */
  readonly poolId: string | null
  /** Arguments as stored; validated again before the attempt. */
  readonly args: Readonly<Record<string, unknown>>
  /** Its tags. */
  readonly tags: readonly string[]
  /** This attempt's number (attempts started so far, this one included). */
  readonly attempt: number
  /** Attempts before its last manual retry (see {@link Run.attemptBase}). */
  readonly attemptBase: number
  /** Attempts allowed since its last manual retry. */
  readonly maxAttempts: number
  /** Its stored backoff policy. */
  readonly backoff: BackoffSpec | null
  /** Time limit of the attempt in ms. */
  readonly timeoutMs: number | null
  /** Log lines already stored (numbering continues after them). */
  readonly logCount: number
  /** The lease token of this claim: every write of this attempt names it. */
  readonly token: string
  /**
   * Whether the claim itself recorded this attempt as started (for runs with {@link attemptsLeftAfter} this one):
   * then the handler may be called at once, and a rescue spends the attempt. Otherwise (the
   * run is on its last attempt) the handler must not be called before a {@link StartWrite} for
   * this claim is stored: a run's handler is never called more often than its attempt budget
   * allows, even when its process dies with writes still buffered.
   */
  readonly started: boolean
  /** The trace context stored with the run ({@link NewRun.traceparent}); absent or `null`: none. */
  readonly traceparent?: string | null
  /** Its `tracestate` ({@link NewRun.tracestate}). */
  readonly tracestate?: string | null
}

/**
 * Whether a run has attempts left after its current one (`attempt`, counted from `attemptBase`).
 * A claim records the attempt as started exactly for these runs (`started_at` = the claim's
 * time); a run on its last attempt is claimed without a start, and its worker stores the start
 * before calling the handler. Both built-in stores apply the rule in SQL too (`attempt + 1 -
 * attempt_base < max_attempts`, read before the claim's increment).
 *
 * @example
 * attemptsLeftAfter({ attempt: 1, attemptBase: 0, maxAttempts: 3 }) // true
 * attemptsLeftAfter({ attempt: 3, attemptBase: 0, maxAttempts: 3 }) // false: the last one
 */
export function attemptsLeftAfter(run: { readonly attempt: number; readonly attemptBase: number; readonly maxAttempts: number }): boolean {
  return run.attempt - run.attemptBase < run.maxAttempts
}

/** How a worker ends one attempt. */
export interface Completion {
  /** The run. */
  readonly id: string
  /** The claim's lease token (fences the write). */
  readonly token: string
  /** `pending` retries the run at `runAt`. */
  readonly status: 'pending' | 'succeeded' | 'failed' | 'cancelled'
  /** When the attempt ended, epoch ms. */
  readonly finishedAt: number
  /** For `pending`: when to try again. */
  readonly runAt?: number
  /**
   * JSON text of the result data: for `succeeded`, what the handler returned (merged over its
   * partial result); otherwise its partial result (`ctx.setResult`), if it set one. A `pending`
   * completion (a retry) stores it too, and clears the data without it.
   */
  readonly data?: string
  /** The run's error (for `pending`: the failed attempt's, kept while it waits). */
  readonly error: RunError | null
  /** The last progress. */
  readonly progress: Progress | null
  /** The run's tags as the handler left them. */
  readonly tags: readonly string[]
  /** The attempt as it ended (its `startedAt` is stored as the run's start). */
  readonly attempt: Attempt
  /** Add this to the attempt base (an attempt that must not count against the budget: a `RetryLaterError`). */
  readonly refundAttempt?: boolean
}

/** A log line to append (fenced: written only while the token holds the run). */
export interface NewLogLine {
  /** The run. */
  readonly runId: string
  /** The claim's lease token. */
  readonly token: string
  /** The line's number within the run, from 1; a number already stored is skipped. */
  readonly seq: number
  /** When it was logged, epoch ms. */
  readonly time: number
  /** Its level. */
  readonly level: LogLevel
  /** Its text. */
  readonly message: string
}

/** A progress snapshot to save (fenced). */
export interface ProgressWrite {
  /** The run. */
  readonly id: string
  /** The claim's lease token. */
  readonly token: string
  /** The progress to store. */
  readonly progress: Progress
  /** The run's tags now. */
  readonly tags: readonly string[]
  /**
   * JSON text of the handler's partial result so far (`ctx.setResult`), stored as the run's data;
   * absent: the data stays as it is.
   */
  readonly result?: string
}

/**
 * The handler of a claimed run is about to start (fenced). Until this is stored, the run counts
 * as claimed but not started: a rescue returns it to `pending` without spending an attempt, so
 * the worker calls the handler only once this write is stored.
 */
export interface StartWrite {
  /** The run. */
  readonly id: string
  /** The claim's lease token. */
  readonly token: string
  /** When the handler starts, epoch ms. */
  readonly startedAt: number
}

/**
 * A claimed run waits in the worker's buffer for a slot (fenced): the start its claim recorded is
 * taken back, so that a rescue returns it unspent if the worker dies before starting it.
 */
export interface HoldWrite {
  /** The run. */
  readonly id: string
  /** The claim's lease token. */
  readonly token: string
}

/**
 * A claimed run handed back without its handler having run (fenced): `pending` again with the
 * claim's attempt taken back and nothing added to its attempt history (a stop, a run held too
 * long), or `cancelled` (a cancel reached it before it started). A cancel requested meanwhile
 * makes a `pending` release `cancelled`.
 */
export interface ReleaseWrite {
  /** The run. */
  readonly id: string
  /** The claim's lease token. */
  readonly token: string
  /** What the run becomes. */
  readonly status: 'pending' | 'cancelled'
  /** When, epoch ms. */
  readonly at: number
  /** The run's error when it ends `cancelled`. */
  readonly error: RunError | null
}

/** A waiting-state change of a run parked on a pool (fenced). */
export interface WaitWrite {
  /** The run. */
  readonly id: string
  /** The claim's lease token. */
  readonly token: string
  /** `true`: `waiting`; `false`: `running` again. */
  readonly waiting: boolean
}

/** Everything a worker writes at once (one transaction where the backend allows). */
export interface WriteBatch {
  /** Log lines to append. */
  readonly logs: readonly NewLogLine[]
  /** Progress snapshots (the last per run and token wins). */
  readonly progress: readonly ProgressWrite[]
  /** Waiting-state changes. */
  readonly waits: readonly WaitWrite[]
  /** Ended attempts (the first per run and token counts; a second is fenced). */
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
  /** The run. */
  readonly id: string
  /** The claim's lease token. */
  readonly token: string
  /** Lines written so far (the run's `logCount` never goes down). */
  readonly count: number
}

/** What a batch write did. */
export interface BatchOutcome {
  /** The runs claimed when the batch asked for a claim. */
  readonly claimed?: readonly ClaimedRun[]
  /** Ids whose token no longer matched: nothing was written for them. */
  readonly fenced: readonly string[]
}

/** A lease to renew. */
export interface Lease {
  /** The run. */
  readonly id: string
  /** The claim's lease token. */
  readonly token: string
}

/** What renewing leases found. */
export interface RenewOutcome {
  /** Runs whose cancellation was requested (by any process), with the canceller's reason. */
  readonly cancelRequested: readonly { readonly id: string; readonly reason: string | null }[]
  /** Runs this worker no longer holds (rescued, retried, deleted): stop them, write nothing. */
  readonly lost: readonly string[]
}

/** Tells a worker that runs may be available; see {@link QueueStore.onRunsAvailable}. */
export type WakeListener = () => void

/**
 * The queue role: enqueue, claim, write, renew. The engine's workers and enqueue use only this
 * (and a store's lifecycle), on the hot path: every method should be one statement or one
 * transaction, whatever the size of the batch.
 */
export interface QueueStore {
  /**
   * Inserts runs in one statement (or one transaction). A run whose unique key an active run
   * holds, or whose fire key any run holds, is not inserted: that run is returned instead.
   * Outcomes come in the order of `runs`.
   *
   * @example
   * const [{ run, created }] = await store.insertRuns([newRun], { client }) // inside the caller's transaction
   */
  insertRuns(runs: readonly NewRun[], options?: InsertOptions): Promise<InsertOutcome[]>
  /**
   * Optional: {@link insertRuns}, then a claim ({@link claimRuns}) in the same transaction: a
   * worker in the enqueuing process takes its runs with the enqueue's commit instead of a commit
   * of its own after the wake-up (one write transaction from enqueue to handler start instead of
   * two). Wakes workers ({@link onRunsAvailable}) only for inserted runs the claim did not take.
   * Backends that cannot share the transaction leave it out; the engine then inserts and wakes.
   */
  insertRunsAndClaim?(runs: readonly NewRun[], claim: ClaimRequest): Promise<InsertAndClaim>
  /**
   * Stores a run its caller executes in-process now (`engine.run` with `record`): `running`
   * at once, attempt 1, started and leased as `start` says, marked in-process (`Run.inProcess`,
   * `Run.startedFrom`). It never passes through `pending`, so no claim ever takes it; when its
   * lease expires the rescue ends it (its `maxAttempts` is 1: `failed`). The row's unique,
   * fire, group, debounce and throttle keys are ignored. Returns the stored run.
   *
   * @example
   * const run = await store.insertInProcessRun(row, { token, workerId, startedAt: now, leaseUntil: now + 30_000, from: 'cli' })
   */
  insertInProcessRun(run: NewRun, start: InProcessStart): Promise<Run>
  /** The newest run of `task` with `argsHash` that succeeded at or after `since` (and is not deleted), for result reuse. */
  findReusable(task: string, argsHash: string, since: number): Promise<Run | undefined>
  /**
   * Atomically takes pending runs for a worker: due (`runAt <= now`), not expired, of the tasks
   * and queues asked for, in claim order (priority, then `runAt`, then creation), within the
   * request's caps. Each becomes `running`, attempt +1, with the claim's fresh lease token,
   * `leaseUntil`, and a start time of `now` for runs with attempts left, none for runs on their
   * last attempt (see {@link ClaimedRun.started}). Never gives one run to two claimers.
   */
  claimRuns(request: ClaimRequest): Promise<ClaimedRun[]>
  /**
   * Writes logs, progress, holds, starts, waiting changes, completions and releases, fenced by
   * lease tokens, then the optional claim, as one transaction where the backend allows. A retry
   * or release back to `pending` wakes workers (see {@link onRunsAvailable}).
   */
  writeBatch(batch: WriteBatch): Promise<BatchOutcome>
  /** Extends the leases a worker holds; reports cancellations requested elsewhere and lost leases. */
  renewLeases(workerId: string, leases: readonly Lease[], leaseUntil: number): Promise<RenewOutcome>
  /**
   * Calls `listener` when runs were inserted or became pending (retried, rescued, released)
   * through this store object, and, where the backend pushes between processes, through others.
   * Returns the function that stops it.
   */
  onRunsAvailable(listener: WakeListener): () => void
  /**
   * How many write batches ({@link writeBatch}) a worker may have in flight at once: stores that
   * write in parallel (PostgreSQL, one connection each) keep more than one core busy.
   * @default 1
   */
  readonly parallelWrites?: number
}
