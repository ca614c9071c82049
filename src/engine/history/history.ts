/**
 * History: throughput, failures, durations and waits over the last hour, day or week, read from
 * the store's per-minute rollups (and, after their watermark, from the runs themselves), and the
 * fold that maintenance runs to keep those rollups current. Nothing here runs on the path of a
 * claim or a completion.
 */
import { ValidationError, describeValue } from '../../errors.js'
import { histogramCount, histogramPercentile, type Histogram } from '../../store/rollup-histogram.js'
import type { RollupFold, Store, ThroughputBucket } from '../../store/types.js'

/** The ranges the overview and task pages offer. */
export const HISTORY_RANGES = ['1h', '24h', '7d'] as const
export type HistoryRange = (typeof HISTORY_RANGES)[number]

/** Each range's length and the width of its chart's bars. */
export const RANGE_SPANS: Readonly<Record<HistoryRange, { readonly ms: number; readonly bucketMs: number }>> = {
  '1h': { ms: 3_600_000, bucketMs: 60_000 },
  '24h': { ms: 86_400_000, bucketMs: 900_000 },
  '7d': { ms: 7 * 86_400_000, bucketMs: 7_200_000 },
}

/** How far behind the clock folds stay, so runs whose completion is still being committed land in the minute before the fold reads it. */
export const FOLD_LAG_MS = 30_000
/** At most this much time folded per maintenance pass (catching up after a pause takes several). */
export const FOLD_MAX_MS = 3_600_000

/** Percentiles of a histogram, in ms (`null` when it is empty). */
export interface Percentiles {
  readonly p50: number | null
  readonly p95: number | null
  readonly max: number | null
}

/** A range of history (see {@link Engine.history}). */
export interface History {
  readonly range: HistoryRange
  /** The range's start and end (the end is the end of the current bar). */
  readonly since: Date
  readonly until: Date
  readonly bucketMs: number
  /** Finished runs per bar, oldest first. */
  readonly buckets: readonly ThroughputBucket[]
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
  /** Attempts beyond the first among the runs finished in the range (`null` when not summed up). */
  readonly retries: number | null
  /** Failed ÷ (succeeded + failed), 0–1; `null` without such runs. */
  readonly failureRate: number | null
  /** Finished runs per minute over the range. */
  readonly perMinute: number
  /** Duration of the last attempt (`null` when not summed up). */
  readonly duration: Percentiles | null
  /** Due to start (`null` when not summed up). */
  readonly wait: Percentiles | null
  /** Until when rollups cover the range (`null`: not yet); after it, the runs were read. */
  readonly foldedUntil: Date | null
}

/** Options of {@link Engine.history}. */
export interface HistoryOptions {
  /** `1h`, `24h` or `7d`. @default '1h' */
  readonly range?: HistoryRange
  /** One task's runs only (else every task's). */
  readonly task?: string
  /** Also percentiles of durations and waits, and retries. @default false */
  readonly totals?: boolean
}

/** The range a query parameter names; a `ValidationError` naming the choices otherwise. `undefined` is `1h`. */
export function parseHistoryRange(value: unknown, name = 'range'): HistoryRange {
  if (value === undefined || value === '') return '1h'
  if (typeof value === 'string' && (HISTORY_RANGES as readonly string[]).includes(value)) return value as HistoryRange
  throw new ValidationError(`${name}: expected one of ${HISTORY_RANGES.join(', ')}, got ${describeValue(value)}`)
}

const percentiles = (histogram: Histogram): Percentiles => ({ p50: histogramPercentile(histogram, 50), p95: histogramPercentile(histogram, 95), max: histogramCount(histogram) === 0 ? null : histogram.max })

/** Reads a range of history at `now`. */
export async function readHistory(store: Store, now: number, options: HistoryOptions = {}): Promise<History> {
  const range = parseHistoryRange(options.range)
  const { ms, bucketMs } = RANGE_SPANS[range]
  const until = Math.floor(now / bucketMs) * bucketMs + bucketMs
  const since = until - ms
  const report = await store.readRollups({ since, until, bucketMs, ...(options.task === undefined ? {} : { task: options.task }), totals: options.totals === true })
  let [succeeded, failed, cancelled] = [0, 0, 0]
  for (const b of report.buckets) {
    succeeded += b.succeeded
    failed += b.failed
    cancelled += b.cancelled
  }
  const totals = report.totals
  return {
    range,
    since: new Date(since),
    until: new Date(until),
    bucketMs,
    buckets: report.buckets,
    succeeded,
    failed,
    cancelled,
    retries: totals?.retries ?? null,
    failureRate: succeeded + failed === 0 ? null : failed / (succeeded + failed),
    // Per minute of the range that has passed (the current bar is not over yet).
    perMinute: (succeeded + failed + cancelled) / ((Math.min(now, until) - since) / 60_000),
    duration: totals === null ? null : percentiles(totals.duration),
    wait: totals === null ? null : percentiles(totals.wait),
    foldedUntil: report.foldedUntil === null ? null : new Date(report.foldedUntil),
  }
}

/**
 * Folds the minutes closed at least {@link FOLD_LAG_MS} ago into rollups (at most
 * {@link FOLD_MAX_MS} per call; nothing before `retentionDays`). For maintenance.
 */
export function foldHistory(store: Store, now: number, retentionDays: number): Promise<RollupFold> {
  return store.foldRollups(now - FOLD_LAG_MS, now - Math.max(1, retentionDays) * 86_400_000, FOLD_MAX_MS)
}
