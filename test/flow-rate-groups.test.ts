/**
 * Rate limits and groups across real processes (issue 12), on one SQLite file and on one
 * PostgreSQL schema.
 *
 * - Rate: a task with `limits.rate: { max: 20, perMs: 1000 }` and 100 runs over three worker
 *   processes. No window of one second holds more than 20 starts (the starts the engine recorded,
 *   and the handlers' own count), the limit binds (the runs take at least four seconds), no
 *   attempt is spent waiting, and the workers poll only once a minute: runs held back start when
 *   the window opens because the store says when, not because a worker looked again.
 * - Groups: `groupBy: args.group`, `groupConcurrency: 1`; ten keys, one with 5,000 pending runs
 *   enqueued first and nine with 20 each, eight slots (two processes of four). Each key runs one at
 *   a time (the handlers count themselves per key), every slot is used, and the nine small keys
 *   all finish before the big key is half done.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { AnyTask, Engine, Run } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { flowHarness, tasks, type Counter, type WorkerProcess } from './helpers/flow-processes.js'
import { describePostgres } from './helpers/postgres.js'

const { rated, grouped } = tasks as { rated: AnyTask; grouped: AnyTask }
const { dir, next, startWorkers, stopWorkers, runsOf, allSucceed, sqliteCounter, pgCounter, producer } = flowHarness()

const RATE = { max: 20, perMs: 1000 }
const RATED_RUNS = 100

/** The most starts in any window of `perMs` (each window starting at a start). */
function busiestWindow(starts: readonly number[], perMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! <= sorted[i]! - perMs) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

/**
 * 100 rated runs enqueued before three workers start (polling once a minute), all finished; then
 * what the store recorded of their starts.
 */
async function proveRate(engine: Engine, counter: Counter, store: string): Promise<void> {
  await engine.enqueueMany(
    rated,
    Array.from({ length: RATED_RUNS }, () => ({ counter: 'rated', ms: 5 })),
  )
  const workers = await startWorkers(3, store, { env: counter.env, pollMs: 60_000 })
  await allSucceed(engine, { task: 'rated' }, RATED_RUNS, workers)
  const runs = await runsOf(engine, { task: 'rated' })
  const starts = runs.map((r) => r.attempts[0]!.startedAt.getTime())
  expect(busiestWindow(starts, RATE.perMs), 'starts in the busiest second').toBeLessThanOrEqual(RATE.max)
  // 100 starts at 20 per second: the fifth batch cannot start before 4 s after the first.
  expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(4 * RATE.perMs)
  // Held back, not failed: one attempt each.
  expect(runs.every((r: Run) => r.attempt === 1 && r.attempts.length === 1)).toBe(true)
  expect(await counter.read('rated')).toMatchObject({ active: 0, starts: RATED_RUNS })
  const report = (await engine.stats()).flow.tasks.find((t) => t.task === 'rated')
  expect(report).toMatchObject({ rate: RATE, pending: 0, running: 0 })
  await stopWorkers(workers)
}

const BIG = 5000
const SMALL_KEYS = 9
const SMALL = 20

/**
 * The big key's 5,000 runs first, then 20 for each of nine small keys; two processes of four
 * slots. Waits until the small keys are done, then looks at what the big key did meanwhile.
 */
async function proveGroups(engine: Engine, counter: Counter, store: string): Promise<void> {
  await engine.enqueueMany(
    grouped,
    Array.from({ length: BIG }, () => ({ counter: 'g-big', also: 'all', group: 'big', ms: 100 })),
    { label: 'big' },
  )
  const small = Array.from({ length: SMALL_KEYS }, (_, k) => `s${k}`)
  await engine.enqueueMany(
    grouped,
    small.flatMap((key) => Array.from({ length: SMALL }, () => ({ counter: `g-${key}`, also: 'all', group: key, ms: 100 }))),
    { label: 'small' },
  )
  const workers: WorkerProcess[] = await startWorkers(2, store, { env: counter.env, concurrency: 4 })
  await allSucceed(engine, { task: 'grouped', label: 'small' }, SMALL_KEYS * SMALL, workers)
  const bigDone = (await engine.listRuns({ task: 'grouped', label: 'big', status: 'succeeded', pageSize: 1 })).total
  expect(bigDone, 'runs of the big key done when the small keys finished').toBeLessThan(BIG / 2)
  for (const key of ['big', ...small]) expect((await counter.read(`g-${key}`)).peak, `runs of ${key} at once`).toBe(1)
  expect((await counter.read('all')).peak, 'slots used at once').toBe(8)
  const report = (await engine.stats()).flow.tasks.find((t) => t.task === 'grouped')
  expect(report?.groupConcurrency).toBe(1)
  expect(report?.groups[0]).toMatchObject({ key: 'big' })
  await stopWorkers(workers)
}

describe('rate limits and groups across worker processes sharing one SQLite file', () => {
  const open = (): { engine: Engine; path: string } => {
    const path = join(dir, `rate-${next()}.db`)
    return { engine: producer(sqliteStore(path)), path }
  }

  it('a task limited to 20 starts per second: no second holds more, over three processes that poll once a minute', { timeout: 90_000 }, async () => {
    const { engine, path } = open()
    await engine.stats()
    await proveRate(engine, sqliteCounter(), path)
  })

  it('groups of one at a time: nine small keys finish before the big key enqueued first is half done', { timeout: 120_000 }, async () => {
    const { engine, path } = open()
    await engine.stats()
    await proveGroups(engine, sqliteCounter(), path)
  })
})

await describePostgres('rate limits and groups across worker processes sharing one PostgreSQL schema', (kit) => {
  it('a task limited to 20 starts per second: no second holds more, over three processes that poll once a minute', { timeout: 90_000 }, async () => {
    const schema = kit.newSchema()
    const counter = await pgCounter(kit, schema)
    const engine = producer(kit.open({ schema }))
    await engine.stats()
    await proveRate(engine, counter, kit.storeUrl(schema))
  })

  it('groups of one at a time: nine small keys finish before the big key enqueued first is half done', { timeout: 120_000 }, async () => {
    const schema = kit.newSchema()
    const counter = await pgCounter(kit, schema)
    const engine = producer(kit.open({ schema }))
    await engine.stats()
    await proveGroups(engine, counter, kit.storeUrl(schema))
  })
})
