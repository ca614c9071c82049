/**
 * Core benchmark: the engine's overhead for in-process runs.
 *
 * - runAll of N no-op runs at concurrency 10, against a bare promise semaphore (acquire /
 *   release around each call), bare worker lanes (the leanest possible loop) doing the same, and
 *   those lanes building the result object runAll returns for each run.
 * - run() latency: sequential no-op runs, per-call time percentiles, against a direct call.
 *
 * Each measurement is repeated and the median is reported; rows alternate between contenders
 * so machine noise hits them alike.
 */
import { newId } from '../src/engine/ids.js'
import { createEngine, defineTask } from '../src/index.js'
import { median, percentile, printTable, settle, timeIt, type Row } from './table.js'
import { target } from './targets.js'

const N = Number(process.env.BENCH_CORE_RUNS ?? 1_000_000)
const CONCURRENCY = 10
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 100_000)

const noop = async (): Promise<undefined> => undefined

/** A counting semaphore with a FIFO of waiters (array + head index: O(1) per operation). */
class Semaphore {
  #free: number
  #waiting: ((() => void) | undefined)[] = []
  #head = 0
  constructor(size: number) {
    this.#free = size
  }
  acquire(): Promise<void> | undefined {
    if (this.#free > 0) {
      this.#free--
      return undefined
    }
    return new Promise((resolve) => this.#waiting.push(resolve))
  }
  release(): void {
    if (this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head]!
      this.#waiting[this.#head++] = undefined
      next()
    } else this.#free++
  }
}

/** The usual semaphore pattern: one promise per item, acquire/release around the call. */
async function bareSemaphore(items: readonly object[]): Promise<unknown[]> {
  const semaphore = new Semaphore(CONCURRENCY)
  return Promise.all(
    items.map(async () => {
      await semaphore.acquire()
      try {
        return await noop()
      } finally {
        semaphore.release()
      }
    }),
  )
}

const NONE: readonly never[] = Object.freeze([])

/**
 * The floor for what runAll returns: the same lanes, each item ending in a result object shaped
 * like a `RunResult` (an id, two Dates, the arguments), kept until the batch ends as runAll's
 * results are. What this costs over the bare lanes is allocating and keeping a million results.
 */
async function resultLanes(items: readonly object[]): Promise<unknown[]> {
  const results = new Array<unknown>(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      const startedAt = Date.now()
      const data = await noop()
      const finishedAt = Date.now()
      results[i] = {
        id: newId(),
        task: 'noop',
        label: 'bench',
        args: items[i],
        status: 'succeeded',
        data,
        error: undefined,
        logs: NONE,
        droppedLogs: 0,
        tags: NONE,
        progress: undefined,
        artifacts: NONE,
        startedAt: new Date(startedAt),
        finishedAt: new Date(finishedAt),
        durationMs: finishedAt - startedAt,
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  return results
}

/** The floor: CONCURRENCY loops pulling the next item. */
async function bareLanes(items: readonly object[]): Promise<unknown[]> {
  const results = new Array<unknown>(items.length)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await noop()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  return results
}

export async function benchCore(): Promise<void> {
  const task = defineTask({ key: 'noop', maxConcurrent: CONCURRENCY, run: noop })
  const engine = createEngine({ tasks: [task] })
  const items = Array.from({ length: N }, () => ({}))

  const times: Record<string, number[]> = { engine: [], semaphore: [], results: [], lanes: [] }
  for (let r = 0; r < REPEATS; r++) {
    settle()
    times.semaphore!.push(await timeIt(() => bareSemaphore(items)))
    settle()
    times.engine!.push(
      await timeIt(async () => {
        const results = await engine.runAll(task, 'bench', items)
        if (results.length !== N || results[N - 1]?.status !== 'succeeded') throw new Error('engine runAll lost runs')
      }),
    )
    settle()
    times.results!.push(await timeIt(() => resultLanes(items)))
    settle()
    times.lanes!.push(await timeIt(() => bareLanes(items)))
  }
  const engineMs = median(times.engine!)
  const rows: Row[] = [
    { contender: 'taskengine runAll', 'ms (median)': engineMs, 'runs/s': Math.round(N / (engineMs / 1000)), 'engine ÷ this': 1 },
  ]
  for (const [name, label] of [
    ['semaphore', 'bare promise semaphore'],
    ['results', 'bare lanes building RunResult-shaped results'],
    ['lanes', 'bare worker lanes (floor)'],
  ] as const) {
    const ms = median(times[name]!)
    rows.push({ contender: label, 'ms (median)': ms, 'runs/s': Math.round(N / (ms / 1000)), 'engine ÷ this': engineMs / ms })
  }
  printTable(`runAll: ${N.toLocaleString('en-US')} no-op runs, concurrency ${CONCURRENCY}, median of ${REPEATS}`, rows)
  target('runAll of no-op runs', N / (engineMs / 1000), '≥', 1_000_000, 'runs/s')
  target('runAll time ÷ bare worker lanes (the floor)', engineMs / median(times.lanes!), '≤', 6, '×')

  // run() latency, sequential; after a collection, so that it does not pay for the results of
  // the batches above (a million each) being freed in its first samples.
  settle()
  const samples: number[] = []
  const direct: number[] = []
  for (let i = 0; i < 1000; i++) await engine.run(task) // warm-up
  for (let i = 0; i < LATENCY_RUNS; i++) {
    let start = process.hrtime.bigint()
    await noop()
    direct.push(Number(process.hrtime.bigint() - start) / 1000)
    start = process.hrtime.bigint()
    const result = await engine.run(task)
    samples.push(Number(process.hrtime.bigint() - start) / 1000)
    if (result.status !== 'succeeded') throw new Error('run failed')
  }
  samples.sort((a, b) => a - b)
  direct.sort((a, b) => a - b)
  const latencyRow = (name: string, s: number[]): Row => ({
    call: name,
    'p50 µs': percentile(s, 50),
    'p95 µs': percentile(s, 95),
    'p99 µs': percentile(s, 99),
    'mean µs': s.reduce((a, b) => a + b, 0) / s.length,
  })
  printTable(`run() latency: ${LATENCY_RUNS.toLocaleString('en-US')} sequential no-op runs`, [latencyRow('engine.run(task)', samples), latencyRow('direct await handler()', direct)])
  target('run() latency p50', percentile(samples, 50), '≤', 1, 'µs')
}
