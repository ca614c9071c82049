/**
 * `taskengine_run_wait_seconds`: how long runs waited from due (`runAt`) to their start, as a
 * Prometheus histogram of every process's runs. It is read from the store's per-minute rollups
 * at each scrape (the minutes folded since the previous scrape are added), so it costs no work
 * on the path of a claim, counts runs of every worker sharing the store, and lags the clock by
 * the fold's minute or two. Its buckets are powers of 4 ms, each the bound of a rollup bucket, so
 * the counts are exact.
 */
import type { Metric, MetricObjectWithValues, MetricValueWithName } from 'prom-client'
import type { Engine } from '../engine/engine.js'
import { BUCKETS_PER_OCTAVE } from '../store/rollup-histogram.js'

/** Bucket bounds in seconds: 1 ms, 4 ms, 16 ms, … about 70 min. */
const BOUNDS_S = Array.from({ length: 13 }, (_, k) => 4 ** k / 1000)
/** Rollup buckets per Prometheus bucket (two doublings). */
const ROLLUP_BUCKETS_PER_BOUND = BUCKETS_PER_OCTAVE * 2

/** A histogram whose counts come from the rollups; register it with `registry.registerMetric`. */
export class RollupWaitHistogram {
  readonly name = 'taskengine_run_wait_seconds'
  readonly help = 'Time from due to start of runs, all processes (from the per-minute rollups: a minute or two behind)'
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  /** Per bound, and past the last one (not cumulative). */
  readonly #counts = new Array<number>(BOUNDS_S.length + 1).fill(0)
  #sum = 0
  /** The rollups' watermark at the last scrape (`undefined`: none yet; counting starts at the first one seen). */
  #watermark: number | undefined
  readonly #engine: Engine

  constructor(engine: Engine) {
    this.#engine = engine
  }

  /** This as the metric the registry expects (it calls `get()` only). */
  asMetric(): Metric {
    return this as unknown as Metric
  }

  async get(): Promise<Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect'>> {
    await this.#catchUp()
    const values: MetricValueWithName<string>[] = []
    let cumulative = 0
    for (const [i, bound] of BOUNDS_S.entries()) {
      cumulative += this.#counts[i] ?? 0
      values.push({ metricName: `${this.name}_bucket`, labels: { le: bound }, value: cumulative })
    }
    cumulative += this.#counts[BOUNDS_S.length] ?? 0
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: cumulative })
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.#sum / 1000 })
    values.push({ metricName: `${this.name}_count`, labels: {}, value: cumulative })
    return { name: this.name, help: this.help, type: this.type as never, aggregator: 'sum', values }
  }

  /** Adds the minutes folded since the last scrape. */
  async #catchUp(): Promise<void> {
    const store = await this.#engine.store()
    // An empty range: only the watermark is read.
    const { foldedUntil } = await store.readRollups({ since: 0, until: 0, bucketMs: 60_000 })
    if (foldedUntil === null) return
    const from = this.#watermark
    this.#watermark = foldedUntil
    if (from === undefined || foldedUntil <= from) return
    const { totals } = await store.readRollups({ since: from, until: foldedUntil, bucketMs: foldedUntil - from, totals: true })
    if (totals === null) return
    for (const [bucket, n] of Object.entries(totals.wait.counts)) {
      const index = Math.min(BOUNDS_S.length, Math.ceil(Number(bucket) / ROLLUP_BUCKETS_PER_BOUND))
      this.#counts[index] = (this.#counts[index] ?? 0) + n
    }
    this.#sum += totals.wait.sum
  }
}
