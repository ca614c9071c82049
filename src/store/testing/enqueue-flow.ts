/**
 * Flow control on insert: group keys stored and read back, debounce (one pending run per task and
 * key, taking the latest values) and throttle (one run per task, key and window), also under
 * concurrent inserts (racing where the backend's calls overlap, see `concurrentCalls`).
 */
import { describe, expect, it } from 'vitest'
import type { NewRun } from '../contract/queue.js'
import type { Store } from '../types.js'
import { T0, claimOne, claimRequest, newRun, storesClosedAfterEach } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** A debounced run of `work` with key `shop`, starting 5 s after `at` (its creation). */
function debounced(at: number, overrides: Partial<NewRun> = {}): NewRun {
  return newRun({ debounceKey: 'shop', createdAt: at, runAt: at + 5_000, ...overrides })
}

/** A run of `work` throttled by key `user-7` for a minute from `at` (its creation). */
function throttled(at: number, overrides: Partial<NewRun> = {}): NewRun {
  return newRun({ throttle: { key: 'user-7', ms: 60_000 }, createdAt: at, runAt: at, ...overrides })
}

/** Every run the store holds of `task` in `status`. */
async function runsOf(store: Store, task: string, status: 'pending' | 'running'): Promise<string[]> {
  return (await store.listRuns({ task, status, pageSize: 100 })).data.map((r) => r.id)
}

/** Group keys, debounce and throttle on insert. */
export function describeEnqueueFlow(suite: SuiteContext): void {
  const together = suite.options.concurrentCalls === true ? 'racing each other' : 'made in turn'

  describe('group keys on insert', () => {
    it('stores each run\'s group key (or none) and reads it back, from single and batched inserts', async () => {
      const [one] = await suite.store.insertRuns([newRun({ groupKey: 't-42' })])
      expect(one).toMatchObject({ created: true, run: { groupKey: 't-42' } })
      expect(await suite.store.getRun(one!.run.id)).toMatchObject({ groupKey: 't-42' })
      const batch = [newRun({ groupKey: 'a' }), newRun(), newRun({ groupKey: 'b', uniqueKey: 'u' }), newRun({ groupKey: 'a', priority: 4 })]
      const outcomes = await suite.store.insertRuns(batch)
      expect(outcomes.map((o) => o.run.groupKey)).toEqual(['a', null, 'b', 'a'])
      for (const row of batch) expect((await suite.store.getRun(row.id))?.groupKey).toBe(row.groupKey ?? null)
      // Lists read it too (newest first).
      expect((await suite.store.listRuns({ pageSize: 10 })).data.map((r) => r.groupKey)).toEqual(['a', 'b', null, 'a', 't-42'])
    })
  })

  describe('debounce on insert', () => {
    it('keeps one pending run per task and key: a later insert gives it its values and start, and returns it', async () => {
      const first = debounced(T0, { args: '{"n":1}', label: 'first', tags: ['a'], priority: 1, groupKey: 'g1' })
      const [made] = await suite.store.insertRuns([first])
      expect(made).toMatchObject({ created: true, run: { id: first.id, runAt: new Date(T0 + 5_000) } })
      const second = debounced(T0 + 1_000, { args: '{"n":2}', label: 'second', tags: ['b', 'c'], priority: 7, notAfter: T0 + 90_000, groupKey: 'g2' })
      const [again] = await suite.store.insertRuns([second])
      expect(again?.created).toBe(false)
      const expected = { id: first.id, status: 'pending', args: { n: 2 }, label: 'second', tags: ['b', 'c'], priority: 7, runAt: new Date(T0 + 6_000), notAfter: new Date(T0 + 90_000), groupKey: 'g2', createdAt: new Date(T0) }
      expect(again?.run).toMatchObject(expected)
      expect(await suite.store.getRun(first.id)).toMatchObject(expected)
      expect(await suite.store.getRun(second.id)).toBeUndefined()
      expect(await runsOf(suite.store, 'work', 'pending')).toEqual([first.id])
      // Its start moved: not due at the first start any more, due at the new one.
      expect(await suite.store.claimRuns(claimRequest({ now: T0 + 5_000 }))).toEqual([])
      expect((await suite.store.claimRuns(claimRequest({ now: T0 + 6_000 }))).map((c) => [c.id, c.args])).toEqual([[first.id, { n: 2 }]])
    })

    it('never moves the start earlier: an insert made a little before (a racing clock) keeps the later start', async () => {
      const first = debounced(T0)
      await suite.store.insertRuns([first])
      const [late] = await suite.store.insertRuns([debounced(T0 - 500, { args: '{"n":2}' })])
      expect(late).toMatchObject({ created: false, run: { id: first.id, args: { n: 2 }, runAt: new Date(T0 + 5_000) } })
    })

    it('keys are per task; other keys and runs without one are left alone', async () => {
      const base = debounced(T0)
      await suite.store.insertRuns([base])
      const others = [debounced(T0 + 1, { task: 'other' }), debounced(T0 + 2, { debounceKey: 'mall' }), newRun({ createdAt: T0 + 3 })]
      const outcomes = await suite.store.insertRuns(others)
      expect(outcomes.map((o) => [o.run.id, o.created])).toEqual(others.map((r) => [r.id, true]))
      const [plain] = await suite.store.insertRuns([newRun({ createdAt: T0 + 4 })])
      expect(plain?.created).toBe(true)
      expect(await suite.store.getRun(base.id)).toMatchObject({ args: { n: 1 }, runAt: new Date(T0 + 5_000) })
    })

    it('a run with the key that is running does not count: the next insert makes a new pending run', async () => {
      const first = debounced(T0 - 10_000)
      await suite.store.insertRuns([first])
      const claimed = await claimOne(suite.store)
      expect(claimed.run.id).toBe(first.id)
      const next = debounced(T0 + 1, { args: '{"n":9}' })
      const [outcome] = await suite.store.insertRuns([next])
      expect(outcome).toMatchObject({ created: true, run: { id: next.id, args: { n: 9 } } })
      expect(await suite.store.getRun(first.id)).toMatchObject({ status: 'running', args: { n: 1 } })
      // And that one is now the pending run the key answers with.
      const [third] = await suite.store.insertRuns([debounced(T0 + 2, { args: '{"n":10}' })])
      expect(third).toMatchObject({ created: false, run: { id: next.id, args: { n: 10 } } })
    })

    it('an active run holding its unique key answers for a debounced insert', async () => {
      const holder = newRun({ uniqueKey: 'only-one', task: 'other' })
      await suite.store.insertRuns([holder])
      const [outcome] = await suite.store.insertRuns([debounced(T0, { uniqueKey: 'only-one' })])
      expect(outcome).toMatchObject({ created: false, run: { id: holder.id } })
      expect(await runsOf(suite.store, 'work', 'pending')).toEqual([])
    })

    it(`20 inserts with one key, ${together}, leave exactly one pending run, with one insert's values`, async () => {
      const rows = Array.from({ length: 20 }, (_, i) => debounced(T0 + i, { args: JSON.stringify({ n: i }) }))
      const outcomes = await Promise.all(rows.map((row) => suite.store.insertRuns([row])))
      const pending = await runsOf(suite.store, 'work', 'pending')
      expect(pending).toHaveLength(1)
      expect(outcomes.filter(([o]) => o!.created)).toHaveLength(1)
      expect(new Set(outcomes.map(([o]) => o!.run.id))).toEqual(new Set(pending))
      const stored = await suite.store.getRun(pending[0]!)
      expect(rows.map((r) => r.args)).toContain(JSON.stringify(stored!.args))
    })
  })

  describe('throttle on insert', () => {
    it('returns the run that took the key within its window, and takes it again after', async () => {
      const first = throttled(T0)
      expect((await suite.store.insertRuns([first]))[0]).toMatchObject({ created: true, run: { id: first.id } })
      const within = [throttled(T0 + 1), throttled(T0 + 59_999, { args: '{"n":2}' })]
      for (const row of within) expect((await suite.store.insertRuns([row]))[0]).toMatchObject({ created: false, run: { id: first.id, args: { n: 1 } } })
      // Per task: another task's key of the same name is its own.
      const [other] = await suite.store.insertRuns([throttled(T0 + 2, { task: 'other' })])
      expect(other?.created).toBe(true)
      // The window ends a minute after the first run's creation, whatever came in between.
      const after = throttled(T0 + 60_000)
      expect((await suite.store.insertRuns([after]))[0]).toMatchObject({ created: true, run: { id: after.id } })
      expect((await suite.store.insertRuns([throttled(T0 + 119_999)]))[0]).toMatchObject({ created: false, run: { id: after.id } })
      expect((await suite.store.listRuns({ task: 'work', pageSize: 10 })).total).toBe(2)
    })

    it('the key holds whatever the holder\'s status, until the holder is deleted', async () => {
      const first = throttled(T0)
      await suite.store.insertRuns([first])
      await claimOne(suite.store)
      expect((await suite.store.insertRuns([throttled(T0 + 1)]))[0]).toMatchObject({ created: false, run: { id: first.id, status: 'running' } })
      await suite.store.deleteRun(first.id, T0 + 2)
      const next = throttled(T0 + 3)
      expect((await suite.store.insertRuns([next]))[0]).toMatchObject({ created: true, run: { id: next.id } })
      expect((await suite.store.insertRuns([throttled(T0 + 4)]))[0]).toMatchObject({ created: false, run: { id: next.id } })
    })

    it('in one batch, the first throttled run takes the key and the next gets it', async () => {
      const [a, b, plain] = [throttled(T0), throttled(T0 + 1), newRun()]
      const outcomes = await suite.store.insertRuns([a, plain, b])
      expect(outcomes.map((o) => [o.run.id, o.created])).toEqual([
        [a.id, true],
        [plain.id, true],
        [a.id, false],
      ])
    })

    it(`20 inserts with one key, ${together}, make exactly one run`, async () => {
      const rows = Array.from({ length: 20 }, (_, i) => throttled(T0 + i))
      const outcomes = await Promise.all(rows.map((row) => suite.store.insertRuns([row])))
      const created = outcomes.filter(([o]) => o!.created)
      expect(created).toHaveLength(1)
      expect(new Set(outcomes.map(([o]) => o!.run.id))).toEqual(new Set([created[0]![0]!.run.id]))
      expect((await suite.store.listRuns({ task: 'work', pageSize: 100 })).total).toBe(1)
    })
  })

  const place = suite.options.durable
  if (place !== undefined) {
    describe('debounce and throttle across stores sharing a place', () => {
      const openOn = storesClosedAfterEach()
      it(`two stores, 10 inserts each, ${together}: one pending run per debounce key, one run per throttle key`, async () => {
        const open = place()
        const stores = [await openOn(open), await openOn(open)]
        const inserts = stores.flatMap((store, s) =>
          Array.from({ length: 10 }, (_, i) => [
            store.insertRuns([debounced(T0 + i, { args: JSON.stringify({ n: s * 10 + i }) })]),
            store.insertRuns([throttled(T0 + i, { task: 'other' })]),
          ]).flat(),
        )
        await Promise.all(inserts)
        expect(await runsOf(stores[0]!, 'work', 'pending')).toHaveLength(1)
        expect((await stores[1]!.listRuns({ task: 'other', pageSize: 100 })).total).toBe(1)
      })
    })
  }

  const begin = suite.options.transactionalClient
  if (begin !== undefined) {
    describe('debounce and throttle in a caller\'s transaction', () => {
      it('debounces and throttles inside it; a rollback takes both back', async () => {
        const tx = await begin(suite.store)
        const first = debounced(T0)
        const held = throttled(T0)
        try {
          await suite.store.insertRuns([first], { client: tx.client })
          expect((await suite.store.insertRuns([debounced(T0 + 1, { args: '{"n":2}' })], { client: tx.client }))[0]).toMatchObject({ created: false, run: { id: first.id, args: { n: 2 } } })
          await suite.store.insertRuns([held], { client: tx.client })
          expect((await suite.store.insertRuns([throttled(T0 + 1)], { client: tx.client }))[0]).toMatchObject({ created: false, run: { id: held.id } })
        } finally {
          await tx.rollback()
        }
        expect((await suite.store.listRuns({})).total).toBe(0)
        // Nothing of the rolled-back transaction holds the keys.
        const again = throttled(T0 + 2)
        expect((await suite.store.insertRuns([again]))[0]).toMatchObject({ created: true, run: { id: again.id } })
      })
    })
  }
}
