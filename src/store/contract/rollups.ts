/**
 * The rollups role: finished runs folded into one row per minute, task and queue (counts by
 * outcome, retried attempts, duration and wait-time histograms with their maximum), kept for the
 * `rollupRetentionDays` setting, so dashboards over hours and days read a few thousand rows
 * instead of every run. Maintenance folds the minutes closed since a stored watermark; reads
 * combine the stored minutes with the runs finished after the watermark.
 */
import type { Histogram } from '../rollup-histogram.js'
import type { ThroughputBucket } from './admin.js'
import type { Run } from './runs.js'

/** What one {@link RollupStore.foldRollups} did. */
export interface RollupFold {
  /** The watermark before (epoch ms, a minute's start; `null`: nothing folded yet). */
  readonly from: number | null
  /** The watermark now: runs finished before it are folded. */
  readonly to: number | null
  /** Rollup rows written. */
  readonly rows: number
}

/** What {@link RollupStore.readRollups} reads. */
export interface RollupQuery {
  /** The range's start (epoch ms, a multiple of a minute). */
  readonly since: number
  /** The range's end, exclusive. */
  readonly until: number
  /** The width of each bucket of {@link RollupReport.buckets} (a multiple of a minute). */
  readonly bucketMs: number
  /** Only this task's runs. */
  readonly task?: string
  /** Also sum the range into {@link RollupReport.totals} (histograms included). */
  readonly totals?: boolean
}

/** A range summed up: outcomes, retried attempts, durations (start to finish) and waits (due to start). */
export interface RollupTotals {
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
  /** Attempts beyond the first of the runs finished in the range. */
  readonly retries: number
  /** The last attempt's duration (runs that started). */
  readonly duration: Histogram
  /** From due (`runAt`) to the last attempt's start (runs that started). */
  readonly wait: Histogram
}

/** Finished runs over a range, from the stored minutes and, after the watermark, from the runs themselves. */
export interface RollupReport {
  /** The watermark at the read (`null`: nothing folded yet): buckets before it come from rollups. */
  readonly foldedUntil: number | null
  /** Finished runs per bucket, oldest first, empty buckets included. */
  readonly buckets: readonly ThroughputBucket[]
  /** The whole range summed up, when asked for. */
  readonly totals: RollupTotals | null
}

/** The rollups role. */
export interface RollupStore {
  /**
   * Folds the runs finished in closed minutes after the watermark and before `until` (floored to
   * a minute; at most `maxMs` of them) into rollup rows, and moves the watermark, atomically: a
   * minute is folded once, whichever process folds and however often. A watermark before `floor`
   * (or none) starts at `floor`; stretches without finished runs are skipped at once.
   */
  foldRollups(until: number, floor: number, maxMs: number): Promise<RollupFold>
  /** Finished runs per bucket (and the range summed up) from the rollups and, after the watermark, the runs. */
  readRollups(query: RollupQuery): Promise<RollupReport>
  /** Deletes rollup rows of minutes before `before`; returns how many. */
  purgeRollups(before: number): Promise<number>
  /** The runs that finished last with `status` (not deleted), newest finish first, at most `limit`; only `createdBy`'s when given. */
  recentlyFinished(status: 'succeeded' | 'failed' | 'cancelled', limit: number, createdBy?: string): Promise<Run[]>
}
