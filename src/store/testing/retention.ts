/** Retention: purges of runs, log lines and pools, and the counts of what they would delete. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, claimOne, claimRequest, completion, EMPTY_BATCH, testRunId } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Retention. */
export function describeRetention(suite: SuiteContext): void {
  describe('retention', () => {
    it('purges finished and deleted runs older than the cut-off with their logs and artifacts, oldest first, in batches', async () => {
      const old = [newRun(), newRun(), newRun()]
      const active = newRun({ runAt: T0 + 10_000_000 })
      await suite.store.insertRuns([...old, active])
      for (let i = 0; i < 3; i++) {
        const { run, token } = await claimOne(suite.store)
        const lines = [1, 2].map((seq) => ({ runId: run.id, token, seq, time: T0, level: 'info' as const, message: `l${seq}` }))
        await suite.store.writeBatch({ ...EMPTY_BATCH, logs: lines })
        expect(await suite.store.putArtifact({ runId: run.id, token, name: 'a.txt', contentType: 'text/plain', data: Buffer.from('x'), now: T0 })).toBe(true)
        await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { finishedAt: T0 + 10 + i })] })
      }
      const recent = newRun()
      await suite.store.insertRuns([recent])
      const { run: late, token: lateToken } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(late, lateToken, { finishedAt: T0 + 100_000 })] })

      // Logs first: lines of runs finished before the cut-off go, the runs stay.
      expect(await suite.store.purgeLogs(T0 + 1000, 3)).toBe(3)
      expect(await suite.store.purgeLogs(T0 + 1000, 100)).toBe(3)
      expect(await suite.store.purgeLogs(T0 + 1000, 100)).toBe(0)
      expect((await suite.store.getRun(old[0]!.id))?.status).toBe('succeeded')

      expect(await suite.store.purgeRuns(T0 + 1000, 2)).toEqual([old[0]!.id, old[1]!.id])
      expect(await suite.store.purgeRuns(T0 + 1000, 10)).toEqual([old[2]!.id])
      expect(await suite.store.purgeRuns(T0 + 1000, 10)).toEqual([])
      for (const run of old) {
        expect(await suite.store.getRun(run.id, { includeDeleted: true })).toBeUndefined()
        expect(await suite.store.listArtifacts(run.id)).toEqual([])
        expect(await suite.store.getLogs(run.id, 0, 10)).toEqual([])
      }
      // The pending run and the recently finished one stay; a deleted one goes once old enough.
      expect((await suite.store.getRun(active.id))?.status).toBe('pending')
      expect((await suite.store.getRun(late.id))?.status).toBe('succeeded')
      await suite.store.deleteRun(active.id, T0 + 50)
      expect(await suite.store.purgeRuns(T0 + 1000, 10)).toEqual([active.id])
    })
  })

  describe('retention in batches', () => {
    /** Inserts, claims and completes one run finished at `finishedAt` with `lines` log lines; returns its id. */
    const finished = async (finishedAt: number, lines: number): Promise<string> => {
      const run = newRun()
      await suite.store.insertRuns([run])
      const { run: claimed, token } = await claimOne(suite.store)
      expect(claimed.id).toBe(run.id)
      const logs = Array.from({ length: lines }, (_, i) => ({ runId: run.id, token, seq: i + 1, time: T0, level: 'info' as const, message: `l${i + 1}` }))
      await suite.store.writeBatch({ ...EMPTY_BATCH, logs, completions: [completion(claimed, token, { finishedAt })] })
      return run.id
    }

    it('a purge larger than one batch deletes every run past the cut-off with its logs, batch by batch, and nothing else', async () => {
      const old: string[] = []
      for (let i = 0; i < 7; i++) old.push(await finished(T0 + 10 + i, 2))
      const kept = await finished(T0 + 100_000, 2)
      const pending = newRun({ runAt: T0 + 10_000_000 })
      await suite.store.insertRuns([pending])
      // Deleted after the cut-off, but finished before it: it goes with the finished ones.
      await suite.store.deleteRun(old[6]!, T0 + 200_000)
      const batches: string[][] = []
      for (;;) {
        const ids = await suite.store.purgeRuns(T0 + 1000, 3)
        if (ids.length === 0) break
        batches.push(ids)
      }
      expect(batches.map((b) => b.length)).toEqual([3, 3, 1])
      expect(batches.flat().sort()).toEqual([...old].sort())
      // Oldest first: the first batch holds the three that finished first.
      expect([...batches[0]!].sort()).toEqual(old.slice(0, 3).sort())
      for (const id of old) {
        expect(await suite.store.getRun(id, { includeDeleted: true })).toBeUndefined()
        expect(await suite.store.getLogs(id, 0, 10)).toEqual([])
      }
      expect((await suite.store.getRun(kept))?.status).toBe('succeeded')
      expect((await suite.store.getLogs(kept, 0, 10)).map((l) => l.message)).toEqual(['l1', 'l2'])
      expect((await suite.store.getRun(pending.id))?.status).toBe('pending')
      expect(await suite.store.countPurgeable(T0 + 1000, null)).toEqual({ runs: 0, logLines: 0 })
    })

    it('ends a batch at its budget of log lines (ten per run it may take); a run with more goes alone', async () => {
      const heavy = await finished(T0 + 10, 25)
      const light = [await finished(T0 + 11, 12), await finished(T0 + 12, 12), await finished(T0 + 13, 12)]
      expect(await suite.store.countPurgeable(T0 + 1000, null)).toEqual({ runs: 4, logLines: 0 })
      // Budget 20 lines: the heavy run alone; budget 30: two light ones (24 lines; a third would pass 30).
      expect(await suite.store.purgeRuns(T0 + 1000, 2)).toEqual([heavy])
      expect(await suite.store.getLogs(heavy, 0, 100)).toEqual([])
      expect(await suite.store.purgeRuns(T0 + 1000, 3)).toEqual(light.slice(0, 2))
      expect(await suite.store.purgeRuns(T0 + 1000, 3)).toEqual(light.slice(2))
      expect(await suite.store.purgeRuns(T0 + 1000, 3)).toEqual([])
    })
  })

  describe('retention of pools', () => {
    it('deletes pools left without runs, leaves of a tree first, and counts what retention would delete', async () => {
      const pool = (parentPoolId: string | null, now = T0) => suite.store.createPool({ id: testRunId(), parentRunId: null, parentPoolId, label: null, now })
      const root = await pool(null)
      const child = await pool(root.id)
      const busy = await pool(null)
      const fresh = await pool(null, T0 + 5000)
      const inChild = newRun({ poolId: child.id })
      const inRoot = newRun({ poolId: root.id })
      const kept = newRun()
      await suite.store.insertRuns([inChild, inRoot, kept])
      for (let i = 0; i < 3; i++) {
        const { run, token } = await claimOne(suite.store)
        const lines = run.id === kept.id ? 3 : 2
        await suite.store.writeBatch({ ...EMPTY_BATCH, logs: Array.from({ length: lines }, (_, seq) => ({ runId: run.id, token, seq: seq + 1, time: T0, level: 'info' as const, message: `l${seq}` })) })
        await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { finishedAt: run.id === kept.id ? T0 + 100_000 : T0 + 10 })] })
      }
      await suite.store.insertRuns([newRun({ poolId: busy.id, runAt: T0 + 1e9 })])
      // Runs finished before the run cut-off go with their lines; lines of runs kept count apart.
      expect(await suite.store.countPurgeable(T0 + 1000, T0 + 200_000)).toEqual({ runs: 2, logLines: 3 })
      expect(await suite.store.countPurgeable(null, T0 + 200_000)).toEqual({ runs: 0, logLines: 7 })
      expect(await suite.store.countPurgeable(T0 + 1000, null)).toEqual({ runs: 2, logLines: 0 })
      // While their runs exist, pools stay.
      expect(await suite.store.purgePools(T0 + 1000, 10)).toBe(0)
      expect((await suite.store.purgeRuns(T0 + 1000, 10)).sort()).toEqual([inChild.id, inRoot.id].sort())
      expect(await suite.store.purgePools(T0 + 1000, 10)).toBe(1)
      expect(await suite.store.getPool(child.id)).toBeUndefined()
      expect(await suite.store.getPool(root.id)).toBeDefined()
      expect(await suite.store.purgePools(T0 + 1000, 10)).toBe(1)
      expect(await suite.store.getPool(root.id)).toBeUndefined()
      expect(await suite.store.purgePools(T0 + 1000, 10)).toBe(0)
      // A pool with a run, and one created after the cut-off (runs may still be added), stay.
      expect(await suite.store.getPool(busy.id)).toBeDefined()
      expect(await suite.store.getPool(fresh.id)).toBeDefined()
      expect(await suite.store.countPurgeable(T0 + 1000, T0 + 200_000)).toEqual({ runs: 0, logLines: 3 })
    })

    it('purges ended throttle windows, starts older than any rate window and groups long unserved, keeping what is live', async () => {
      const DAY = 86_400_000
      // A throttle window that ends at T0 + 1000, one that ends at T0 + 5000.
      await suite.store.insertRuns([newRun({ task: 'mail', throttle: { key: 'old', ms: 1000 } }), newRun({ task: 'mail', throttle: { key: 'live', ms: 5000 } })])
      // Starts under a rate limit two days ago and now; groups served two days ago and now.
      const taskRates = new Map([['work', { max: 100, perMs: 60_000 }]])
      const groups = new Map([['work', 5]])
      await suite.store.insertRuns([newRun({ groupKey: 'stale', runAt: T0 - 2 * DAY }), newRun({ groupKey: 'fresh', runAt: T0 - 2 * DAY })])
      // (The queue's rate is not claimed under again: only retention removes its old start.)
      const queueRates = new Map([['default', { max: 100, perMs: 60_000 }]])
      expect(await suite.store.claimRuns(claimRequest({ now: T0 - 2 * DAY, leaseUntil: T0, taskRates, queueRates, groups, limit: 1 }))).toHaveLength(1)
      expect(await suite.store.claimRuns(claimRequest({ now: T0, taskRates, groups }))).toHaveLength(1)
      // At T0 + 2000: one window ended, one start is older than a day, one group unserved for a day.
      expect(await suite.store.purgeFlowState(T0 + 2000, T0 - DAY)).toBe(3)
      expect(await suite.store.purgeFlowState(T0 + 2000, T0 - DAY)).toBe(0)
      // The live window still holds its key: a second enqueue with it returns the first run.
      const again = await suite.store.insertRuns([newRun({ task: 'mail', throttle: { key: 'live', ms: 5000 }, createdAt: T0 + 2000 })])
      expect(again[0]!.created).toBe(false)
      const usage = await suite.store.flowUsage({ rates: [{ key: 'task:work', since: T0 - 60_000 }], tasks: [], grouped: [], groupsLimit: 1 })
      expect(usage.starts.get('task:work')).toBe(1)
    })
  })
}
