/**
 * `npm run bench`: runs the benchmark suites and prints their tables.
 * Pick suites with arguments: `npm run bench -- core`, `npm run bench -- sqlite`.
 *
 *   core      in-process runs: runAll overhead against a bare semaphore, run() latency
 *   sqlite    durable runs on SQLite against BullMQ on the local Redis, same workload, one run
 *   breakdown where a durable run's CPU time goes on SQLite: the engine against the store's own calls alone
 *   scale     the scale curve on SQLite: processing with 0, 1M and 10M finished runs (and their logs) in the store
 *   memory    a worker process's RSS after 10,000 and after 1,000,000 runs (SQLite)
 *   pg        durable runs on PostgreSQL against graphile-worker and pg-boss, then the PostgreSQL
 *             scale curve (0 and 1M finished runs) (`npm run bench:pg`)
 *   scale-pg  the PostgreSQL scale curve alone
 *   admin     admin pages and the runs API over a socket with 100,000 runs in the store (`npm run bench:admin`;
 *             another size after it: `npm run bench:admin -- 1000000`)
 *   kill      re-executions per SIGKILL of a worker process, SQLite and PostgreSQL (`npm run bench -- kill`)
 *   flow      limits across workers on SQLite and PostgreSQL: the cost of one that does not bind, one that does (`npm run bench -- flow`)
 *   purge     retention deleting 1,000,000 old runs from a SQLite file while a worker runs a steady stream (`npm run bench -- purge`;
 *             another size after it: `npm run bench -- purge 100000`)
 *   amqp      the AMQP bridge on SQLite: requests → committed runs, run events → confirmed (skipped without a broker)
 *
 * Without arguments: core, sqlite, breakdown, scale, memory, purge and amqp. Sizes: BENCH_CORE_RUNS (1,000,000), BENCH_RUNS (100,000), BENCH_LATENCY_RUNS, BENCH_REPEATS,
 * BENCH_AMQP_RUNS (20,000), BENCH_SCALE_SIZES (SQLite, 0,1000000,10000000), BENCH_SCALE_PG_SIZES (0,1000000), BENCH_SCALE_ROUNDS (3),
 * BENCH_MEMORY_RUNS (1,000,000), BENCH_ADMIN_RUNS (100,000), BENCH_PURGE_RUNS (1,000,000), BENCH_PURGE_RATE (5,000 runs/s offered),
 * BENCH_PURGE_BATCH (retention.batchSize). A number after a suite's name is that suite's size, where it takes one (admin, purge).
 *
 * The suites that compare with peers (BullMQ, graphile-worker, pg-boss) are in peers/, a package of
 * its own with its own lock file, which the npm scripts install on demand (peers/install.mjs).
 */
import { ADMIN_RUNS, benchAdmin } from './admin.js'
import { AMQP_RUNS, benchAmqp } from './amqp.js'
import { benchBreakdown } from './breakdown.js'
import { benchCore } from './core.js'
import { MEMORY_RUNS, benchMemory } from './memory.js'
import { FLOW_RUNS, benchFlow } from './flow.js'
import { KILLS, KILL_CONCURRENCY, KILL_HANDLER_MS, KILL_RUNS, benchKill } from './kill.js'
import { benchBullmq } from './peers/bullmq.js'
import { CONCURRENCIES, LATENCY_RUNS, N, benchTaskengineSqlite, bestRate, durableRows, type DurableFigures } from './sqlite.js'
import { PG_LATENCY_RUNS, PG_RUNS, PG_URL, benchPostgres } from './peers/postgres.js'
import { PG_SIZES, SCALE_RUNS, SQLITE_CONCURRENCY, SQLITE_SIZES, PG_SETTING, benchScalePostgres, benchScaleSqlite } from './scale.js'
import { PURGE_RATE, PURGE_RUNS, benchPurge } from './purge.js'
import { printTable } from './table.js'
import { printTargets, target } from './targets.js'

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
      'Ratios: taskengine ÷ BullMQ.',
    durableRows(figures),
  )
  const [te, bullmq] = figures
  target('SQLite processing at the best concurrency', bestRate(te!), '≥', 100_000, 'runs/s')
  target('SQLite processing ÷ BullMQ (same run, best of each)', bullmq === undefined ? NaN : bestRate(te!) / bestRate(bullmq), '≥', 6, '×')
  target('SQLite bulk enqueue', te!.enqueuePerSec, '≥', 250_000, 'runs/s')
  target('SQLite latency p50 (enqueue → handler start)', te!.latencyMs.p50, '≤', 0.2, 'ms')
}

async function benchPg(): Promise<void> {
  await benchPgPeers()
  await benchScalePg()
}

async function benchPgPeers(): Promise<void> {
  const url = new URL(PG_URL)
  url.password = ''
  console.log(`\nPostgreSQL at ${url.toString()} (BENCH_PG)`)
  const rows = await benchPostgres()
  printTable(
    `Durable runs on PostgreSQL, no-op handlers: enqueue ${PG_RUNS.toLocaleString('en-US')} in one call; process ${PG_RUNS.toLocaleString('en-US')} queued ` +
      `(until the database shows all done); latency enqueue → handler start over ${PG_LATENCY_RUNS} sequential runs. Ratios: taskengine ÷ that system (latency: lower is better).`,
    rows,
  )
}

/** The title of a scale curve's table. */
function curveTitle(backend: string, sizes: readonly number[], settings: string): string {
  const list = sizes.map((s) => s.toLocaleString('en-US')).join(', ')
  return (
    `Scale curve, ${backend}: process ${SCALE_RUNS.toLocaleString('en-US')} queued no-op runs (${settings}) with ${list} finished runs (2–3 log lines each) already in the store; ` +
    'best of the rounds (alternating order); CPU: user + system time per run of this process (and of the database server\'s processes for this bench), least of the rounds. ' +
    'Target: ≥ 90 % of the empty store\'s rate.'
  )
}

async function benchScale(): Promise<void> {
  printTable(curveTitle('SQLite', SQLITE_SIZES, `concurrency ${SQLITE_CONCURRENCY}; each round on a copy of the seeded file`), await benchScaleSqlite())
}

async function benchScalePg(): Promise<void> {
  printTable(curveTitle('PostgreSQL', PG_SIZES, `concurrency ${PG_SETTING.concurrency}, prefetch ${PG_SETTING.prefetch}; the seeded schema gains each round's runs`), await benchScalePostgres())
}

async function benchMemoryGrowth(): Promise<void> {
  printTable(
    `Memory of one worker process (node --expose-gc, SQLite file, concurrency 100) over ${MEMORY_RUNS.toLocaleString('en-US')} no-op runs it enqueues itself 10,000 at a time: ` +
      'RSS and heap after gc() at each point. Target: RSS growth from the first point to the last ≤ 30 MB.',
    await benchMemory(),
  )
}

async function benchAdminPages(size = ADMIN_RUNS): Promise<void> {
  const { rows, seedMs, foldMs, rollupRows, filled } = await benchAdmin(size)
  printTable(
    `Admin pages over a socket, ${size.toLocaleString('en-US')} runs in one SQLite file (${filled > 0 ? `${filled.toLocaleString('en-US')} of them filled by SQL; ` : ''}filled in ${(seedMs / 1000).toFixed(1)} s; folded into rollups in ${foldMs.toFixed(0)} ms), ` +
      `${rollupRows.toLocaleString('en-US')} rollup rows (7 days of minutes): time to the last byte. Target: p95 under 200 ms for the overview (1 h, 24 h, 7 d), the runs list, filtered lists, an args search and a run page.`,
    rows,
  )
}

async function benchKills(): Promise<void> {
  printTable(
    `Re-executions per SIGKILL: ${KILL_RUNS.toLocaleString('en-US')} runs of a handler that logs its run id and ${KILL_HANDLER_MS > 0 ? `waits ${KILL_HANDLER_MS} ms` : 'returns'}; ${KILLS} worker processes (concurrency ${KILL_CONCURRENCY}) ` +
      'killed mid-stream one after another, a last one drains. Re-executed: handler calls beyond one per run.',
    await benchKill(),
  )
}

async function benchFlowControl(): Promise<void> {
  printTable(
    `Limits across workers, no-op runs: ${FLOW_RUNS.toLocaleString('en-US')} processed at concurrency 50 without limits and with a limit that never binds (best of each); ` +
      'a limit of 10 over two engines, each with its own store connection and concurrency 20, 1 ms handlers. Target: limited ÷ free ≥ 0.90; most at once ≤ 10.',
    await benchFlow(),
  )
}

async function benchRetention(size = PURGE_RUNS): Promise<void> {
  const { rows, purgeMs, attempts, fillMs } = await benchPurge(size)
  printTable(
    `Retention under load (SQLite): ${size.toLocaleString('en-US')} runs finished 40-60 days ago, a log line each (filled by SQL in ${(fillMs / 1000).toFixed(1)} s); ` +
      `a worker (concurrency 50) executes no-op runs offered at ${PURGE_RATE.toLocaleString('en-US')}/s; the retention schedule triggered after the "before" phase. ` +
      `The purge deleted them in ${(purgeMs / 1000).toFixed(1)} s (${Math.round(size / (purgeMs / 1000)).toLocaleString('en-US')} runs/s)${attempts > 1 ? `, in ${attempts} attempts (a lease expired while it purged)` : ''}. ` +
      'Claim: one store.claimRuns call; start: enqueue → handler start; loop delay: the event loop\'s. Targets: claim p99 during < 50 ms; runs/s during ≥ 80% of before.',
    rows,
  )
}

async function benchAmqpBridge(): Promise<void> {
  const rows = await benchAmqp()
  if (rows === undefined) return
  printTable(
    `AMQP bridge on a SQLite file (RabbitMQ on this machine): ${AMQP_RUNS.toLocaleString('en-US')} requests published at once until each is a committed run (acked after commit); ` +
      `${AMQP_RUNS.toLocaleString('en-US')} runs enqueued in one call until the broker confirmed each created event.`,
    rows,
  )
}

/** Each suite; those that take a size read it from the number after their name. */
const suites: Record<string, (size?: number) => Promise<void>> = { core: benchCore, sqlite: benchSqlite, breakdown: benchBreakdown, scale: benchScale, memory: benchMemoryGrowth, pg: benchPg, 'scale-pg': benchScalePg, admin: benchAdminPages, kill: benchKills, flow: benchFlowControl, purge: benchRetention, amqp: benchAmqpBridge }
const sized: [string, number | undefined][] = []
for (const arg of process.argv.slice(2).filter((a) => !a.startsWith('-'))) {
  const last = sized.at(-1)
  if (/^\d+$/.test(arg) && last !== undefined && last[1] === undefined) last[1] = Number(arg)
  else sized.push([arg, undefined])
}
const selected: [string, number | undefined][] = sized.length > 0 ? sized : (['core', 'sqlite', 'breakdown', 'scale', 'memory', 'purge', 'amqp'] as const).map((name) => [name, undefined])
for (const [name] of selected) {
  if (suites[name] === undefined) {
    console.error(`unknown suite "${name}"; known: ${Object.keys(suites).join(', ')}`)
    process.exit(2)
  }
}
console.log(`node ${process.version}, ${new Date().toISOString()}`)
for (const [name, size] of selected) await suites[name]!(size)
printTargets()
