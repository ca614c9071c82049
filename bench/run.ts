/**
 * `npm run bench`: runs the benchmark suites and prints their tables.
 * Pick suites with arguments: `npm run bench -- core`, `npm run bench -- sqlite`.
 *
 *   core    in-process runs: runAll overhead against a bare semaphore, run() latency
 *   sqlite  durable runs on SQLite against BullMQ on the local Redis, same workload, one run
 *
 * Sizes: BENCH_CORE_RUNS (1,000,000), BENCH_RUNS (100,000), BENCH_LATENCY_RUNS, BENCH_REPEATS.
 */
import { benchCore } from './core.js'
import { benchBullmq } from './bullmq.js'
import { CONCURRENCIES, LATENCY_RUNS, N, benchTaskengineSqlite, durableRows, type DurableFigures } from './sqlite.js'
import { printTable } from './table.js'

async function benchSqlite(): Promise<void> {
  const figures: DurableFigures[] = [await benchTaskengineSqlite()]
  try {
    figures.push(await benchBullmq())
  } catch (error) {
    console.error(`\nBullMQ skipped (is Redis running on 127.0.0.1:6379?): ${(error as Error).message}`)
  }
  printTable(
    `Durable runs, no-op handlers: enqueue ${N.toLocaleString('en-US')} in bulk; process ${N.toLocaleString('en-US')} queued at concurrency ${CONCURRENCIES.join(' and ')}; ` +
      `latency enqueue → handler start over ${LATENCY_RUNS} sequential runs.\n` +
      'Targets: enqueue ≥ 150,000/s; process ≥ 50,000/s and ≥ 3× BullMQ; latency p50 ≤ 0.5 ms. Ratios: taskengine ÷ BullMQ.',
    durableRows(figures),
  )
}

const suites: Record<string, () => Promise<void>> = { core: benchCore, sqlite: benchSqlite }
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const selected = wanted.length > 0 ? wanted : Object.keys(suites)
for (const name of selected) {
  if (suites[name] === undefined) {
    console.error(`unknown suite "${name}"; known: ${Object.keys(suites).join(', ')}`)
    process.exit(2)
  }
}
console.log(`node ${process.version}, ${new Date().toISOString()}`)
for (const name of selected) await suites[name]!()
