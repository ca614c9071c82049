/**
 * Re-executions per SIGKILL: a worker process executing a stream of short runs is killed with
 * SIGKILL, again and again, and a fresh one takes over each time. Every execution appends its run
 * id to a file of its process (synchronously, so a kill loses nothing), so the count of handler
 * calls beyond one per run is exact. They are the runs the killed process was executing, those
 * whose completion it was writing, and those it had finished within the write buffer's bound
 * (RESULT_WAIT_MS); the table also gives them as milliseconds of the victim's throughput.
 *
 * `npm run bench -- kill` (SQLite, and PostgreSQL when BENCH_PG answers). Sizes: BENCH_KILLS (8),
 * BENCH_KILL_CONCURRENCY (50), BENCH_KILL_HANDLER_MS (0: the handler returns at once; with a few
 * ms, the runs executing at the kill dominate). `BENCH_KILL_BIN` runs another build's binary (to
 * compare versions).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { createEngine, defineTask, type Engine } from '../src/index.js'
import { postgresStore } from '../src/store/postgres/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import type { Store } from '../src/store/types.js'
import type { Row } from './table.js'

const KILLS = Number(process.env.BENCH_KILLS ?? 8)
const CONCURRENCY = Number(process.env.BENCH_KILL_CONCURRENCY ?? 50)
const HANDLER_MS = Number(process.env.BENCH_KILL_HANDLER_MS ?? 0)
/** Runs each victim executes before it is killed (at least; the kill lands mid-stream). */
const PER_VICTIM = 4000
const RUNS = PER_VICTIM * (KILLS + 2)
const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
/** The repository root (the bench runs from dist-bench/bench). */
const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = process.env.BENCH_KILL_BIN ?? join(ROOT, 'dist', 'cli', 'main.js')

const dir = mkdtempSync(join(tmpdir(), 'taskengine-kill-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

/** The tasks module the worker processes load: `tick` logs its run id and returns. */
function tasksModule(): string {
  const path = join(dir, 'kill-tasks.mjs')
  const entry = pathToFileURL(join(resolve(BIN, '..', '..'), 'index.js')).href
  writeFileSync(
    path,
    `import { appendFileSync } from 'node:fs'
import { defineTask } from ${JSON.stringify(entry)}
const log = process.env.TASKENGINE_EXEC_LOG
export const tick = defineTask({ key: 'tick', maxAttempts: 5, async run(ctx) {
  appendFileSync(log, ctx.runId + '\\n')
  if (${HANDLER_MS} > 0) await new Promise((resolve) => setTimeout(resolve, ${HANDLER_MS}))
} })
`,
  )
  return path
}

function lines(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).length
  } catch {
    return 0
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

function startWorker(storeArg: string, tasks: string, log: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'worker', '--store', storeArg, '--tasks', tasks, '--concurrency', String(CONCURRENCY), '--lease-ms', '1000', '--poll-ms', '20', '-q'], {
    env: { ...process.env, TASKENGINE_EXEC_LOG: log, TASKENGINE_TASKS: '' },
    stdio: 'ignore',
  })
}

const exited = (child: ChildProcess): Promise<void> => new Promise((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())))
const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))

interface KillFigures {
  readonly reexecuted: number
  readonly victimRate: number
}

/** Kills KILLS victims mid-stream, drains the rest with a last worker, and counts handler calls beyond one per run. */
async function measure(store: Store, storeArg: string): Promise<KillFigures> {
  const tick = defineTask({ key: 'tick', maxAttempts: 5, run: () => undefined })
  const engine: Engine = createEngine({ tasks: [tick], store })
  try {
    for (let i = 0; i < RUNS; i += 10_000) await engine.enqueueMany(tick, Array.from({ length: Math.min(10_000, RUNS - i) }, () => ({})))
    const tasks = tasksModule()
    const logs: string[] = []
    let victimRuns = 0
    let victimMs = 0
    for (let k = 0; k < KILLS; k++) {
      const log = join(dir, `victim-${storeArg.length}-${k}.log`)
      logs.push(log)
      const child = startWorker(storeArg, tasks, log)
      // Wait for the stream to flow, then kill it mid-way (each line is 37 bytes).
      while (sizeOf(log) < 37 * 200) await pause(2)
      const flowing = performance.now()
      const before = lines(log)
      while (sizeOf(log) < 37 * PER_VICTIM) await pause(2)
      child.kill('SIGKILL')
      await exited(child)
      victimRuns += lines(log) - before
      victimMs += performance.now() - flowing
    }
    const last = join(dir, `finisher-${storeArg.length}.log`)
    logs.push(last)
    const finisher = startWorker(storeArg, tasks, last)
    for (;;) {
      const { statuses } = await engine.stats()
      if (statuses.succeeded === RUNS) break
      if (statuses.failed > 0) throw new Error(`${statuses.failed} runs failed`)
      await pause(50)
    }
    finisher.kill('SIGTERM')
    await exited(finisher)
    const calls = logs.reduce((sum, log) => sum + lines(log), 0)
    return { reexecuted: calls - RUNS, victimRate: victimRuns / (victimMs / 1000) }
  } finally {
    await engine.close()
  }
}

function row(store: string, figures: KillFigures): Row {
  const perKill = figures.reexecuted / KILLS
  return {
    store,
    kills: KILLS,
    're-executed': figures.reexecuted,
    'per kill': perKill,
    'victim runs/s': Math.round(figures.victimRate),
    'per kill in ms of work': (perKill / figures.victimRate) * 1000,
  }
}

export async function benchKill(): Promise<Row[]> {
  const rows: Row[] = []
  const file = join(dir, 'kill.db')
  rows.push(row('SQLite', await measure(sqliteStore(file), file)))
  const schema = `bench_kill_${process.pid}`
  const admin = new pg.Pool({ connectionString: PG_URL, max: 1 })
  try {
    await admin.query('SELECT 1')
  } catch (error) {
    console.error(`\nPostgreSQL skipped (BENCH_PG ${PG_URL}): ${(error as Error).message}`)
    await admin.end()
    return rows
  }
  try {
    const url = new URL(PG_URL)
    url.searchParams.set('schema', schema)
    rows.push(row('PostgreSQL', await measure(postgresStore({ connectionString: PG_URL, schema }), url.toString())))
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  }
  return rows
}

export { CONCURRENCY as KILL_CONCURRENCY, HANDLER_MS as KILL_HANDLER_MS, KILLS, RUNS as KILL_RUNS }
