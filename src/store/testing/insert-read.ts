/** Inserting runs and reading them back: one by id, lists with filters and paging, result reuse, wake-ups. */
import { describe, expect, it } from 'vitest'
import type { Store } from '../types.js'
import { T0, newRun, claimOne, completion, EMPTY_BATCH } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Inserting runs and reading them back. */
export function describeInsertAndRead(suite: SuiteContext): void {
  describe('insert and read', () => {
    it('stores runs and reads them back', async () => {
      const row = newRun({ tags: ['a', 'b'], createdBy: 'ada', uniqueKey: null, notAfter: T0 + 60_000, timeoutMs: 500, priority: 3, category: 'system' })
      const [outcome] = await suite.store.insertRuns([row])
      expect(outcome?.created).toBe(true)
      const run = await suite.store.getRun(row.id)
      expect(run).toMatchObject({
        id: row.id,
        task: 'work',
        label: 'test',
        queue: 'default',
        priority: 3,
        status: 'pending',
        args: { n: 1 },
        tags: ['a', 'b'],
        category: 'system',
        createdBy: 'ada',
        attempt: 0,
        attemptBase: 0,
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 1000 },
        timeoutMs: 500,
        runAt: new Date(T0),
        notAfter: new Date(T0 + 60_000),
        createdAt: new Date(T0),
        startedAt: null,
        finishedAt: null,
        attempts: [],
        logCount: 0,
        deletedAt: null,
        fireKey: null,
        requestId: null,
      })
      expect(outcome?.run).toEqual(run)
      expect(await suite.store.getRun('no-such-id')).toBeUndefined()
    })

    it('inserts a large batch in one call', async () => {
      const rows = Array.from({ length: 5000 }, (_, i) => newRun({ args: JSON.stringify({ i }) }))
      const outcomes = await suite.store.insertRuns(rows)
      expect(outcomes.map((o) => o.run.id)).toEqual(rows.map((r) => r.id))
      expect((await suite.store.listRuns({ pageSize: 1 })).total).toBe(5000)
    })

    it('inserts a batch whose rows differ in every column', async () => {
      const rows = Array.from({ length: 30 }, (_, i) =>
        newRun({ priority: i % 12, queue: `q${i % 3}`, label: `l${i}`, tags: i % 2 === 0 ? ['even'] : [], runAt: T0 + i, createdBy: i % 5 === 0 ? 'ada' : null, maxAttempts: 1 + (i % 4) }),
      )
      await suite.store.insertRuns(rows)
      for (const row of rows) {
        expect(await suite.store.getRun(row.id)).toMatchObject({ priority: row.priority, queue: row.queue, label: row.label, tags: row.tags, runAt: new Date(row.runAt), createdBy: row.createdBy, maxAttempts: row.maxAttempts })
      }
    })

    it('returns the active run holding a unique key instead of adding another, also within one batch', async () => {
      const first = newRun({ uniqueKey: 'k1' })
      const [a] = await suite.store.insertRuns([first])
      const [b, c] = await suite.store.insertRuns([newRun({ uniqueKey: 'k1' }), newRun({ uniqueKey: 'k2' })])
      expect(a?.created).toBe(true)
      expect(b).toMatchObject({ created: false, run: { id: first.id } })
      expect(c?.created).toBe(true)
      const [d, e] = await suite.store.insertRuns([newRun({ uniqueKey: 'k3' }), newRun({ uniqueKey: 'k3' })])
      expect(d?.created).toBe(true)
      expect(e).toMatchObject({ created: false, run: { id: d?.run.id } })
      // Once the holder has finished, the key is free again.
      const { token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion((await suite.store.getRun(first.id))!, token)] })
      const [again] = await suite.store.insertRuns([newRun({ uniqueKey: 'k1' })])
      expect(again?.created).toBe(true)
    })

    it('finds a recent success with the same arguments for reuse', async () => {
      const row = newRun({ argsHash: 'h1' })
      await suite.store.insertRuns([row])
      expect(await suite.store.findReusable('work', 'h1', T0 - 1000)).toBeUndefined()
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { finishedAt: T0 + 100 })] })
      expect((await suite.store.findReusable('work', 'h1', T0))?.id).toBe(row.id)
      expect(await suite.store.findReusable('work', 'h1', T0 + 200)).toBeUndefined()
      expect(await suite.store.findReusable('work', 'h2', T0)).toBeUndefined()
    })

    it('wakes listeners when runs arrive', async () => {
      let off: () => void = () => undefined
      const woken = new Promise<void>((resolve) => (off = suite.store.onRunsAvailable(resolve)))
      await suite.store.insertRuns([newRun()])
      await woken
      off()
    })
  })

  describe('lists', () => {
    it('filters, searches and pages, newest first', async () => {
      const rows = [
        newRun({ task: 'work', label: 'nightly', tags: ['db'], createdAt: T0, args: '{"file":"alpha.sql"}' }),
        newRun({ task: 'work', label: 'adhoc', queue: 'mail', createdAt: T0 + 1, createdBy: 'ada' }),
        newRun({ task: 'other', label: 'nightly', tags: ['db', 'big'], createdAt: T0 + 2, category: 'system' }),
        newRun({ task: 'other', label: '100%_done', createdAt: T0 + 3 }),
      ]
      for (const row of rows) await suite.store.insertRuns([row])
      const ids = async (filter: Parameters<Store['listRuns']>[0]) => (await suite.store.listRuns(filter)).data.map((r) => rows.findIndex((x) => x.id === r.id))
      expect(await ids({})).toEqual([3, 2, 1, 0])
      expect(await ids({ task: 'work' })).toEqual([1, 0])
      expect(await ids({ label: 'nightly' })).toEqual([2, 0])
      expect(await ids({ queue: 'mail' })).toEqual([1])
      expect(await ids({ tag: 'db' })).toEqual([2, 0])
      expect(await ids({ tag: 'big' })).toEqual([2])
      expect(await ids({ createdBy: 'ada' })).toEqual([1])
      expect(await ids({ category: 'system' })).toEqual([2])
      expect(await ids({ from: new Date(T0 + 1), to: new Date(T0 + 3) })).toEqual([2, 1])
      expect(await ids({ search: 'alpha' })).toEqual([0])
      expect(await ids({ search: 'OTHER' })).toEqual([3, 2])
      expect(await ids({ search: '%_' })).toEqual([3])
      expect(await ids({ search: rows[1]!.id })).toEqual([1])
      expect(await ids({ status: 'pending', task: 'other' })).toEqual([3, 2])
      expect(await ids({ status: ['succeeded'] })).toEqual([])
      const page = await suite.store.listRuns({ page: 2, pageSize: 3 })
      expect(page).toMatchObject({ total: 4, page: 2, pageSize: 3 })
      expect(page.data.map((r) => r.id)).toEqual([rows[0]!.id])
    })

    it('walks a list page by page after a given run, with or without counting', async () => {
      const rows = Array.from({ length: 7 }, (_, i) => newRun({ task: i % 2 === 0 ? 'even' : 'odd', createdAt: T0 + i }))
      for (const row of rows) await suite.store.insertRuns([row])
      const newestFirst = [...rows].reverse().map((r) => r.id)
      const seen: string[] = []
      let before: string | undefined
      for (;;) {
        const page = await suite.store.listRuns({ pageSize: 3, count: false, ...(before === undefined ? {} : { before }) })
        expect(page.total).toBe(-1)
        seen.push(...page.data.map((r) => r.id))
        if (page.data.length < 3) break
        before = page.data.at(-1)!.id
      }
      expect(seen).toEqual(newestFirst)
      // Filters still apply, and the total counts every match, not only those after the cursor.
      const odd = await suite.store.listRuns({ task: 'odd', before: rows[5]!.id })
      expect(odd.data.map((r) => r.id)).toEqual([rows[3]!.id, rows[1]!.id])
      expect(odd.total).toBe(3)
      // A cursor whose run is gone (retention deleted it mid-walk) still marks its place.
      const gone = newRun({ createdAt: T0 + 3 })
      expect((await suite.store.listRuns({ before: gone.id, pageSize: 10 })).data.map((r) => r.id)).toEqual(newestFirst)
      expect((await suite.store.listRuns({ before: rows[0]!.id.replace(/^.{8}/, '00000000'), pageSize: 10 })).data).toEqual([])
    })

    it('counts at most countLimit matching runs, saying when the count stopped there', async () => {
      const rows = Array.from({ length: 5 }, (_, i) => newRun({ task: i < 4 ? 'many' : 'few', createdAt: T0 + i }))
      await suite.store.insertRuns(rows)
      const capped = await suite.store.listRuns({ task: 'many', pageSize: 2, countLimit: 3 })
      expect(capped).toMatchObject({ total: 3, totalCapped: true })
      expect(capped.data.map((r) => r.id)).toEqual([rows[3]!.id, rows[2]!.id])
      // Exactly at the limit: at least that many match, so capped as well.
      expect(await suite.store.listRuns({ task: 'many', countLimit: 4 })).toMatchObject({ total: 4, totalCapped: true })
      const exact = await suite.store.listRuns({ task: 'many', countLimit: 5 })
      expect(exact.total).toBe(4)
      expect(exact.totalCapped).toBeUndefined()
      expect((await suite.store.listRuns({ task: 'few', countLimit: 3 })).total).toBe(1)
    })

    it('searches a bounded slice of the newest runs with scanLimit, and goes on from scanBefore until the oldest', async () => {
      // 10 runs, newest last; every third has the word in its arguments.
      const rows = Array.from({ length: 10 }, (_, i) => newRun({ task: 'scan', createdAt: T0 + i, args: JSON.stringify({ note: i % 3 === 0 ? `needle ${i}` : `hay ${i}` }) }))
      await suite.store.insertRuns(rows)
      const index = (id: string): number => rows.findIndex((r) => r.id === id)
      // The newest four (9, 8, 7, 6) hold two matches; the rest of the store is not read.
      const first = await suite.store.listRuns({ search: 'needle', scanLimit: 4, pageSize: 10 })
      expect(first.data.map((r) => index(r.id))).toEqual([9, 6])
      expect(first.total).toBe(2)
      expect(first.scanBefore).toBe(rows[6]!.id)
      // On from there: the next four (5, 4, 3, 2), then the last two, where the scan ends.
      const second = await suite.store.listRuns({ search: 'needle', scanLimit: 4, pageSize: 10, before: first.scanBefore! })
      expect(second.data.map((r) => index(r.id))).toEqual([3])
      expect(second.total).toBe(1)
      expect(second.scanBefore).toBe(rows[2]!.id)
      const last = await suite.store.listRuns({ search: 'needle', scanLimit: 4, pageSize: 10, before: second.scanBefore! })
      expect(last.data.map((r) => index(r.id))).toEqual([0])
      expect(last.scanBefore).toBeUndefined()
      // A slice that holds every run has nothing to go on with; pages and counts stay within the slice.
      const whole = await suite.store.listRuns({ search: 'needle', scanLimit: 10, pageSize: 2, page: 2 })
      expect(whole).toMatchObject({ total: 4, page: 2 })
      expect(whole.data.map((r) => index(r.id))).toEqual([3, 0])
      expect(whole.scanBefore).toBeUndefined()
      // However large the limit (the API takes any safe integer), it examines every run.
      const huge = await suite.store.listRuns({ search: 'needle', scanLimit: Number.MAX_SAFE_INTEGER, pageSize: 10 })
      expect(huge.data.map((r) => index(r.id))).toEqual([9, 6, 3, 0])
      expect(huge.scanBefore).toBeUndefined()
      // Other filters apply within the slice; other orders are refused, as with before.
      expect((await suite.store.listRuns({ task: 'other', scanLimit: 4 })).data).toEqual([])
      await expect(suite.store.listRuns({ search: 'needle', scanLimit: 4, sort: 'created' })).rejects.toThrow(/scanLimit: .*sort -created/)
    })
  })
}
