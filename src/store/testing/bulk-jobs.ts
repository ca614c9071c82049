/** Bulk jobs: the bound and keyset selection over a filter, the job record, its lease and fences; list sorts. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, testRunId } from './fixtures.js'
import type { SuiteContext } from './suite.js'

const LEASE = 10_000

/** Bulk jobs and the run-list sorts. */
export function describeBulkJobs(suite: SuiteContext): void {
  describe('bulk jobs', () => {
    it('bounds a filter by count and newest id, then walks it by id in batches, never past the bound', async () => {
      const mine = Array.from({ length: 7 }, () => newRun({ task: 'bulk-a' }))
      await suite.store.insertRuns([...mine, newRun({ task: 'bulk-b' })])
      const bound = await suite.store.bulkBound({ task: 'bulk-a' })
      expect(bound).toEqual({ count: 7, upTo: mine[6]!.id })
      // Enqueued after the bound: never selected.
      await suite.store.insertRuns([newRun({ task: 'bulk-a' })])
      const seen: string[] = []
      let after: string | null = null
      for (;;) {
        const batch: string[] = await suite.store.bulkSelection({ task: 'bulk-a', page: 3, pageSize: 1, sort: 'due' }, bound.upTo!, after, 3)
        if (batch.length === 0) break
        expect(batch.length).toBeLessThanOrEqual(3)
        seen.push(...batch)
        after = batch.at(-1)!
      }
      expect(seen).toEqual(mine.map((r) => r.id))
      expect(await suite.store.bulkBound({ task: 'nothing' })).toEqual({ count: 0, upTo: null })
    })

    it('stores a job, holds it under a lease, saves progress fenced by owner, and ends it', async () => {
      const id = testRunId()
      const job = await suite.store.insertBulkJob({ id, action: 'cancel', filter: { task: 'x', status: ['pending'] }, upTo: 'z', total: 20, createdBy: 'ann', now: T0 })
      expect(job).toMatchObject({ id, action: 'cancel', filter: { task: 'x', status: ['pending'] }, upTo: 'z', cursor: null, total: 20, done: 0, skipped: 0, state: 'running', owner: null, createdBy: 'ann', createdAt: new Date(T0), finishedAt: null })
      expect(await suite.store.orphanBulkJobs(T0)).toEqual([id])
      expect(await suite.store.claimBulkJob(id, 'e1', T0, LEASE)).toMatchObject({ owner: 'e1', leaseExpiresAt: new Date(T0 + LEASE) })
      // Held: another engine cannot take it, and it is no orphan, until the lease ends.
      expect(await suite.store.claimBulkJob(id, 'e2', T0 + 1, LEASE)).toBeUndefined()
      expect(await suite.store.orphanBulkJobs(T0 + 1)).toEqual([])
      expect(await suite.store.saveBulkProgress(id, 'e1', { cursor: 'c1', done: 8, skipped: 2 }, T0 + 2, LEASE)).toMatchObject({ cursor: 'c1', done: 8, skipped: 2, state: 'running', leaseExpiresAt: new Date(T0 + 2 + LEASE) })
      expect(await suite.store.saveBulkProgress(id, 'e2', { cursor: 'c9', done: 9, skipped: 9 }, T0 + 3, LEASE)).toBeUndefined()
      // The lease ran out (the engine died): another engine resumes from the cursor.
      expect(await suite.store.orphanBulkJobs(T0 + 3 + LEASE)).toEqual([id])
      expect(await suite.store.claimBulkJob(id, 'e2', T0 + 3 + LEASE, LEASE)).toMatchObject({ owner: 'e2', cursor: 'c1', done: 8 })
      expect(await suite.store.saveBulkProgress(id, 'e1', { cursor: 'c2', done: 9, skipped: 2 }, T0 + 4 + LEASE, LEASE)).toBeUndefined()
      const ended = await suite.store.saveBulkProgress(id, 'e2', { cursor: 'c3', done: 18, skipped: 3, state: 'finished', total: 21 }, T0 + 5 + LEASE, LEASE)
      expect(ended).toMatchObject({ state: 'finished', done: 18, skipped: 3, total: 21, owner: null, leaseExpiresAt: null, finishedAt: new Date(T0 + 5 + LEASE) })
      expect(await suite.store.claimBulkJob(id, 'e2', T0 + 6 + LEASE, LEASE)).toBeUndefined()
      expect(await suite.store.cancelBulkJob(id, T0 + 7 + LEASE)).toMatchObject({ state: 'finished' })
      expect(await suite.store.cancelBulkJob('missing', T0)).toBeUndefined()
    })

    it('cancels a running job (its holder\'s next save is refused) and lets a job go on a graceful stop', async () => {
      const a = await suite.store.insertBulkJob({ id: testRunId(), action: 'retry', filter: {}, upTo: null, total: 0, createdBy: null, now: T0 })
      const b = await suite.store.insertBulkJob({ id: testRunId(), action: 'delete', filter: {}, upTo: null, total: 0, createdBy: null, now: T0 })
      await suite.store.claimBulkJob(a.id, 'e1', T0, LEASE)
      await suite.store.claimBulkJob(b.id, 'e1', T0, LEASE)
      expect(await suite.store.cancelBulkJob(a.id, T0 + 1)).toMatchObject({ state: 'cancelled', finishedAt: new Date(T0 + 1), owner: null })
      expect(await suite.store.saveBulkProgress(a.id, 'e1', { cursor: null, done: 1, skipped: 0 }, T0 + 2, LEASE)).toBeUndefined()
      await suite.store.releaseBulkJob(b.id, 'e1', T0 + 3)
      expect(await suite.store.orphanBulkJobs(T0 + 3)).toEqual([b.id])
      expect(await suite.store.claimBulkJob(b.id, 'e2', T0 + 3, LEASE)).toMatchObject({ owner: 'e2' })
      expect((await suite.store.listBulkJobs(10)).map((j) => j.id)).toEqual([b.id, a.id])
      expect(await suite.store.getBulkJob(a.id)).toMatchObject({ state: 'cancelled', done: 0 })
    })

    it('purges bulk jobs that ended before the cut-off (finished, cancelled, failed), never a running one', async () => {
      const job = (createdAt: number) => suite.store.insertBulkJob({ id: testRunId(), action: 'cancel', filter: {}, upTo: null, total: 0, createdBy: null, now: createdAt })
      const finished = await job(T0)
      const cancelled = await job(T0)
      const failed = await job(T0)
      const late = await job(T0)
      const running = await job(T0 - 1_000_000)
      await suite.store.claimBulkJob(finished.id, 'e1', T0, LEASE)
      await suite.store.saveBulkProgress(finished.id, 'e1', { cursor: null, done: 0, skipped: 0, state: 'finished' }, T0 + 10, LEASE)
      await suite.store.cancelBulkJob(cancelled.id, T0 + 20)
      await suite.store.claimBulkJob(failed.id, 'e1', T0, LEASE)
      await suite.store.saveBulkProgress(failed.id, 'e1', { cursor: null, done: 0, skipped: 0, state: 'failed', error: 'boom' }, T0 + 30, LEASE)
      await suite.store.cancelBulkJob(late.id, T0 + 5000)
      // Ended at or after the cut-off: kept.
      expect(await suite.store.purgeBulkJobs(T0 + 10)).toBe(0)
      expect(await suite.store.purgeBulkJobs(T0 + 1000)).toBe(3)
      for (const gone of [finished, cancelled, failed]) expect(await suite.store.getBulkJob(gone.id)).toBeUndefined()
      // However old, a running job stays (an engine may be working through it); so does one that ended later.
      expect(await suite.store.purgeBulkJobs(T0 + 1000)).toBe(0)
      expect(await suite.store.getBulkJob(running.id)).toMatchObject({ state: 'running' })
      expect(await suite.store.getBulkJob(late.id)).toMatchObject({ state: 'cancelled' })
      expect((await suite.store.listBulkJobs(10)).map((j) => j.id).sort()).toEqual([running.id, late.id].sort())
    })

    it('sorts run lists by creation, due time and finish time, pages stably, and refuses a cursor with another order', async () => {
      const late = newRun({ task: 'sort', runAt: T0 + 3000 })
      const early = newRun({ task: 'sort', runAt: T0 + 1000 })
      const middle = newRun({ task: 'sort', runAt: T0 + 2000 })
      await suite.store.insertRuns([late, early, middle])
      const ids = async (sort: Parameters<typeof suite.store.listRuns>[0]['sort'], page = 1, pageSize = 10): Promise<string[]> =>
        (await suite.store.listRuns({ task: 'sort', ...(sort === undefined ? {} : { sort }), page, pageSize })).data.map((r) => r.id)
      expect(await ids(undefined)).toEqual([middle.id, early.id, late.id])
      expect(await ids('created')).toEqual([late.id, early.id, middle.id])
      expect(await ids('due')).toEqual([early.id, middle.id, late.id])
      expect(await ids('-due')).toEqual([late.id, middle.id, early.id])
      expect([...(await ids('due', 1, 2)), ...(await ids('due', 2, 2))]).toEqual([early.id, middle.id, late.id])
      await suite.store.cancelRuns({ ids: [middle.id] }, 'x', T0 + 5)
      await suite.store.cancelRuns({ ids: [late.id] }, 'x', T0 + 9)
      expect(await ids('finished')).toEqual([middle.id, late.id, early.id])
      expect(await ids('-finished')).toEqual([late.id, middle.id, early.id])
      await expect(suite.store.listRuns({ sort: 'due', before: late.id })).rejects.toThrow(/before: walks the default order/)
    })
  })
}
