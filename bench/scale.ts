/**
 * The scale curve (issue 16): processing N queued no-op runs on an empty store and on stores
 * already holding many finished runs with their logs (`scale-seed.ts`). Flat means the same rate:
 * claims walk a partial index of pending runs and completions find their run by id, so neither
 * should care how much history lies beside them; this measures whether that holds.
 *
 * - SQLite: a real file per round; each size is seeded once into a file of its own, closed (the
 *   WAL checkpointed into it), and copied for each round, so every round starts from the same
 *   bytes. Concurrency BENCH_SCALE_CONCURRENCY (100: the sqlite suite's best setting here).
 * - PostgreSQL: `postgresStore` on a schema of its own (dropped after); an empty schema per round,
 *   the seeded one reused across rounds (each round leaves N more finished runs in it). Worker
 *   settings BENCH_SCALE_PG_SETTING (concurrency/prefetch, 100/500: the better of the pg suite's).
 *
 * Processing is timed from `start()` until the handler ran N times and `stop()` wrote everything
 * out; the store is then checked to hold N succeeded runs of this round. BENCH_SCALE_ROUNDS
 * rounds (default 3) go through the sizes in alternating order (small to large, then back), so
 * warm-up and the neighbours' load hit every size alike; each size's best round is reported.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Engine, defineTask } from '../src/index.js'
import { postgresStore } from '../src/store/postgres/index.js'
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_POOL_MAX } from '../src/store/postgres/store.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import type { Store } from '../src/store/types.js'
import { seedPostgres, seedSqlite } from './scale-seed.js'
import { PG_URL } from './pg-url.js'
import type { Row } from './table.js'
import { target } from './targets.js'

export const SCALE_RUNS = Number(process.env.BENCH_RUNS ?? 100_000)
const sizes = (text: string): number[] => text.split(',').map(Number)
/** Finished runs in the store before each measurement; 0 is the empty store every ratio divides by. */
export const SQLITE_SIZES = sizes(process.env.BENCH_SCALE_SIZES ?? '0,1000000,10000000')
export const PG_SIZES = sizes(process.env.BENCH_SCALE_PG_SIZES ?? '0,1000000')
export const SQLITE_CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 100)
const [pgConcurrency, pgPrefetch] = (process.env.BENCH_SCALE_PG_SETTING ?? '100/500').split('/').map(Number)
export const PG_SETTING = { concurrency: pgConcurrency!, prefetch: pgPrefetch ?? 500 }
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 3)

/** What seeding a size took, and what it left on disk (runs and logs with their indexes). */
interface Seeded {
  readonly ms: number
  readonly bytes: number
}

/** One round: processing rate (runs/s, wall clock), this process's CPU time per run and the database server's (µs; NaN: not measured). */
interface Round {
  readonly perSec: number
  readonly cpuUs: number
  readonly serverCpuUs: number
}

/** One point of a curve: its size, its seed, and its rounds. */
interface Point {
  readonly size: number
  readonly seed: Seeded
  readonly rounds: Round[]
}

/** How one backend opens a store at a size for a round, counts the round's succeeded runs, and cleans up. */
interface Backend {
  readonly name: string
  readonly worker: { readonly concurrency: number; readonly prefetch?: number }
  /** Seeds what `size` needs once (before any round). */
  prepare(size: number): Promise<Seeded>
  /**
   * A store holding `size` finished runs, how to count the succeeded runs this round added, and
   * (PostgreSQL) a reading of the CPU time its server processes spent so far.
   */
  open(size: number): Promise<{ store: Store; roundRuns: () => Promise<number>; serverCpu?: () => Promise<CpuReading>; close?: () => Promise<void> }>
  dispose(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Enqueues N no-op runs, then times processing them all. Also takes this process's CPU time over
 * the same span: on a shared machine it moves less with the neighbours' load than the wall clock,
 * and on SQLite it is the whole cost of a run (the database works in this process).
 */
async function measure(backend: Backend, size: number): Promise<Round> {
  let executed = 0
  const noop = defineTask({
    key: 'noop',
    run: () => {
      executed++
    },
  })
  const { store, roundRuns, serverCpu, close } = await backend.open(size)
  const engine = new Engine({ tasks: [noop], store, onError: (e) => console.error(e) })
  await engine.enqueueMany(
    noop,
    Array.from({ length: SCALE_RUNS }, () => ({})),
  )
  const server = await serverCpu?.()
  const start = performance.now()
  const cpu = process.cpuUsage()
  await engine.start(backend.worker)
  while (executed < SCALE_RUNS) await sleep(2)
  await engine.stop()
  const perSec = SCALE_RUNS / ((performance.now() - start) / 1000)
  const { user, system } = process.cpuUsage(cpu)
  const serverUs = server === undefined ? NaN : cpuSince(server, await serverCpu!())
  const stored = await roundRuns()
  await engine.close()
  await close?.()
  if (stored !== SCALE_RUNS) throw new Error(`${backend.name} at ${size}: expected ${SCALE_RUNS} succeeded runs of the round, found ${stored}`)
  return { perSec, cpuUs: (user + system) / SCALE_RUNS, serverCpuUs: serverUs / SCALE_RUNS }
}

/** Seeds each size, then measures the rounds in alternating order. */
async function curve(backend: Backend, sizeList: readonly number[]): Promise<Point[]> {
  const points = new Map<number, Point>()
  try {
    for (const size of sizeList) points.set(size, { size, seed: size === 0 ? { ms: 0, bytes: 0 } : await backend.prepare(size), rounds: [] })
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? sizeList : [...sizeList].reverse()
      for (const size of order) points.get(size)!.rounds.push(await measure(backend, size))
    }
  } finally {
    await backend.dispose()
  }
  return [...points.values()]
}

/** CPU time (µs) each server process had spent, by process id. */
type CpuReading = ReadonlyMap<number, number>

/**
 * The CPU time of server processes read from /proc (the database runs on this machine): user +
 * system clock ticks, at the 100 Hz Linux reports them in. Processes gone by then are left out.
 */
function readCpu(pids: readonly number[]): CpuReading {
  const reading = new Map<number, number>()
  for (const pid of pids) {
    try {
      // Fields after the command name (which ends at the last ')'): state is field 3, utime 14, stime 15.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      reading.set(pid, (Number(fields[11]) + Number(fields[12])) * 10_000)
    } catch {
      // Not on this machine, or exited.
    }
  }
  return reading
}

/** CPU time spent between two readings, by the processes of the second (new ones from zero). */
function cpuSince(before: CpuReading, after: CpuReading): number {
  if (after.size === 0) return NaN
  let us = 0
  for (const [pid, now] of after) us += now - (before.get(pid) ?? 0)
  return us
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-scale-'))
  const seeded = (size: number): string => join(dir, `seeded-${size}.db`)
  let round = 0
  return {
    name: 'SQLite',
    worker: { concurrency: SQLITE_CONCURRENCY },
    async prepare(size) {
      const start = performance.now()
      const store = sqliteStore(seeded(size))
      seedSqlite(store, size)
      await store.close()
      return { ms: performance.now() - start, bytes: statSync(seeded(size)).size }
    },
    async open(size) {
      const path = join(dir, `round-${++round}.db`)
      // The previous round's copy goes first: a 10M-run file is gigabytes.
      if (round > 1) rmSync(join(dir, `round-${round - 1}.db`), { force: true })
      if (size > 0) copyFileSync(seeded(size), path)
      const store = sqliteStore(path)
      const count = store.database.prepare("SELECT count(*) FROM runs WHERE seq > ? AND status = 'succeeded'").pluck()
      return { store, roundRuns: async () => count.get(size) as number }
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function postgresBackend(): Backend {
  const schemas: string[] = []
  const schemaFor = new Map<number, string>()
  let roundNo = 0
  const newSchema = (): string => {
    const schema = `bench_scale_${process.pid}_${schemas.length + 1}`
    schemas.push(schema)
    return schema
  }
  /** A statement on a connection of its own; returns the first column of its first row. */
  const scalar = async (sql: string, values: unknown[] = []): Promise<unknown> => {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    try {
      const { rows } = await client.query<unknown[]>({ text: sql, values, rowMode: 'array' })
      return rows[0]?.[0]
    } finally {
      await client.end()
    }
  }
  return {
    name: 'PostgreSQL',
    worker: PG_SETTING,
    async prepare(size) {
      const start = performance.now()
      const schema = newSchema()
      const store = postgresStore({ connectionString: PG_URL, schema })
      await store.ready()
      await seedPostgres(PG_URL, schema, size)
      await store.close()
      schemaFor.set(size, schema)
      const ms = performance.now() - start
      return { ms, bytes: Number(await scalar('SELECT pg_total_relation_size($1) + pg_total_relation_size($2)', [`"${schema}".runs`, `"${schema}".logs`])) }
    },
    async open(size) {
      const schema = size === 0 ? newSchema() : schemaFor.get(size)!
      const since = Date.now()
      // A pool of the bench's own (the store's defaults), named so that its server processes can
      // be told from those of anyone else using the database.
      const application = `${schema}_${++roundNo}`
      const pool = new pg.Pool({ connectionString: PG_URL, max: DEFAULT_POOL_MAX, connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS, application_name: application })
      pool.on('error', (error) => console.error(error))
      const store = postgresStore({ pool, schema })
      return {
        store,
        roundRuns: async () => Number(await scalar(`SELECT count(*) FROM "${schema}".runs WHERE created_at >= $1 AND status = 'succeeded'`, [since])),
        serverCpu: async () => readCpu(((await scalar('SELECT array_agg(pid) FROM pg_stat_activity WHERE application_name = $1', [application])) as number[] | null) ?? []),
        close: () => pool.end(),
      }
    },
    async dispose() {
      for (const schema of schemas.splice(0)) await scalar(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    },
  }
}

const best = (p: Point): number => Math.max(...p.rounds.map((r) => r.perSec))
const leastCpu = (p: Point): number => Math.min(...p.rounds.map((r) => r.cpuUs))
const leastServerCpu = (p: Point): number => Math.min(...p.rounds.map((r) => r.serverCpuUs))

/** Table rows of a curve, and its targets: each size ≥ 90 % of the empty store's rate. */
function report(backend: string, points: readonly Point[]): Row[] {
  const empty = points.find((p) => p.size === 0)
  for (const p of points) if (p.size > 0) target(`${backend} processing with ${(p.size / 1e6).toLocaleString('en-US')}M finished runs ÷ empty`, empty === undefined ? NaN : (best(p) / best(empty)) * 100, '≥', 90, '%')
  return points.map((p) => ({
    backend,
    'finished runs in store': p.size,
    'seed s': p.size === 0 ? '—' : (p.seed.ms / 1000).toFixed(1),
    'runs + logs MB': p.size === 0 ? '—' : Math.round(p.seed.bytes / 1e6),
    'processing runs/s': Math.round(best(p)),
    rounds: p.rounds.map((r) => Math.round(r.perSec).toLocaleString('en-US')).join(' / '),
    '÷ empty': empty === undefined ? '—' : `${((best(p) / best(empty)) * 100).toFixed(1)} %`,
    'CPU µs/run': Number(leastCpu(p).toFixed(1)),
    'CPU ÷ empty': empty === undefined ? '—' : `${((leastCpu(p) / leastCpu(empty)) * 100).toFixed(1)} %`,
    ...(Number.isNaN(leastServerCpu(p))
      ? {}
      : {
          'server CPU µs/run': Number(leastServerCpu(p).toFixed(1)),
          'server ÷ empty': empty === undefined ? '—' : `${((leastServerCpu(p) / leastServerCpu(empty)) * 100).toFixed(1)} %`,
        }),
  }))
}

/** The SQLite curve: table rows (targets recorded). */
export async function benchScaleSqlite(): Promise<Row[]> {
  return report('SQLite', await curve(sqliteBackend(), SQLITE_SIZES))
}

/** The PostgreSQL curve: table rows (targets recorded). */
export async function benchScalePostgres(): Promise<Row[]> {
  return report('PostgreSQL', await curve(postgresBackend(), PG_SIZES))
}
