/** Artifacts: stored, listed, replaced and read; fenced by the writer's lease token. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, claimOne, completion, EMPTY_BATCH, rescueExpired } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Artifacts. */
export function describeArtifacts(suite: SuiteContext): void {
  describe('artifacts', () => {
    it('stores, lists, replaces and reads artifacts of a run its token holds', async () => {
      await suite.store.insertRuns([newRun()])
      const { run, token } = await claimOne(suite.store)
      const put = (name: string, data: Buffer, contentType = 'application/octet-stream', now = T0) => suite.store.putArtifact({ runId: run.id, token, name, contentType, data, now })
      expect(await put('report.csv', Buffer.from('a,b\n1,2\n'), 'text/csv')).toBe(true)
      expect(await put('blob.bin', Buffer.from([0, 255, 1]))).toBe(true)
      expect(await put('report.csv', Buffer.from('x\n'), 'text/csv', T0 + 1)).toBe(true)
      expect((await suite.store.listArtifacts(run.id)).map((a) => [a.name, a.size])).toEqual([
        ['blob.bin', 3],
        ['report.csv', 2],
      ])
      const blob = await suite.store.getArtifact(run.id, 'blob.bin')
      expect([...blob!.data]).toEqual([0, 255, 1])
      expect(await suite.store.getArtifact(run.id, 'report.csv')).toMatchObject({ contentType: 'text/csv', size: 2, createdAt: new Date(T0 + 1) })
      expect((await suite.store.getArtifact(run.id, 'report.csv'))?.data.toString()).toBe('x\n')
      expect(await suite.store.getArtifact(run.id, 'nope')).toBeUndefined()
    })

    it('fences artifact writes by the lease token: a stale worker cannot overwrite the rescued attempt\'s artifact', async () => {
      await suite.store.insertRuns([newRun()])
      const stale = await claimOne(suite.store, { leaseUntil: T0 + 100 })
      expect(await suite.store.putArtifact({ runId: stale.run.id, token: 'not-the-token', name: 'out.txt', contentType: 'text/plain', data: Buffer.from('forged'), now: T0 })).toBe(false)
      expect(await suite.store.listArtifacts(stale.run.id)).toEqual([])
      expect(await suite.store.putArtifact({ runId: 'no-such-run', token: stale.token, name: 'out.txt', contentType: 'text/plain', data: Buffer.from('x'), now: T0 })).toBe(false)
      // The worker goes quiet, its run is rescued and claimed again by another worker.
      expect((await rescueExpired(suite.store, T0 + 101)).map((r) => r.status)).toEqual(['pending'])
      const fresh = await claimOne(suite.store, { workerId: 'worker-b', now: T0 + 2000 })
      expect(fresh.run.id).toBe(stale.run.id)
      expect(await suite.store.putArtifact({ runId: fresh.run.id, token: fresh.token, name: 'out.txt', contentType: 'text/plain', data: Buffer.from('second attempt'), now: T0 + 201 })).toBe(true)
      // The first worker comes back and writes under its old token: nothing changes.
      expect(await suite.store.putArtifact({ runId: stale.run.id, token: stale.token, name: 'out.txt', contentType: 'text/html', data: Buffer.from('stale'), now: T0 + 300 })).toBe(false)
      expect(await suite.store.putArtifact({ runId: stale.run.id, token: stale.token, name: 'other.txt', contentType: 'text/plain', data: Buffer.from('stale'), now: T0 + 300 })).toBe(false)
      const stored = await suite.store.getArtifact(fresh.run.id, 'out.txt')
      expect([stored?.contentType, stored?.data.toString()]).toEqual(['text/plain', 'second attempt'])
      expect((await suite.store.listArtifacts(fresh.run.id)).map((a) => a.name)).toEqual(['out.txt'])
      // Once the attempt completed, its token writes nothing either.
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(fresh.run, fresh.token)] })
      expect(await suite.store.putArtifact({ runId: fresh.run.id, token: fresh.token, name: 'late.txt', contentType: 'text/plain', data: Buffer.from('late'), now: T0 + 400 })).toBe(false)
      expect((await suite.store.listArtifacts(fresh.run.id)).map((a) => a.name)).toEqual(['out.txt'])
    })
  })
}
