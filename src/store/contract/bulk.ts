/**
 * Bulk jobs: one cancel, retry or delete applied to every run matching a filter, worked through
 * in batches by an engine, stored so that progress can be read anywhere and a job left running
 * by a process that stopped is picked up again from its cursor.
 */
import type { RunFilter } from './runs.js'

/** What a bulk job does to each run it selects. */
export type BulkAction = 'cancel' | 'retry' | 'delete'

/** Every bulk action. */
export const BULK_ACTIONS: readonly BulkAction[] = ['cancel', 'retry', 'delete']

/** Where a bulk job is: `running` until it went through its selection (`finished`), was cancelled, or `failed`. */
export type BulkState = 'running' | 'cancelled' | 'finished' | 'failed'

/** A bulk job as stored. */
export interface BulkJob {
  /** A UUIDv7 made by the engine. */
  readonly id: string
  readonly action: BulkAction
  /** The filter as given (plain JSON: the keys of `GET /api/runs`), shown back to people. */
  readonly filter: Readonly<Record<string, unknown>>
  /**
   * The newest matching run when the job was made (by id): runs enqueued later are never
   * swept in. `null` when nothing matched.
   */
  readonly upTo: string | null
  /** The last run id handled (ids ascend); `null` before the first batch. */
  readonly cursor: string | null
  /** Runs that matched when the job was made. */
  readonly total: number
  /** Runs the action was applied to. */
  readonly done: number
  /** Runs left alone: their state no longer allowed the action, or they no longer matched. */
  readonly skipped: number
  readonly state: BulkState
  /** Why it failed (`null` otherwise). */
  readonly error: string | null
  /** Who made it, if known. */
  readonly createdBy: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  /** When it left `running` (`null` before). */
  readonly finishedAt: Date | null
  /** The engine working through it now (`null` when none holds it). */
  readonly owner: string | null
  /** Until when {@link owner} holds it; after that any engine may pick it up. */
  readonly leaseExpiresAt: Date | null
}

/** A bulk job to store (state `running`, nothing done yet). */
export interface NewBulkJob {
  readonly id: string
  readonly action: BulkAction
  readonly filter: Readonly<Record<string, unknown>>
  readonly upTo: string | null
  readonly total: number
  readonly createdBy: string | null
  readonly now: number
}

/** What one batch changed. */
export interface BulkProgress {
  /** The last run id handled. */
  readonly cursor: string | null
  /** Runs done so far (the whole job's count, not the batch's). */
  readonly done: number
  /** Runs skipped so far. */
  readonly skipped: number
  /** The job ends with this batch. */
  readonly state?: 'finished' | 'failed'
  /** With `failed`: why. */
  readonly error?: string
  /** A corrected total (runs that came to match during the job raise it). */
  readonly total?: number
}

/** The runs a bulk job would select now. */
export interface BulkBound {
  /** Matching runs. */
  readonly count: number
  /** The newest of them by id (`null` when none). */
  readonly upTo: string | null
}

/** The bulk role: bulk jobs and the selection they walk. */
export interface BulkStore {
  /** Counts the runs matching `filter` (paging and sort ignored) and finds the newest by id. */
  bulkBound(filter: RunFilter): Promise<BulkBound>
  /**
   * Ids of runs matching `filter` with `after < id <= upTo` (`after` null: from the first),
   * ascending, at most `limit`: the next batch of a job, found by keyset, never by offset.
   */
  bulkSelection(filter: RunFilter, upTo: string, after: string | null, limit: number): Promise<string[]>
  /** Stores a new job, `running`, held by nobody. */
  insertBulkJob(job: NewBulkJob): Promise<BulkJob>
  getBulkJob(id: string): Promise<BulkJob | undefined>
  /** The newest jobs first, at most `limit`. */
  listBulkJobs(limit: number): Promise<BulkJob[]>
  /** Ids of `running` jobs nobody holds (no owner, or its lease ended before `now`). */
  orphanBulkJobs(now: number): Promise<string[]>
  /**
   * Takes a `running` job for `owner` until `now + leaseMs` when nobody holds it (or `owner`
   * already does); `undefined` when it is not running or held by another engine.
   */
  claimBulkJob(id: string, owner: string, now: number, leaseMs: number): Promise<BulkJob | undefined>
  /**
   * Saves a batch's progress and renews the lease, fenced by `owner` and state `running`:
   * `undefined` when the job was cancelled or taken meanwhile (stop working on it).
   */
  saveBulkProgress(id: string, owner: string, progress: BulkProgress, now: number, leaseMs: number): Promise<BulkJob | undefined>
  /** Lets go of a job `owner` holds (a graceful stop): another engine may take it at once. */
  releaseBulkJob(id: string, owner: string, now: number): Promise<void>
  /** `running` → `cancelled` (runs already handled stay as they are). Returns the job in whatever state, or `undefined` if unknown. */
  cancelBulkJob(id: string, now: number): Promise<BulkJob | undefined>
}
