/**
 * Global concurrency across real processes (issue 12, step 1). Four worker processes, each with
 * local concurrency 10, share one store (a SQLite file, or a PostgreSQL schema); a task with
 * `limits: { concurrency: 3 }`, and a queue with `queues: { narrow: { concurrency: 2 } }`, never
 * have more handlers running at once than their limit across all of them, and every run finishes.
 * The handlers observe themselves through a counter all processes share (test/fixtures/flow-tasks.mjs):
 * a SQLite file of its own, or a table in the test schema, which each handler updates atomically
 * as it enters (running now, and the peak of that) and leaves. The same set-up without the limit
 * shows the counter seeing every slot busy at once, so a limit that does not hold fails these
 * tests. Handlers wait at a gate (a file the test creates) so that the moment of most contention
 * is held still and looked at, not hoped for. A worker killed with SIGKILL while it holds every
 * slot keeps them until its lease is rescued, then they are free again.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { AnyTask, Engine, Run, RunFilter } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { LOCAL, flowHarness, tasks, type Counter, type WorkerProcess } from './helpers/flow-processes.js'
import { describePostgres } from './helpers/postgres.js'

/** The global limit of the `limited` task (flow-tasks.mjs). */
const TASK_LIMIT = 3
/** The global limit of the `narrow` queue, given to every engine. */
const QUEUE_LIMIT = 2
const QUEUES = { narrow: { concurrency: QUEUE_LIMIT } }
const WORKERS = 4
/** Runs of each batch; each handler works 40 ms. */
const RUNS = 60

const { free, limited } = tasks as { free: AnyTask; limited: AnyTask }
const { dir, next, startWorkers, stopWorkers, runsOf, allSucceed, batch, gate, running, sqliteCounter, pgCounter, producer } = flowHarness()

/** Runs of one task in one queue, counted under one name (also their label). */
interface Kind {
  readonly task: AnyTask
  readonly queue?: string
  readonly counter: string
}

interface Proof {
  readonly engine: Engine
  readonly counter: Counter
  readonly workers: readonly WorkerProcess[]
  readonly limit: number
  /** Runs without the limit. */
  readonly control: Kind
  /** Runs under the limit. */
  readonly bounded: Kind
  /** Other runs without the limit, filling the slots the limit leaves free. */
  readonly probe: Kind
}

/** The runs of a kind: labelled with its counter's name. */
const filterOf = (kind: Kind): RunFilter => ({ task: kind.task.key, label: kind.counter })
const enqueue = (engine: Engine, kind: Kind, args: ReturnType<typeof batch>): Promise<Run[]> =>
  engine.enqueueMany(kind.task, args, { label: kind.counter, ...(kind.queue === undefined ? {} : { queue: kind.queue }) })

/**
 * The proof on running workers, each with 10 local slots. (1) Runs without the limit, held at a
 * gate, fill every slot of every process: the counter sees 40 at once, so it would see a broken
 * limit. (2) Runs under the limit, held at a gate, take `limit` slots and no more, the rest stay
 * pending; then other runs fill the 40 − limit slots left, which by pigeonhole needs a claim from
 * every process while the limited runs were due, older and offered to it: each was refused them
 * by the store's count, not by a limit of its own. (3) The gate opens: the limited runs drain, never
 * more than `limit` at once, each run executed once.
 */
async function proveLimit({ engine, counter, workers, limit, control, bounded, probe }: Proof): Promise<void> {
  const slots = workers.length * LOCAL
  const first = gate()
  await enqueue(engine, control, batch(control.counter, RUNS, first.path))
  await running(counter, [control.counter], slots, workers)
  first.open()
  await allSucceed(engine, filterOf(control), RUNS, workers)
  expect(await counter.read(control.counter), 'without the limit, every slot of every process runs at once').toEqual({ active: 0, peak: slots, starts: RUNS })

  const second = gate()
  await enqueue(engine, bounded, batch(bounded.counter, RUNS, second.path))
  await running(counter, [bounded.counter], limit, workers)
  await enqueue(engine, probe, batch(probe.counter, slots - limit, second.path))
  await running(counter, [bounded.counter, probe.counter], slots, workers)
  expect(await counter.read(bounded.counter), `with the limit, ${limit} handlers run at once, no more`).toMatchObject({ active: limit, peak: limit })
  expect((await counter.read(probe.counter)).active).toBe(slots - limit)
  const stored = await runsOf(engine, filterOf(bounded))
  expect([stored.filter((r) => r.status === 'running').length, stored.filter((r) => r.status === 'pending').length]).toEqual([limit, RUNS - limit])
  second.open()
  await allSucceed(engine, filterOf(bounded), RUNS, workers)
  await allSucceed(engine, filterOf(probe), slots - limit, workers)
  expect(await counter.read(bounded.counter), `draining, at most ${limit} handlers at once`).toEqual({ active: 0, peak: limit, starts: RUNS })
  const runs = await runsOf(engine, filterOf(bounded))
  expect(runs.every((r) => r.attempt === 1 && r.attempts.length === 1)).toBe(true)
}

describe('global concurrency across worker processes sharing one SQLite file', () => {
  it(`a task with limits.concurrency ${TASK_LIMIT}: never more than ${TASK_LIMIT} handlers at once over ${WORKERS} processes of concurrency 10`, { timeout: 90_000 }, async () => {
    const path = join(dir, `task-${next()}.db`)
    const engine = producer(sqliteStore(path))
    await engine.stats() // migrated before the workers open it
    const counter = sqliteCounter()
    const workers = await startWorkers(WORKERS, path, { env: counter.env })
    await proveLimit({ engine, counter, workers, limit: TASK_LIMIT, control: { task: free, counter: 'free' }, bounded: { task: limited, counter: 'limited' }, probe: { task: free, counter: 'probe' } })
    await stopWorkers(workers)
  })

  it(`a queue with concurrency ${QUEUE_LIMIT} (createEngine({ queues })): never more than ${QUEUE_LIMIT} of its handlers at once`, { timeout: 90_000 }, async () => {
    const path = join(dir, `queue-${next()}.db`)
    const engine = producer(sqliteStore(path), { queues: QUEUES })
    await engine.stats()
    const counter = sqliteCounter()
    const workers = await startWorkers(WORKERS, path, { env: counter.env, engine: { queues: QUEUES } })
    await proveLimit({ engine, counter, workers, limit: QUEUE_LIMIT, control: { task: free, queue: 'wide', counter: 'wide' }, bounded: { task: free, queue: 'narrow', counter: 'narrow' }, probe: { task: free, queue: 'wide', counter: 'probe' } })
    await stopWorkers(workers)
  })

  it(`a worker killed with SIGKILL holding all ${TASK_LIMIT} slots keeps them until its lease is rescued; then the others finish every run, the limit still holding`, { timeout: 90_000 }, async () => {
    const path = join(dir, `kill-${next()}.db`)
    const engine = producer(sqliteStore(path))
    const counter = sqliteCounter()
    const total = 30
    const bounded: Kind = { task: limited, counter: 'limited' }
    const probe: Kind = { task: free, counter: 'probe' }
    await enqueue(engine, bounded, batch('limited', total))

    // Alone, the victim takes every slot of the task; its handlers hold them (FLOW_HOLD) until it dies.
    const [victim] = await startWorkers(1, path, { env: { ...counter.env, FLOW_HOLD: '1' }, leaseMs: 1000 })
    const victimPid = victim!.child.pid!
    const onVictim = (workerId: string | null): boolean => workerId?.includes(`:${victimPid}:`) === true
    await running(counter, ['limited'], TASK_LIMIT, [victim!])
    const others = await startWorkers(WORKERS - 1, path, { env: counter.env, leaseMs: 1000 })
    const workers = [victim!, ...others]
    // Other runs fill every slot left on the four: each survivor claimed while the limited runs were due.
    const slots = WORKERS * LOCAL - TASK_LIMIT
    const probes = gate()
    await enqueue(engine, probe, batch('probe', slots, probes.path))
    await running(counter, ['limited', 'probe'], WORKERS * LOCAL, workers)
    expect(await counter.read('limited'), 'only the victim ran the task').toEqual({ active: TASK_LIMIT, peak: TASK_LIMIT, starts: TASK_LIMIT })
    const held = await runsOf(engine, { task: 'limited', status: 'running' })
    expect(held.map((r) => onVictim(r.workerId))).toEqual(Array.from({ length: TASK_LIMIT }, () => true))

    victim!.child.kill('SIGKILL')
    expect((await victim!.done).signal).toBe('SIGKILL')
    // Its handlers are gone: out of the count (and the peak starts again from what runs now).
    expect(counter.forget(victimPid, 'limited')).toBe(TASK_LIMIT)
    expect(counter.forget(victimPid, 'probe')).toBe(LOCAL - TASK_LIMIT)
    probes.open()

    await allSucceed(engine, filterOf(bounded), total, others)
    await allSucceed(engine, filterOf(probe), slots, others)
    const seen = await counter.read('limited')
    expect(seen.peak, `after the rescue, at most ${TASK_LIMIT} handlers run at once`).toBeLessThanOrEqual(TASK_LIMIT)
    expect(seen.peak, 'the freed slots are used').toBeGreaterThanOrEqual(2)
    // Each run's handler ran once on the survivors; the victim's three had run there before.
    expect(seen).toMatchObject({ active: 0, starts: total + TASK_LIMIT })

    const runs = await runsOf(engine, filterOf(bounded))
    const heldIds = new Set(held.map((r) => r.id))
    const rescues: number[] = []
    for (const run of runs) {
      if (heldIds.has(run.id)) {
        expect(run.attempts.map((a) => [a.outcome, a.error?.code ?? null])).toEqual([
          ['retry', 'ERR_WORKER_LOST'],
          ['succeeded', null],
        ])
        expect(onVictim(run.attempts[0]!.workerId)).toBe(true)
        rescues.push(run.attempts[0]!.finishedAt.getTime())
      } else {
        expect(run.attempts.map((a) => a.outcome)).toEqual(['succeeded'])
      }
    }
    // The dead worker's slots stayed taken until the rescue: no survivor started the task before it.
    const survivorStarts = runs.flatMap((r) => r.attempts.filter((a) => !onVictim(a.workerId)).map((a) => a.startedAt.getTime()))
    expect(survivorStarts).toHaveLength(total)
    expect(Math.min(...survivorStarts), 'first start on a survivor vs the first rescue (epoch ms)').toBeGreaterThanOrEqual(Math.min(...rescues))
    await stopWorkers(others)
  })
})

await describePostgres('global concurrency across worker processes sharing one PostgreSQL schema', (kit) => {
  it(`a task with limits.concurrency ${TASK_LIMIT}: never more than ${TASK_LIMIT} handlers at once over ${WORKERS} processes of concurrency 10`, { timeout: 90_000 }, async () => {
    const schema = kit.newSchema()
    const counter = await pgCounter(kit, schema)
    const engine = producer(kit.open({ schema }))
    await engine.stats()
    const workers = await startWorkers(WORKERS, kit.storeUrl(schema), { env: counter.env })
    await proveLimit({ engine, counter, workers, limit: TASK_LIMIT, control: { task: free, counter: 'free' }, bounded: { task: limited, counter: 'limited' }, probe: { task: free, counter: 'probe' } })
    await stopWorkers(workers)
  })

  it(`a queue with concurrency ${QUEUE_LIMIT} (createEngine({ queues })): never more than ${QUEUE_LIMIT} of its handlers at once`, { timeout: 90_000 }, async () => {
    const schema = kit.newSchema()
    const counter = await pgCounter(kit, schema)
    const engine = producer(kit.open({ schema }), { queues: QUEUES })
    await engine.stats()
    const workers = await startWorkers(WORKERS, kit.storeUrl(schema), { env: counter.env, engine: { queues: QUEUES } })
    await proveLimit({ engine, counter, workers, limit: QUEUE_LIMIT, control: { task: free, queue: 'wide', counter: 'wide' }, bounded: { task: free, queue: 'narrow', counter: 'narrow' }, probe: { task: free, queue: 'wide', counter: 'probe' } })
    await stopWorkers(workers)
  })
})
