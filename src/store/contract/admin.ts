/**
 * The admin role: what the API, the admin UI and the CLI read and steer. Reads of runs, their
 * logs and counts; cancel, retry and delete.
 */
import type { LogEntry } from '../../task/context.js'
import type { Run, RunFilter, RunPage, RunState } from './runs.js'

/** Which runs {@link AdminStore.cancelRuns} cancels. */
export interface CancelSelection {
  /** These runs. */
  readonly ids?: readonly string[]
  /** Every active run in these pools. */
  readonly poolIds?: readonly string[]
}

/** Result of a cancel request. */
export interface CancelOutcome {
  /** Runs now `cancelled` (they were pending). */
  readonly cancelled: readonly Run[]
  /** Runs executing now, asked to stop; they end `cancelled` when their handler stops. */
  readonly requested: readonly Run[]
}

/** One queue's counts in {@link StoreStats}. */
export interface QueueStats {
  /** The queue. */
  readonly queue: string
  /** Pending runs, due or not. */
  readonly pending: number
  /** Running or waiting. */
  readonly running: number
  /** When the longest-waiting pending run became due (`null` without pending runs due). */
  readonly oldestPendingAt: Date | null
  /** The earliest `runAt` of its pending runs, due or not (`null` without pending runs). */
  readonly nextDueAt: Date | null
}

/** Counts for dashboards and metrics. Deleted runs are not counted. */
export interface StoreStats {
  /** Runs by status. */
  readonly statuses: Readonly<Record<RunState, number>>
  /** Queues with pending or running runs, by name. */
  readonly queues: readonly QueueStats[]
}

/** Finished runs per time bucket. */
export interface ThroughputBucket {
  /** The bucket's start. */
  readonly start: Date
  /** Runs that succeeded in it. */
  readonly succeeded: number
  /** Runs that failed in it. */
  readonly failed: number
  /** Runs cancelled in it. */
  readonly cancelled: number
}

/** What {@link AdminStore.flowUsage} counts. */
export interface FlowUsageQuery {
  /** Rate-limit keys (`task:<key>`, `queue:<name>`) with the start of their current window (starts after it count). */
  readonly rates: readonly { readonly key: string; readonly since: number }[]
  /** Tasks whose pending and running runs to count. */
  readonly tasks: readonly string[]
  /** Grouped tasks whose runs to count per group key. */
  readonly grouped: readonly string[]
  /** At most this many groups per grouped task (those with the most pending runs). */
  readonly groupsLimit: number
}

/** Runs of one group of a grouped task. */
export interface GroupUsage {
  readonly task: string
  readonly groupKey: string
  readonly pending: number
  readonly running: number
}

/** The usage of limits across workers, as {@link AdminStore.flowUsage} counted it. */
export interface FlowUsage {
  /** Starts in the current window per rate-limit key. */
  readonly starts: ReadonlyMap<string, number>
  /** Pending runs per task asked for. */
  readonly pending: ReadonlyMap<string, number>
  /** Running runs per task asked for. */
  readonly running: ReadonlyMap<string, number>
  /** The busiest groups of each grouped task. */
  readonly groups: readonly GroupUsage[]
  /** How many groups each grouped task has with pending or running runs. */
  readonly groupCounts: ReadonlyMap<string, number>
}

/** The admin role: reads and steering. */
export interface AdminStore {
  /** A run by id; deleted runs only with `includeDeleted`. */
  getRun(id: string, options?: { readonly includeDeleted?: boolean }): Promise<Run | undefined>
  /** One page of the runs matching `filter`, newest first. */
  listRuns(filter: RunFilter): Promise<RunPage>
  /** Log lines of a run with `seq > after`, oldest first, at most `limit`. */
  getLogs(runId: string, after: number, limit: number): Promise<LogEntry[]>
  /** Run counts by status and by queue. `now` decides which pending runs are due. */
  stats(now: number): Promise<StoreStats>
  /** Runs finished since `since` (and not deleted), counted per `bucketMs`, oldest bucket first, empty buckets included. */
  throughput(since: number, until: number, bucketMs: number): Promise<ThroughputBucket[]>
  /** The usage of limits across workers (for operators: the engine's queue and task reports). */
  flowUsage(query: FlowUsageQuery): Promise<FlowUsage>
  /**
   * Cancels runs: pending (or scheduled) ones at once, running and waiting ones by request (their
   * workers hear of it at their next heartbeat, or by signal). `ids` selects runs; `poolIds` adds
   * every active run in those pools. A run asked before is not asked again. `by` (who asks: an
   * identity, `cli`) is kept with the run as `cancelledBy`.
   */
  cancelRuns(selection: CancelSelection, reason: string, now: number, by?: string | null): Promise<CancelOutcome>
  /**
   * Failed or cancelled → pending with a fresh attempt budget and no cancel request.
   * Returns the run, or `undefined` when it is not in a retryable state or executed in-process
   * (`Run.inProcess`: a worker must not execute it again). Rejects with a
   * `ConflictError` when another active run holds its unique key.
   */
  retryRun(id: string, now: number): Promise<Run | undefined>
  /** Soft-deletes a run (a pending one is cancelled so it never executes; an active one gets a cancel request). Returns it, or `undefined` if unknown. */
  deleteRun(id: string, now: number): Promise<Run | undefined>
}
