/**
 * An enqueue in a process whose engine runs a worker: on SQLite the worker takes the runs in the
 * enqueue's own transaction (`insertRunsAndClaim`), so no claim transaction of its own follows
 * each enqueue; events still come in order, and runs the worker does not serve are left to others.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { createEngine, defineTask, type RunEvent } from '../../src/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import type { Store } from '../../src/store/types.js'
import { runReaches } from '../helpers/runs.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-enqueue-claim-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let fileNo = 0

/** A SQLite file store whose claims are counted, by kind. */
function countedStore(): { store: Store; calls: { claimRuns: number; insertRunsAndClaim: number } } {
  const inner = sqliteStore(join(dir, `store-${++fileNo}.db`))
  const calls = { claimRuns: 0, insertRunsAndClaim: 0 }
  const store = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown
      if (typeof value !== 'function') return value
      if (key === 'claimRuns' || key === 'insertRunsAndClaim') {
        return (...args: unknown[]) => {
          calls[key]++
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      }
      return (value as (...a: unknown[]) => unknown).bind(target)
    },
  })
  return { store, calls }
}

const work = defineTask({ key: 'work', run: () => 'ok' })
const other = defineTask({ key: 'other', queue: 'mail', run: () => 'other' })

it('takes each run in the enqueue transaction: no wake-up claim per enqueue, events in order', async () => {
  const { store, calls } = countedStore()
  const engine = createEngine({ tasks: [work], store })
  const events: RunEvent[] = []
  engine.subscribe((event) => void events.push(event))
  try {
    await engine.start({ concurrency: 4 })
    // Settle the worker's first look for runs.
    await runReaches(engine, (await engine.enqueue(work, {})).id, 'succeeded')
    const before = { ...calls }
    const ids: string[] = []
    for (let i = 0; i < 10; i++) {
      const run = await engine.enqueue(work, {})
      ids.push(run.id)
      expect((await runReaches(engine, run.id, 'succeeded')).data).toBe('ok')
    }
    expect(calls.insertRunsAndClaim - before.insertRunsAndClaim).toBe(10)
    // The worker still looks for more once a run ends (one claim per run, finding none); before,
    // each enqueue also woke it for a claim transaction of its own (two per run).
    expect(calls.claimRuns - before.claimRuns).toBeLessThanOrEqual(10)
    for (const id of ids) {
      const types = events.filter((e) => e.runId === id).map((e) => e.type)
      expect(types.indexOf('created')).toBe(0)
      expect(types.indexOf('started')).toBeGreaterThan(0)
      expect(types.indexOf('succeeded')).toBeGreaterThan(types.indexOf('started'))
    }
  } finally {
    await engine.close()
  }
})

it('leaves runs of queues it does not serve to the worker that does, and inserts alone once stopped', async () => {
  const { store, calls } = countedStore()
  const producer = createEngine({ tasks: [work, other], store })
  const consumer = createEngine({ tasks: [other], store })
  try {
    await producer.start({ concurrency: 2, queues: ['default'] })
    await consumer.start({ concurrency: 2 })
    const mine = await producer.enqueue(work, {})
    const theirs = await producer.enqueue(other, {})
    expect((await runReaches(producer, mine.id, 'succeeded')).workerId).toBe(producer.workerId)
    expect((await runReaches(producer, theirs.id, 'succeeded')).workerId).toBe(consumer.workerId)
    await producer.stop()
    const used = calls.insertRunsAndClaim
    const later = await producer.enqueue(other, {})
    expect(calls.insertRunsAndClaim).toBe(used)
    expect((await runReaches(producer, later.id, 'succeeded')).workerId).toBe(consumer.workerId)
  } finally {
    await consumer.close()
    await producer.close()
  }
})

it('a stop while an enqueue’s claim is being answered waits for it: the run goes back unspent before the worker is gone', async () => {
  // The claim is made in the store with the insert; its answer reaches the worker only once the
  // test lets it, after the worker began to stop.
  const inner = sqliteStore(join(dir, `store-${++fileNo}.db`))
  let answer: () => void = () => undefined
  const answered = new Promise<void>((resolve) => (answer = resolve))
  let inserted: () => void = () => undefined
  const insertedAndClaimed = new Promise<void>((resolve) => (inserted = resolve))
  let removed = false
  const store = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown
      if (typeof value !== 'function') return value
      if (key === 'removeWorker') removed = true
      if (key !== 'insertRunsAndClaim') return (value as (...a: unknown[]) => unknown).bind(target)
      return async (...args: Parameters<NonNullable<Store['insertRunsAndClaim']>>) => {
        const result = await target.insertRunsAndClaim(...args)
        inserted()
        await answered
        return result
      }
    },
  })
  const engine = createEngine({ tasks: [work], store })
  try {
    await engine.start({ concurrency: 1 })
    const enqueued = engine.enqueue(work, {})
    await insertedAndClaimed
    const stopping = engine.stop({ graceMs: 0 })
    // Before, the worker was gone (its row removed) while the claim was still out. Now nothing
    // happens until the answer comes, so no event can end this wait: it is bounded.
    await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, 300))])
    expect(removed, 'worker row removed with a claim still out').toBe(false)
    answer()
    const run = await enqueued
    await stopping
    expect(await engine.getRun(run.id)).toMatchObject({ status: 'pending', attempt: 0, attempts: [], startedAt: null, workerId: null })
  } finally {
    answer()
    await engine.close()
  }
})
