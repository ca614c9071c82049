/**
 * The fixed log-scale buckets of the rollups' duration and wait-time histograms, the same in
 * every backend and in the engine: bucket `0` holds values up to 1 ms, bucket `i` the values in
 * (2^((i-1)/4), 2^(i/4)] ms, so each bucket is about 19% wide. Histograms of any minutes merge by
 * adding counts bucket by bucket, so a percentile over any range is exact to a bucket's width.
 * The SQL of each backend computes the same index (`ceil(log2(ms) * 4)`); this module is what
 * the engine reads them with.
 */

/** Buckets per doubling. */
export const BUCKETS_PER_OCTAVE = 4

/** A histogram: counts by bucket index (as JSON object keys), the sum and the largest value seen (ms). */
export interface Histogram {
  /** Values per bucket index; absent buckets are empty. */
  readonly counts: Readonly<Record<string, number>>
  /** The sum of its values (ms). */
  readonly sum: number
  /** The largest value in it (`null`: empty). */
  readonly max: number | null
}

/** A histogram being added to. */
export interface HistogramSum {
  counts: Record<string, number>
  sum: number
  max: number | null
}

/** The bucket of a value in ms (negative values count as 0). */
export function histogramBucket(ms: number): number {
  return ms <= 1 ? 0 : Math.ceil(Math.log2(ms) * BUCKETS_PER_OCTAVE)
}

/** The upper bound of bucket `index`, in ms. */
export function bucketUpperMs(index: number): number {
  return 2 ** (index / BUCKETS_PER_OCTAVE)
}

/** Adds `from` into `into` (mutable counts), keeping the larger maximum; returns `into`. */
export function addHistogram(into: HistogramSum, from: Histogram): HistogramSum {
  for (const [bucket, n] of Object.entries(from.counts)) into.counts[bucket] = (into.counts[bucket] ?? 0) + n
  into.sum += from.sum
  if (from.max !== null && (into.max === null || from.max > into.max)) into.max = from.max
  return into
}

/** How many values a histogram holds. */
export function histogramCount(histogram: Histogram): number {
  let n = 0
  for (const count of Object.values(histogram.counts)) n += count
  return n
}

/**
 * The `p`-th percentile (0–100) of a histogram, in ms: the upper bound of the bucket holding it,
 * never above the maximum seen. `null` for an empty histogram.
 *
 * @example
 * histogramPercentile({ counts: { '40': 9, '44': 1 }, sum: 9300, max: 2100 }, 50) // 1024
 */
export function histogramPercentile(histogram: Histogram, p: number): number | null {
  const total = histogramCount(histogram)
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil((p / 100) * total))
  const buckets = Object.keys(histogram.counts)
    .map(Number)
    .sort((a, b) => a - b)
  let seen = 0
  for (const bucket of buckets) {
    seen += histogram.counts[String(bucket)] ?? 0
    if (seen >= rank) {
      const upper = bucket === 0 ? 1 : bucketUpperMs(bucket)
      return histogram.max === null ? upper : Math.min(upper, histogram.max)
    }
  }
  return histogram.max
}
