/**
 * The maintenance role: what keeps a store healthy while workers come and go. The rescuer reads
 * expired leases and writes what it decided for each run (fenced by the token it read); overdue
 * runs expire; retention purges what is old enough.
 *
 * Where the store elects a leader ({@link LeaderElection}), one process maintains at a time;
 * otherwise every worker process does, so each of these must be safe to run concurrently.
 */
import type { BackoffSpec } from '../../task/backoff.js'
import type { RunError } from '../../task/context.js'
import type { Attempt, Run } from './runs.js'

/** A run whose lease expired, as {@link MaintenanceStore.expiredLeases} reads it. */
export interface ExpiredRun {
  /** The run. */
  readonly id: string
  /** The lease token it was read with: the rescue's write names it. */
  readonly token: string
  /** Its task's key (the rescuer looks up the task's retry policy). */
  readonly task: string
  /** Its queue. */
  readonly queue: string
  /** The pool it belongs to. */
  readonly poolId: string | null
  /** The worker that held it. */
  readonly workerId: string | null
  /** The lost attempt's number. */
  readonly attempt: number
  /** Attempts before its last manual retry. */
  readonly attemptBase: number
  /** Attempts allowed since its last manual retry. */
  readonly maxAttempts: number
  /** Its stored backoff policy. */
  readonly backoff: BackoffSpec | null
  /** When its attempt counted as started; `null`: its handler never ran (see {@link ClaimedRun.started}). */
  readonly startedAt: Date | null
  /** Whether a cancel was requested. */
  readonly cancelRequested: boolean
  /** The run's current error (from an earlier attempt), kept when the run goes back unstarted. */
  readonly error: RunError | null
}

/** What becomes of an expired run (fenced by the lease token it was read with). */
export interface RescueWrite {
  /** The run. */
  readonly id: string
  /** The lease token {@link MaintenanceStore.expiredLeases} read. */
  readonly token: string
  /** What the run becomes. */
  readonly status: 'pending' | 'failed' | 'cancelled'
  /** For `pending` after a counted attempt: when to try again (its backoff). */
  readonly runAt?: number
  /** The run's error (ignored for `pending` with `attempt: null`, which keeps the run's own). */
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

/** Pending runs of one task on one queue; see {@link MaintenanceStore.pendingByTask}. */
export interface PendingTaskQueue {
  /** The task's key. */
  readonly task: string
  /** The queue. */
  readonly queue: string
  /** How many of its runs are pending (due or not). */
  readonly pending: number
  /** The earliest `runAt` among them: when the longest-waiting one became (or becomes) due. */
  readonly oldestRunAt: Date
}

/**
 * Runs to fail because no live worker serves their task on their queue; see
 * {@link MaintenanceStore.failUnserved}.
 */
export interface UnservedFailure {
  /** The task's key. */
  readonly task: string
  /** The queue. */
  readonly queue: string
  /** Pending runs of the task on the queue due at or before this time (epoch ms, `runAt`) fail. */
  readonly dueBy: number
  /** The error they fail with (`ERR_NO_WORKER`). */
  readonly error: RunError
}

/** What retention would delete now; see {@link MaintenanceStore.countPurgeable}. */
export interface PurgeableCounts {
  /** Runs {@link MaintenanceStore.purgeRuns} would delete. */
  readonly runs: number
  /** Stored log lines {@link MaintenanceStore.purgeLogs} would delete, not counting those of the runs above. */
  readonly logLines: number
}

/** The maintenance role: rescue, expiry, retention. */
export interface MaintenanceStore {
  /**
   * Runs whose lease expired before `now` (their worker died or hung), oldest lease first, at
   * most `limit`: what the rescuer needs to decide each one's fate (see {@link rescueRuns}).
   */
  expiredLeases(now: number, limit: number): Promise<ExpiredRun[]>
  /**
   * Writes the rescuer's decisions, each fenced by the lease token it read (a run renewed,
   * rescued or finished since is left alone, and not returned). A cancel requested since the
   * read wins over a `pending` decision, as it does over a worker's retry. Returns the runs as
   * written; runs back to `pending` wake workers.
   */
  rescueRuns(writes: readonly RescueWrite[]): Promise<Run[]>
  /** Pending runs past their `notAfter`: `cancelled` as expired (`ERR_EXPIRED`, reason `expired`). Returns them. */
  expireOverdue(now: number): Promise<Run[]>
  /**
   * Pending runs (due or not, deleted ones aside) counted per task and queue, with the earliest
   * `runAt` of each: what the engine checks against the live workers to find runs nobody can
   * execute.
   */
  pendingByTask(): Promise<PendingTaskQueue[]>
  /**
   * In one statement: every pending run of each target's task on its queue whose `runAt` is at
   * or before the target's `dueBy` ends `failed` at `now` with the target's error, without an
   * attempt (its handler never ran) and whatever attempts it had left. Returns them.
   */
  failUnserved(targets: readonly UnservedFailure[], now: number): Promise<Run[]>
  /**
   * Deletes up to `limit` finished runs (succeeded, failed, cancelled) that finished before
   * `before`, and deleted runs deleted before it, oldest first, with their log lines and
   * artifacts, in one transaction. A batch ends early when its runs' log lines would pass ten per
   * run of `limit` (the first run always goes, however many it has), so only an empty answer
   * means nothing is left to purge. Returns their ids.
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
   * Deletes flow-control state nothing reads any more: throttle windows that ended before `now`,
   * starts older than any rate window (a day and its margin) before `now`, and the last-served
   * times of groups not served since `before` (such a group counts as never served). Returns how
   * many rows went.
   */
  purgeFlowState(now: number, before: number): Promise<number>
  /**
   * Deletes bulk jobs that ended (finished, cancelled or failed) before `before`; a `running`
   * job is never deleted, however old. Returns how many went.
   */
  purgeBulkJobs(before: number): Promise<number>
  /**
   * What {@link purgeRuns} and {@link purgeLogs} would delete now: runs purgeable at
   * `runsBefore`, and log lines purgeable at `logsBefore` that do not go with those runs (`null`:
   * that kind is not purged). For retention's progress.
   */
  countPurgeable(runsBefore: number | null, logsBefore: number | null): Promise<PurgeableCounts>
}
