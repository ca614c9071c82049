/**
 * Runs as the store keeps them and as users read them: states, attempts, the stored run, and
 * lists of runs. Times are `Date`s here; the store's own columns hold epoch milliseconds.
 */
import type { BackoffSpec } from '../../task/backoff.js'
import type { Progress, RunError } from '../../task/context.js'

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
  /** The worker that executed it (`null` when unknown). */
  readonly workerId: string | null
  /** When its handler started (or, for a claim that counted it, when it was claimed). */
  readonly startedAt: Date
  /** When it ended (for a lost worker: when the rescue noticed). */
  readonly finishedAt: Date
  /** How the attempt ended; `retry` means the run will be tried again. */
  readonly outcome: 'succeeded' | 'failed' | 'cancelled' | 'retry' | 'interrupted'
  /** What went wrong, if anything. */
  readonly error: RunError | null
}

/** A durable run as stored. */
export interface Run {
  /** A UUIDv7 made by the engine: ids sort by creation time. */
  readonly id: string
  /** The task's key. */
  readonly task: string
  /** A human label (the task's title unless the enqueue gave one). */
  readonly label: string
  /** The queue (lane) it waits in. */
  readonly queue: string
  /** Higher runs first among due runs. */
  readonly priority: number
  /** Where it is in its lifecycle. */
  readonly status: RunState
  /** Arguments as stored (JSON values; times as ISO strings). Validated again before each attempt. */
  readonly args: Readonly<Record<string, unknown>>
  /** Tags, as enqueued or as the handler set them last. */
  readonly tags: readonly string[]
  /** Who the run is for. */
  readonly category: RunCategory
  /** Who made it (a user name, `local`, a schedule), if known. */
  readonly createdBy: string | null
  /** While this run is active no other active run holds this key. */
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
  /**
   * The client's id of the request that made this run (the enqueue's `requestId`, e.g. an AMQP
   * message id), unique among all runs: a repeated request gets this run back. `null`: none.
   */
  readonly requestId: string | null
  /**
   * Its group under the task's per-key limit (`limits.groupConcurrency`): the enqueue's
   * `groupKey`, else the task's `limits.groupBy(args)`. `null`: the run is in no group.
   */
  readonly groupKey: string | null
  /** Attempts started so far (over the run's whole life). */
  readonly attempt: number
  /** Attempts allowed since the last manual retry. */
  readonly maxAttempts: number
  /** Attempts started before the last manual retry (they do not count against `maxAttempts`). */
  readonly attemptBase: number
  /** `null`: the engine's default (exponential from 1 s with jitter), or the task's own function. */
  readonly backoff: BackoffSpec | null
  /** Time limit of one attempt in ms; `null`: none. */
  readonly timeoutMs: number | null
  /** Earliest start. */
  readonly runAt: Date
  /** Expires (cancelled) if not started by then. */
  readonly notAfter: Date | null
  /** When it was enqueued first. */
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
  /** When it reached a final state (`null` before). */
  readonly finishedAt: Date | null
  /** When the store last changed it. */
  readonly updatedAt: Date
  /** The worker executing the run now, or the one that executed its final attempt. */
  readonly workerId: string | null
  /** Until when its worker holds it (`null` when no worker does). */
  readonly leaseExpiresAt: Date | null
  /** When a cancel was asked for (a running run stops at its worker's next look). */
  readonly cancelRequestedAt: Date | null
  /** Why it was cancelled, as the canceller said. */
  readonly cancelReason: string | null
  /** Who asked for the cancel: the HTTP caller's identity, `cli`, or what the engine's caller named (`null`: not said, or no cancel). */
  readonly cancelledBy: string | null
  /**
   * Whether the run executed in-process, in the process that started it (`engine.run` with
   * `record`: the admin UI's Run and live Start, `taskengine run --store`), rather than on a
   * worker. Such a run is stored `running` before its handler starts, has one attempt, and is
   * never claimed by a worker; if its process dies, the rescue ends it `failed`.
   */
  readonly inProcess: boolean
  /**
   * Where an in-process run was started (`admin`: the admin UI's Run, `admin-live`: its live
   * view, `cli`: `taskengine run`, `engine`: `engine.run` from code, or what the caller named).
   * `null` for durable runs.
   */
  readonly startedFrom: string | null
  /** The last progress its handler reported (saved at most every `progressIntervalMs`). */
  readonly progress: Progress | null
  /**
   * The handler's return value (JSON); while it runs, and after a failed, cancelled or retried
   * attempt, its partial result (`ctx.setResult`), if it set one.
   */
  readonly data: unknown
  /** Why it failed or was cancelled (or why its last attempt failed, while it waits to retry). */
  readonly error: RunError | null
  /** Its attempts so far, oldest first. */
  readonly attempts: readonly Attempt[]
  /** Log lines stored so far. */
  readonly logCount: number
  /** When it was deleted (lists leave it out; retention removes it later). */
  readonly deletedAt: Date | null
}

/**
 * Filters and paging of run lists. Every filter is optional and they all must hold; lists are
 * newest first.
 *
 * @example
 * store.listRuns({ status: ['failed', 'cancelled'], task: 'report', pageSize: 20 })
 */
export interface RunFilter {
  /** Runs in this state, or in any of these. */
  readonly status?: RunState | readonly RunState[]
  /** Runs of this task (key). */
  readonly task?: string
  /** Runs in this queue. */
  readonly queue?: string
  /** Runs with exactly this label. */
  readonly label?: string
  /** Runs carrying this tag. */
  readonly tag?: string
  /** Runs in this pool. */
  readonly poolId?: string
  /** Runs created by this run (through its pools). */
  readonly parentId?: string
  /** Runs enqueued by this schedule. */
  readonly scheduleId?: string
  /** Runs made by this creator. */
  readonly createdBy?: string
  /** Runs of this category. */
  readonly category?: RunCategory
  /** Created at or after. */
  readonly from?: Date
  /** Created before. */
  readonly to?: Date
  /** Text search (case-insensitive, `%` and `_` taken literally) in id, task, label and args. */
  readonly search?: string
  /**
   * Include soft-deleted runs.
   * @default false
   */
  readonly includeDeleted?: boolean
  /**
   * Page number from 1.
   * @default 1
   */
  readonly page?: number
  /**
   * Runs per page, 1–1000 (values outside are clamped).
   * @default 50
   */
  readonly pageSize?: number
  /**
   * Only runs older than this run (by creation order), for walking a long list page by page
   * without an offset: pass the id of the last run of the previous page (and leave `page` at 1).
   * A run no longer stored (deleted by retention meanwhile) still marks its place, by its id.
   */
  readonly before?: string
  /**
   * The order of the list: `-created` (newest first, the default), `created`, `due` / `-due`
   * (by `runAt`), `finished` / `-finished` (runs not finished last). Ties go by creation order.
   * `before` works with the default order only.
   * @default '-created'
   */
  readonly sort?: RunSort
  /**
   * Count every matching run for `total`; `false` skips that query and reports `total` as -1.
   * @default true
   */
  readonly count?: boolean
  /**
   * Count at most this many matching runs: counting reads every matching run, a few hundred
   * milliseconds for a million, while a page of the newest reads only its own. When this many or
   * more match, `total` is this number and `totalCapped` is true. Without it, every run counts.
   */
  readonly countLimit?: number
  /**
   * Examine at most this many runs: the newest, or the newest older than `before`, in creation
   * order; the page and `total` are the matches among them. For a text `search` over a big
   * store, which no index serves: each request reads a bounded slice, and `scanBefore` on the
   * page continues the search in the next. Works with the default order only, as `before` does.
   * @default every run
   */
  readonly scanLimit?: number
}

/** One page of runs. */
export interface RunPage {
  /** The runs of this page, newest first. */
  readonly data: readonly Run[]
  /** Runs matching the filter on every page (`-1` when not counted; at most `countLimit`). */
  readonly total: number
  /** True when `total` stopped at the filter's `countLimit`: at least that many match. */
  readonly totalCapped?: boolean
  /**
   * With `scanLimit`, when older runs were left unexamined: pass it as `before` (with the same
   * filter) to go on with the runs older than those examined. Absent when the scan reached the
   * oldest run.
   */
  readonly scanBefore?: string
  /** This page's number, from 1. */
  readonly page: number
  /** Runs per page, as clamped. */
  readonly pageSize: number
}

/** The orders a run list may have (see {@link RunFilter.sort}). */
export type RunSort = 'created' | '-created' | 'due' | '-due' | 'finished' | '-finished'

/** Every {@link RunSort}. */
export const RUN_SORTS: readonly RunSort[] = ['-created', 'created', 'due', '-due', 'finished', '-finished']
