/**
 * Flow control (`npm run bench -- flow`), on SQLite (a real file) and PostgreSQL, same run:
 *
 * - the cost of a limit across workers that does not bind: N no-op runs processed at concurrency
 *   50 without limits and with `limits: { concurrency: 100_000 }`, alternating, best of
 *   BENCH_REPEATS (2) each; the ratio is limited ÷ unlimited (target: within 10%);
 * - a binding limit: `limits: { concurrency: 10 }` over two engines with a store connection
 *   each (as two processes would have; the handlers share a counter in this process, so the
 *   maximum seen at once is exact), each at concurrency 20, handlers taking 1 ms: throughput
 *   and the most handlers running at once (must be ≤ 10);
 * - groups: 100 keys with `groupConcurrency: 1`, GROUP_RUNS runs each, enqueued key after key
 *   (the order least kind to fairness), one engine at concurrency 20, no-op handlers: throughput,
 *   and the first key's completion time ÷ the last key's (fairness; 1 is perfect).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Engine, defineTask, type AnyTask } from '../src/index.js'
import type { Store } from '../src/store/types.js'
import { postgresStore } from '../src/store/postgres/store.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import type { Row } from './table.js'

const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
export const FLOW_RUNS = Number(process.env.BENCH_RUNS ?? 100_000)
const BINDING_RUNS = Math.min(FLOW_RUNS, 5000)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2)

const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-flow-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
let placeNo = 0

interface Backend {
  readonly name: string
  /** A new, empty place (file or schema); returns a function opening a store on it. */
  place(): () => Store
  cleanup(): Promise<void>
}

const sqlite: Backend = {
  name: 'SQLite',
  place() {
    const file = join(dir, `flow-${++placeNo}.db`)
    return () => sqliteStore(file)
  },
  cleanup: () => Promise.resolve(),
}

const schemas: string[] = []
const postgres: Backend = {
  name: 'PostgreSQL',
  place() {
    const schema = `bench_flow_${process.pid}_${++placeNo}`
    schemas.push(schema)
    return () => postgresStore({ connectionString: PG_URL, schema })
  },
  async cleanup() {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await client.end()
  },
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Processes `count` queued runs of `task` on the engines given; returns runs per second. */
async function processAll(engines: readonly Engine[], task: AnyTask, count: number, executed: () => number, concurrency: number): Promise<number> {
  await engines[0]!.enqueueMany(task, Array.from({ length: count }, () => ({})))
  const start = performance.now()
  for (const engine of engines) await engine.start({ concurrency })
  while (executed() < count) await wait(2)
  for (const engine of engines) await engine.stop()
  const elapsed = performance.now() - start
  const { total } = await engines[0]!.listRuns({ status: 'succeeded', pageSize: 1 })
  if (total !== count) throw new Error(`expected ${count} succeeded runs, found ${total}`)
  return count / (elapsed / 1000)
}

/** No-op runs with and without a limit that never binds, alternating. */
async function nonBinding(backend: Backend): Promise<{ free: number; limited: number }> {
  let executed = 0
  const free = defineTask({ key: 'noop', run: () => void executed++ })
  const limited = defineTask({ key: 'noop', limits: { concurrency: 100_000 }, run: () => void executed++ })
  const best = { free: 0, limited: 0 }
  for (let round = 0; round < REPEATS; round++) {
    for (const [kind, task] of [['free', free], ['limited', limited]] as const) {
      const engine = new Engine({ tasks: [task], store: backend.place()(), onError: (e) => console.error(e) })
      executed = 0
      best[kind] = Math.max(best[kind], await processAll([engine], task, FLOW_RUNS, () => executed, 50))
      await engine.close()
      await backend.cleanup()
    }
  }
  return best
}

/** A limit of 10 across two engines, handlers of 1 ms: throughput and the most running at once. */
async function binding(backend: Backend): Promise<{ perSec: number; maxSeen: number }> {
  let executed = 0
  let running = 0
  let maxSeen = 0
  const task = defineTask({
    key: 'limited',
    limits: { concurrency: 10 },
    run: async () => {
      maxSeen = Math.max(maxSeen, ++running)
      await wait(1)
      running--
      executed++
    },
  })
  const open = backend.place()
  const engines = [0, 1].map(() => new Engine({ tasks: [task], store: open(), pollIntervalMs: 20, onError: (e) => console.error(e) }))
  const perSec = await processAll(engines, task, BINDING_RUNS, () => executed, 20)
  for (const engine of engines) await engine.close()
  await backend.cleanup()
  return { perSec, maxSeen }
}

const GROUP_KEYS = 100
const GROUP_RUNS = Math.max(1, Math.floor(Math.min(FLOW_RUNS, 20_000) / GROUP_KEYS))

/** 100 groups of one at a time: throughput, and how evenly the keys finish. */
async function groups(backend: Backend): Promise<{ perSec: number; fairness: number }> {
  const finished = new Map<string, number>()
  let executed = 0
  let start = 0
  const task = defineTask({
    key: 'grouped',
    fields: [{ key: 'tenant', type: 'string', required: true }] as const,
    limits: { groupBy: (args) => args.tenant, groupConcurrency: 1 },
    run: (ctx) => {
      finished.set(ctx.args.tenant, performance.now() - start)
      executed++
    },
  })
  const engine = new Engine({ tasks: [task], store: backend.place()(), onError: (e) => console.error(e) })
  const args = Array.from({ length: GROUP_KEYS }, (_, k) => Array.from({ length: GROUP_RUNS }, () => ({ tenant: `t${k}` }))).flat()
  for (let i = 0; i < args.length; i += 5000) await engine.enqueueMany(task, args.slice(i, i + 5000))
  start = performance.now()
  await engine.start({ concurrency: 20 })
  while (executed < args.length) await wait(2)
  const elapsed = performance.now() - start
  await engine.close()
  await backend.cleanup()
  const times = [...finished.values()]
  return { perSec: args.length / (elapsed / 1000), fairness: Math.min(...times) / Math.max(...times) }
}

export async function benchFlow(): Promise<Row[]> {
  const rows: Row[] = []
  for (const backend of [sqlite, postgres]) {
    const cost = await nonBinding(backend)
    const bound = await binding(backend)
    const fair = await groups(backend)
    rows.push({
      store: backend.name,
      'no limit /s': Math.round(cost.free),
      'limit not binding /s': Math.round(cost.limited),
      'limited ÷ free': (cost.limited / cost.free).toFixed(2),
      'limit 10 over 2 engines /s': Math.round(bound.perSec),
      'most at once': bound.maxSeen,
      [`${GROUP_KEYS} groups of 1 /s`]: Math.round(fair.perSec),
      'first ÷ last key done': fair.fairness.toFixed(2),
    })
  }
  return rows
}
