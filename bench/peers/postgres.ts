/**
 * Durable runs on PostgreSQL against graphile-worker and pg-boss: same machine, same database,
 * one run, no-op handlers. Each system gets a schema of its own (dropped afterwards) and its
 * best documented settings:
 *
 * - taskengine: `postgresStore`, a worker at the best of BENCH_PG_SETTINGS (concurrency/prefetch;
 *   24/500 is graphile-worker's concurrency and local queue);
 * - graphile-worker 0.18: concurrency 24, pool 25, local queue 500, batched completion
 *   (completeJobBatchDelay 0, failJobBatchDelay 0) — the configuration of its performance page;
 * - pg-boss 12: batch fetches (batchSize 100) on several local workers, continuous fetching
 *   while batches come back full, LISTEN/NOTIFY on for the latency run.
 *
 * Every phase uses a fresh schema, dropped as soon as the phase ends, and the whole comparison runs
 * BENCH_PG_ROUNDS times (default 2) in rotating order; each system's best round is reported.
 *
 * Measured: bulk enqueue of N in one call; processing N queued runs, timed from starting the
 * worker until the database shows every run done; latency from enqueue (by another connection
 * pool, as another process would) to handler start over sequential runs.
 */
import pg from 'pg'
import { run as runGraphile, makeWorkerUtils, type Runner } from 'graphile-worker'
import { PgBoss } from 'pg-boss'
import { Engine, defineTask, type AnyTask } from '../../src/index.js'
import { postgresStore } from '../../src/store/postgres/index.js'
import { percentile, type Row } from '../table.js'
import { PG_URL } from '../pg-url.js'
import { target } from '../targets.js'

const N = Number(process.env.BENCH_RUNS ?? 100_000)
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 1000)
const WARM_UP = 50
/** Worker settings tried for taskengine (concurrency/prefetch); the best is reported. 24/500 mirrors graphile-worker's. */
const TASKENGINE_SETTINGS = (process.env.BENCH_PG_SETTINGS ?? '24/500,100/500').split(',').map((s) => {
  const [concurrency, prefetch] = s.split('/').map(Number)
  return { concurrency: concurrency!, prefetch: prefetch ?? Math.max(concurrency!, 100) }
})

export interface PgFigures {
  readonly system: string
  readonly settings: string
  readonly enqueuePerSec: number
  readonly processPerSec: number
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number }
}

const schemas: string[] = []
let schemaNo = 0
function newSchema(prefix: string): string {
  const schema = `bench_${prefix}_${process.pid}_${++schemaNo}`
  schemas.push(schema)
  return schema
}

async function dropSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await client.end()
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Waits until the handler ran N times, then polls `doneInDatabase` until the database agrees
 * every run is done (completions may be written in batches).
 */
async function untilDone(executed: () => number, doneInDatabase: () => Promise<number>, what: string): Promise<void> {
  const deadline = Date.now() + 600_000
  for (;;) {
    const n = executed() < N ? executed() : await doneInDatabase()
    if (n >= N) return
    if (Date.now() > deadline) throw new Error(`${what}: ${n} of ${N} done after 10 minutes`)
    await sleep(executed() < N ? 2 : 20)
  }
}

/** Latency samples (ms) of `LATENCY_RUNS` sequential runs: `enqueue()` resolves once the run is stored. */
async function sampleLatency(enqueue: () => Promise<unknown>, started: { at: number; resolve: () => void }): Promise<{ p50: number; p95: number; p99: number }> {
  const samples: number[] = []
  for (let i = 0; i < LATENCY_RUNS + WARM_UP; i++) {
    const done = new Promise<void>((resolve) => (started.resolve = resolve))
    const t0 = performance.now()
    await enqueue()
    await done
    if (i >= WARM_UP) samples.push(started.at - t0)
  }
  samples.sort((a, b) => a - b)
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) }
}

// ─── taskengine ───────────────────────────────────────────────────────────────

export async function benchTaskenginePg(): Promise<PgFigures> {
  let executed = 0
  const noop = defineTask({
    key: 'noop',
    run: () => {
      executed++
    },
  })
  const engineOn = (schema: string, task: AnyTask = noop): Engine => new Engine({ tasks: [task], store: postgresStore({ connectionString: PG_URL, schema }), onError: (e) => console.error(e) })
  const argsList = Array.from({ length: N }, () => ({}))

  let engine = engineOn(newSchema('te'))
  await engine.enqueueMany(noop, argsList.slice(0, 1000)) // warm-up: migrations, plans
  let start = performance.now()
  await engine.enqueueMany(noop, argsList)
  const enqueuePerSec = N / ((performance.now() - start) / 1000)
  await engine.close()
  await dropSchemas()

  let best = { settings: '', perSec: 0 }
  for (const { concurrency, prefetch } of TASKENGINE_SETTINGS) {
    engine = engineOn(newSchema('te'))
    await engine.enqueueMany(noop, argsList)
    executed = 0
    start = performance.now()
    await engine.start({ concurrency, prefetch })
    await untilDone(() => executed, async () => (await engine.stats()).statuses.succeeded, 'taskengine')
    const perSec = N / ((performance.now() - start) / 1000)
    if (perSec > best.perSec) best = { settings: `concurrency ${concurrency}, prefetch ${prefetch}`, perSec }
    await engine.close()
    await dropSchemas()
  }

  const started = { at: 0, resolve: () => undefined as void }
  const probe = defineTask({
    key: 'probe',
    run: () => {
      started.at = performance.now()
      started.resolve()
    },
  })
  const schema = newSchema('te')
  const worker = engineOn(schema, probe)
  const producer = engineOn(schema, probe)
  await worker.start({ concurrency: 10 })
  const latencyMs = await sampleLatency(() => producer.enqueue(probe, {}), started)
  await producer.close()
  await worker.close()
  await dropSchemas()
  return { system: 'taskengine', settings: best.settings, enqueuePerSec, processPerSec: best.perSec, latencyMs }
}

// ─── graphile-worker ──────────────────────────────────────────────────────────

const GRAPHILE_FAST = { concurrency: 24, maxPoolSize: 25, preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } }

export async function benchGraphile(): Promise<PgFigures> {
  const quiet = { logger: new (await import('graphile-worker')).Logger(() => () => undefined) }
  const specs = Array.from({ length: N }, () => ({ identifier: 'noop', payload: {} }))

  let schema = newSchema('gw')
  let utils = await makeWorkerUtils({ connectionString: PG_URL, schema, ...quiet })
  await utils.migrate()
  await utils.addJobs(specs.slice(0, 1000))
  let start = performance.now()
  await utils.addJobs(specs)
  const enqueuePerSec = N / ((performance.now() - start) / 1000)
  await utils.release()
  await dropSchemas()

  schema = newSchema('gw')
  utils = await makeWorkerUtils({ connectionString: PG_URL, schema, ...quiet })
  await utils.migrate()
  await utils.addJobs(specs)
  const count = new pg.Client({ connectionString: PG_URL })
  await count.connect()
  let executed = 0
  start = performance.now()
  let runner: Runner = await runGraphile({
    connectionString: PG_URL,
    schema,
    noHandleSignals: true,
    taskList: {
      noop: async () => {
        executed++
      },
    },
    ...GRAPHILE_FAST,
    ...quiet,
  })
  // Completed jobs are deleted: done when none are left.
  await untilDone(() => executed, async () => N - Number((await count.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"._private_jobs`)).rows[0]!.n), 'graphile-worker')
  const processPerSec = N / ((performance.now() - start) / 1000)
  await runner.stop()
  await count.end()
  await utils.release()
  await dropSchemas()

  // Latency with its defaults (LISTEN/NOTIFY wakes a waiting worker; no local queue to refill).
  schema = newSchema('gw')
  utils = await makeWorkerUtils({ connectionString: PG_URL, schema, ...quiet })
  await utils.migrate()
  const started = { at: 0, resolve: () => undefined as void }
  runner = await runGraphile({
    connectionString: PG_URL,
    schema,
    concurrency: 10,
    noHandleSignals: true,
    taskList: {
      probe: async () => {
        started.at = performance.now()
        started.resolve()
      },
    },
    ...quiet,
  })
  const latencyMs = await sampleLatency(() => utils.addJob('probe', {}), started)
  await runner.stop()
  await utils.release()
  await dropSchemas()
  return { system: 'graphile-worker 0.18', settings: 'concurrency 24, local queue 500, batched completion', enqueuePerSec, processPerSec, latencyMs }
}

// ─── pg-boss ──────────────────────────────────────────────────────────────────

const BOSS_WORKERS = 4
const BOSS_BATCH = 100

async function newBoss(schema: string, listen = false): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: PG_URL, schema, max: 10, supervise: false, schedule: false, useListenNotify: listen })
  boss.on('error', (error) => console.error(`pg-boss: ${error.message}`))
  await boss.start()
  return boss
}

export async function benchPgBoss(): Promise<PgFigures> {
  const jobs = Array.from({ length: N }, () => ({ data: {} }))
  let boss = await newBoss(newSchema('pb'))
  await boss.createQueue('noop')
  await boss.insert('noop', jobs.slice(0, 1000))
  let start = performance.now()
  await boss.insert('noop', jobs)
  const enqueuePerSec = N / ((performance.now() - start) / 1000)
  await boss.stop({ graceful: false, timeout: 2000 })
  await dropSchemas()

  const schema = newSchema('pb')
  boss = await newBoss(schema)
  await boss.createQueue('noop')
  await boss.insert('noop', jobs)
  const count = new pg.Client({ connectionString: PG_URL })
  await count.connect()
  let executed = 0
  start = performance.now()
  await boss.work('noop', { batchSize: BOSS_BATCH, localConcurrency: BOSS_WORKERS, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }, async (batch) => {
    executed += batch.length
  })
  await untilDone(() => executed, async () => Number((await count.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".job WHERE state = 'completed'`)).rows[0]!.n), 'pg-boss')
  const processPerSec = N / ((performance.now() - start) / 1000)
  await count.end()
  await boss.stop({ graceful: false, timeout: 2000 })
  await dropSchemas()

  // Latency: LISTEN/NOTIFY on, one job per fetch; sent through another instance.
  const latencySchema = newSchema('pb')
  boss = await newBoss(latencySchema, true)
  await boss.createQueue('probe', { notify: true })
  const sender = await newBoss(latencySchema)
  const started = { at: 0, resolve: () => undefined as void }
  await boss.work('probe', { pollingIntervalSeconds: 0.5, localConcurrency: 2 }, async () => {
    started.at = performance.now()
    started.resolve()
  })
  const latencyMs = await sampleLatency(() => sender.send('probe', {}), started)
  await sender.stop({ graceful: false, timeout: 2000 })
  await boss.stop({ graceful: false, timeout: 2000 })
  await dropSchemas()
  return { system: 'pg-boss 12.38', settings: `batch ${BOSS_BATCH} × ${BOSS_WORKERS} workers, burst fetching`, enqueuePerSec, processPerSec, latencyMs }
}

/** Rounds of the whole comparison; each round starts with the next system, and each system's best round is reported. */
const ROUNDS = Number(process.env.BENCH_PG_ROUNDS ?? 2)

/** The best of several rounds of one system: highest rates, and the round with the lowest p50 latency. */
function bestOf(rounds: readonly PgFigures[]): PgFigures {
  const fastest = rounds.reduce((a, b) => (b.processPerSec > a.processPerSec ? b : a))
  const quickest = rounds.reduce((a, b) => (b.latencyMs.p50 < a.latencyMs.p50 ? b : a))
  return {
    ...fastest,
    enqueuePerSec: Math.max(...rounds.map((f) => f.enqueuePerSec)),
    latencyMs: quickest.latencyMs,
    settings: `${fastest.settings}; best of ${rounds.length}: process ${rounds.map((f) => Math.round(f.processPerSec).toLocaleString('en-US')).join(' / ')}`,
  }
}

/**
 * Runs all three, `BENCH_PG_ROUNDS` times in rotating order (so no system always goes first or
 * last on a warm or a tired database), and returns the table rows with ratios (taskengine against
 * graphile-worker and the best peer). Each phase drops its schema before the next begins.
 */
export async function benchPostgres(): Promise<Row[]> {
  const systems = [benchTaskenginePg, benchGraphile, benchPgBoss]
  const rounds = new Map<string, PgFigures[]>()
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...systems.slice(round % systems.length), ...systems.slice(0, round % systems.length)]
      for (const system of order) {
        try {
          const f = await system()
          rounds.set(f.system, [...(rounds.get(f.system) ?? []), f])
        } catch (error) {
          console.error(`\n${system.name} failed: ${(error as Error).stack ?? String(error)}`)
        } finally {
          await dropSchemas()
        }
      }
    }
  } finally {
    await dropSchemas()
  }
  const figures = [...rounds.values()].map(bestOf)
  if (figures[0]?.system !== 'taskengine') throw new Error('taskengine did not complete a round')
  const base = figures[0]
  const peers = figures.slice(1)
  const graphile = peers.find((f) => f.system.startsWith('graphile'))
  const bestPeerEnqueue = Math.max(...peers.map((f) => f.enqueuePerSec))
  const rows: Row[] = figures.map((f) => ({
    system: f.system,
    settings: f.settings,
    'enqueue/s': Math.round(f.enqueuePerSec),
    'process/s': Math.round(f.processPerSec),
    'p50 ms': f.latencyMs.p50,
    'p95 ms': f.latencyMs.p95,
    'p99 ms': f.latencyMs.p99,
    'te enqueue ÷': f === base ? '—' : `${(base.enqueuePerSec / f.enqueuePerSec).toFixed(2)}×`,
    'te process ÷': f === base ? '—' : `${(base.processPerSec / f.processPerSec).toFixed(2)}×`,
    'te p50 ÷': f === base ? '—' : `${(base.latencyMs.p50 / f.latencyMs.p50).toFixed(2)}×`,
  }))
  if (graphile !== undefined && peers.length === 2) {
    target('PostgreSQL processing ÷ graphile-worker (same run)', base.processPerSec / graphile.processPerSec, '≥', 3, '×')
    target('PostgreSQL latency p50', base.latencyMs.p50, '≤', 1, 'ms')
    target("PostgreSQL latency p50 − graphile-worker's (below it)", base.latencyMs.p50 - graphile.latencyMs.p50, '≤', 0, 'ms')
    target('PostgreSQL bulk enqueue ÷ best peer', base.enqueuePerSec / bestPeerEnqueue, '≥', 1.5, '×')
  } else console.error('PostgreSQL targets not checked: a peer failed to run')
  return rows
}

export { N as PG_RUNS, LATENCY_RUNS as PG_LATENCY_RUNS, PG_URL }
