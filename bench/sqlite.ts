/**
 * Durable runs on the embedded SQLite store (a real file, WAL, synchronous=NORMAL), no-op
 * handlers:
 *
 * - bulk enqueue of N runs (`enqueueMany`, one statement);
 * - processing N queued runs at concurrency 10 and at a higher setting;
 * - latency from `enqueue()` to handler start over sequential runs (p50 / p95 / p99).
 *
 * Processing is timed from `start()` until the store shows every run succeeded.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Engine, defineTask, type AnyTask } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { percentile, type Row } from './table.js'

export type { Row }

export const N = Number(process.env.BENCH_RUNS ?? 100_000)
export const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 1000)
/** Processing is measured at each of these; the table shows concurrency 10 and each system's best. */
export const CONCURRENCIES = (process.env.BENCH_CONCURRENCIES ?? '10,50,100,200').split(',').map(Number)

export interface DurableFigures {
  readonly system: string
  readonly enqueuePerSec: number
  readonly processPerSec: ReadonlyMap<number, number>
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number }
}

const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
let fileNo = 0

function freshEngine(task: AnyTask): Engine {
  return new Engine({ tasks: [task], store: sqliteStore(join(dir, `bench-${++fileNo}.db`)), onError: (e) => console.error(e) })
}

/** Waits until the handler ran `count` times, stops the worker (which writes everything out), and checks the store agrees. */
async function processAll(engine: Engine, executed: () => number, count: number): Promise<void> {
  while (executed() < count) await new Promise((r) => setTimeout(r, 2))
  await engine.stop()
  const { total } = await engine.listRuns({ status: 'succeeded', pageSize: 1 })
  if (total !== count) throw new Error(`expected ${count} succeeded runs in the store, found ${total}`)
}

export async function benchTaskengineSqlite(): Promise<DurableFigures> {
  let executed = 0
  const noop = defineTask({
    key: 'noop',
    run: () => {
      executed++
    },
  })
  const argsList = Array.from({ length: N }, () => ({}))

  // Bulk enqueue.
  let engine = freshEngine(noop)
  await engine.enqueueMany(noop, argsList.slice(0, 1000)) // warm-up (statements, pages)
  let start = performance.now()
  await engine.enqueueMany(noop, argsList)
  const enqueueMs = performance.now() - start
  await engine.close()

  // Processing at each concurrency.
  const processPerSec = new Map<number, number>()
  for (const concurrency of CONCURRENCIES) {
    engine = freshEngine(noop)
    await engine.enqueueMany(noop, argsList)
    executed = 0
    start = performance.now()
    await engine.start({ concurrency })
    await processAll(engine, () => executed, N)
    processPerSec.set(concurrency, N / ((performance.now() - start) / 1000))
    await engine.close()
  }

  // Latency: enqueue → handler start, one run at a time.
  let startedAt = 0
  let finish: () => void = () => undefined
  const probe = defineTask({
    key: 'probe',
    run: () => {
      startedAt = performance.now()
      finish()
    },
  })
  engine = freshEngine(probe)
  await engine.start({ concurrency: 10 })
  const samples: number[] = []
  for (let i = 0; i < LATENCY_RUNS + 50; i++) {
    const done = new Promise<void>((resolve) => (finish = resolve))
    const t0 = performance.now()
    await engine.enqueue(probe, {})
    await done
    if (i >= 50) samples.push(startedAt - t0)
  }
  await engine.close()
  samples.sort((a, b) => a - b)
  return {
    system: 'taskengine (SQLite)',
    enqueuePerSec: N / (enqueueMs / 1000),
    processPerSec,
    latencyMs: { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) },
  }
}

/** A system's best processing rate and the concurrency it was reached at. */
function best(f: DurableFigures): [number, number] {
  return [...f.processPerSec].reduce<[number, number]>((b, [c, v]) => (v > b[1] ? [c, v] : b), [0, 0])
}

/** A system's best processing rate (runs/s) over the concurrencies tried. */
export function bestRate(f: DurableFigures): number {
  return best(f)[1]
}

/** Rows of a comparison table, with ratios against the first system. */
export function durableRows(figures: readonly DurableFigures[]): Row[] {
  const base = figures[0]!
  const at10 = (f: DurableFigures): number => f.processPerSec.get(10) ?? NaN
  return figures.map((f) => {
    const ratio = (a: number, b: number): string => (f === base ? '—' : `${(a / b).toFixed(2)}×`)
    const [bestAt, rate] = best(f)
    return {
      system: f.system,
      'enqueue/s': Math.round(f.enqueuePerSec),
      'process/s @10': Math.round(at10(f)),
      'process/s best': `${Math.round(rate).toLocaleString('en-US')} (@${bestAt})`,
      'p50 ms': f.latencyMs.p50,
      'p95 ms': f.latencyMs.p95,
      'p99 ms': f.latencyMs.p99,
      '÷ enqueue': ratio(base.enqueuePerSec, f.enqueuePerSec),
      '÷ @10': ratio(at10(base), at10(f)),
      '÷ best': ratio(best(base)[1], rate),
      '÷ p50': ratio(f.latencyMs.p50, base.latencyMs.p50),
    }
  })
}
