/**
 * Rollups as both SQL backends fold and read them: the fold's grouped rows merged into one row
 * per minute, task and queue; the fold's window; a report built from stored minutes and from the
 * runs finished after the watermark.
 */
import type { RollupQuery, RollupReport, RollupTotals } from '../contract/rollups.js'
import { addHistogram, type Histogram, type HistogramSum } from '../rollup-histogram.js'
import { bucketsFrom } from './stats-rows.js'

/** Rollups are per minute. */
export const ROLLUP_MINUTE_MS = 60_000
/** And per hour: ranges in whole hours (the 7 days' bars of 2 hours) read sixty times fewer rows. */
export const ROLLUP_HOUR_MS = 3_600_000

/** A minute's start. */
export const minuteOf = (ms: number): number => Math.floor(ms / ROLLUP_MINUTE_MS) * ROLLUP_MINUTE_MS

/**
 * One group of the fold's query: runs finished in a minute, of one task, queue and status, whose
 * duration and wait fell in the buckets `db` and `wb` (`null`: never started).
 */
export interface FoldRow {
  minute: number | string
  task: string
  queue: string
  status: string
  db: number | string | null
  wb: number | string | null
  n: number | string
  retries: number | string | null
  dmax: number | string | null
  wmax: number | string | null
  dsum: number | string | null
  wsum: number | string | null
}

/** One minute of one task and queue. */
export interface RollupRow {
  readonly minute: number
  readonly task: string
  readonly queue: string
  succeeded: number
  failed: number
  cancelled: number
  retries: number
  readonly duration: HistogramSum
  readonly wait: HistogramSum
}

const maxOf = (a: number | null, b: number | string | null): number | null => (b === null ? a : a === null ? Math.max(0, Number(b)) : Math.max(a, Number(b)))

/** The fold's grouped rows as one row per minute, task and queue, in that order. */
export function rollupsFrom(rows: readonly FoldRow[]): RollupRow[] {
  const byKey = new Map<string, RollupRow>()
  for (const row of rows) {
    const minute = Number(row.minute)
    const key = JSON.stringify([minute, row.task, row.queue])
    let rollup = byKey.get(key)
    if (rollup === undefined) {
      rollup = { minute, task: row.task, queue: row.queue, succeeded: 0, failed: 0, cancelled: 0, retries: 0, duration: { counts: {}, sum: 0, max: null }, wait: { counts: {}, sum: 0, max: null } }
      byKey.set(key, rollup)
    }
    const n = Number(row.n)
    if (row.status === 'succeeded' || row.status === 'failed' || row.status === 'cancelled') rollup[row.status] += n
    rollup.retries += Number(row.retries ?? 0)
    if (row.db !== null) {
      const bucket = String(Number(row.db))
      rollup.duration.counts[bucket] = (rollup.duration.counts[bucket] ?? 0) + n
      rollup.duration.max = maxOf(rollup.duration.max, row.dmax)
      rollup.duration.sum += Number(row.dsum ?? 0)
    }
    if (row.wb !== null) {
      const bucket = String(Number(row.wb))
      rollup.wait.counts[bucket] = (rollup.wait.counts[bucket] ?? 0) + n
      rollup.wait.max = maxOf(rollup.wait.max, row.wmax)
      rollup.wait.sum += Number(row.wsum ?? 0)
    }
  }
  return [...byKey.values()].sort((a, b) => a.minute - b.minute || (a.task < b.task ? -1 : a.task > b.task ? 1 : a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0))
}

/** Adds `from` into `into` (same key). */
function addRollup(into: RollupRow, from: RollupRow): void {
  into.succeeded += from.succeeded
  into.failed += from.failed
  into.cancelled += from.cancelled
  into.retries += from.retries
  addHistogram(into.duration, from.duration)
  addHistogram(into.wait, from.wait)
}

/** Rows merged per `periodMs` (an hour), task and queue; `minute` is the period's start. */
export function rollupsPer(periodMs: number, rows: readonly RollupRow[], more: readonly RollupRow[] = []): RollupRow[] {
  const byKey = new Map<string, RollupRow>()
  for (const row of [...rows, ...more]) {
    const minute = Math.floor(row.minute / periodMs) * periodMs
    const key = JSON.stringify([minute, row.task, row.queue])
    const into = byKey.get(key)
    if (into === undefined) byKey.set(key, { ...row, minute, duration: { counts: { ...row.duration.counts }, sum: row.duration.sum, max: row.duration.max }, wait: { counts: { ...row.wait.counts }, sum: row.wait.sum, max: row.wait.max } })
    else addRollup(into, row)
  }
  return [...byKey.values()]
}

/** A stored row (with its period's start as `minute`) as a {@link RollupRow}. */
export function rollupOfStored(row: StoredTotalsRow & { minute: number | string; task: string; queue: string }): RollupRow {
  const duration = histogramOf(row.duration_hist, row.duration_sum, row.duration_max)
  const wait = histogramOf(row.wait_hist, row.wait_sum, row.wait_max)
  return {
    minute: Number(row.minute),
    task: row.task,
    queue: row.queue,
    succeeded: Number(row.succeeded),
    failed: Number(row.failed),
    cancelled: Number(row.cancelled),
    retries: Number(row.retries),
    duration: { counts: { ...duration.counts }, sum: duration.sum, max: duration.max },
    wait: { counts: { ...wait.counts }, sum: wait.sum, max: wait.max },
  }
}

/**
 * Where a read finds stored rollups before `cut`: whole hours from the hourly rows when the
 * query's bars are whole hours, the rest from the minutes. Empty ranges are left out.
 */
export function storedRanges(query: RollupQuery, cut: number): { readonly hourly: boolean; readonly from: number; readonly to: number }[] {
  const hourly = query.bucketMs % ROLLUP_HOUR_MS === 0 && query.since % ROLLUP_HOUR_MS === 0
  const split = hourly ? Math.max(query.since, Math.floor(cut / ROLLUP_HOUR_MS) * ROLLUP_HOUR_MS) : query.since
  return [
    { hourly: true, from: query.since, to: split },
    { hourly: false, from: split, to: cut },
  ].filter((range) => range.to > range.from)
}

/**
 * The minutes a fold covers: from the watermark (or `floor`, whichever is later) to `until`
 * floored to a minute (before {@link skipIdle} caps it). `null` when there is nothing to fold.
 */
export function foldWindow(watermark: number | null, until: number, floor: number): { readonly start: number; readonly end: number } | null {
  const start = Math.max(watermark ?? minuteOf(floor), minuteOf(floor))
  const end = minuteOf(until)
  return end > start ? { start, end } : null
}

/**
 * The window moved up to the minute of `first`, the earliest finish in it, and cut to `maxMs`
 * (`first` `null`: none, and the watermark moves to the window's end with nothing written), so a
 * fold skips idle stretches at once.
 */
export function skipIdle(window: { readonly start: number; readonly end: number }, first: number | null, maxMs: number): { readonly start: number; readonly end: number } {
  if (first === null || first >= window.end) return { start: window.end, end: window.end }
  const start = Math.max(window.start, minuteOf(first))
  return { start, end: Math.min(window.end, start + Math.max(ROLLUP_MINUTE_MS, minuteOf(maxMs))) }
}

/** Where stored minutes end and runs are read instead: the watermark, within the query's range. */
export function rollupCut(query: RollupQuery, foldedUntil: number | null): number {
  return Math.min(query.until, Math.max(query.since, foldedUntil ?? query.since))
}

/** A stored rollup row's totals, as a backend reads them (histograms as JSON text or parsed). */
export interface StoredTotalsRow {
  succeeded: number | string
  failed: number | string
  cancelled: number | string
  retries: number | string
  duration_hist: string | Record<string, number>
  wait_hist: string | Record<string, number>
  duration_max: number | string | null
  wait_max: number | string | null
  duration_sum: number | string
  wait_sum: number | string
}

const histogramOf = (counts: string | Record<string, number>, sum: number | string, max: number | string | null): Histogram => ({
  counts: typeof counts === 'string' ? (JSON.parse(counts) as Record<string, number>) : counts,
  sum: Number(sum),
  max: max === null ? null : Number(max),
})

/**
 * A {@link RollupReport} from stored per-bucket counts (`b`: bucket index from `since`), stored
 * rows for the totals, and the runs finished after the watermark folded on the fly.
 */
export function rollupReport(
  query: RollupQuery,
  foldedUntil: number | null,
  storedCounts: readonly { b: number | string; succeeded: number | string; failed: number | string; cancelled: number | string }[],
  storedTotals: readonly StoredTotalsRow[],
  live: readonly RollupRow[],
): RollupReport {
  const counts: { b: number; status: string; n: number }[] = []
  for (const row of storedCounts) for (const status of ['succeeded', 'failed', 'cancelled'] as const) counts.push({ b: Number(row.b), status, n: Number(row[status]) })
  const mine = query.task === undefined ? live : live.filter((row) => row.task === query.task)
  for (const row of mine) for (const status of ['succeeded', 'failed', 'cancelled'] as const) counts.push({ b: Math.floor((row.minute - query.since) / query.bucketMs), status, n: row[status] })
  const buckets = bucketsFrom(
    counts.filter((c) => c.n > 0),
    query.since,
    query.until,
    query.bucketMs,
  )
  if (query.totals !== true) return { foldedUntil, buckets, totals: null }
  const totals = { succeeded: 0, failed: 0, cancelled: 0, retries: 0, duration: { counts: {}, sum: 0, max: null }, wait: { counts: {}, sum: 0, max: null } } as { -readonly [K in keyof RollupTotals]: RollupTotals[K] } & {
    duration: { counts: Record<string, number>; max: number | null }
    wait: { counts: Record<string, number>; max: number | null }
  }
  const add = (row: { succeeded: number | string; failed: number | string; cancelled: number | string; retries: number | string }, duration: Histogram, wait: Histogram): void => {
    totals.succeeded += Number(row.succeeded)
    totals.failed += Number(row.failed)
    totals.cancelled += Number(row.cancelled)
    totals.retries += Number(row.retries)
    addHistogram(totals.duration, duration)
    addHistogram(totals.wait, wait)
  }
  for (const row of storedTotals) add(row, histogramOf(row.duration_hist, row.duration_sum, row.duration_max), histogramOf(row.wait_hist, row.wait_sum, row.wait_max))
  for (const row of mine) add(row, row.duration, row.wait)
  return { foldedUntil, buckets, totals }
}
