/**
 * Runs executed in-process by their caller and stored (`insertInProcessRun`): inserted running
 * and marked, never claimed, written through the usual fenced batch, rescued as failed.
 */
import { describe, expect, it } from 'vitest'
import { EMPTY_BATCH, T0, claimRequest, newRun, rescueExpired } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** In-process runs. */
export function describeInProcessRuns(suite: SuiteContext): void {
  describe('in-process runs', () => {
    const start = { token: 'in-process-token', workerId: 'host:1:in-process', startedAt: T0 + 1, leaseUntil: T0 + 30_000, from: 'admin' }

    it('stores an in-process run running and marked, reads it back, and writes its logs, progress and end fenced by its token', async () => {
      const row = newRun({ maxAttempts: 1, createdBy: 'ann', tags: ['t'] })
      const inserted = await suite.store.insertInProcessRun(row, start)
      const expected = {
        id: row.id,
        status: 'running',
        inProcess: true,
        startedFrom: 'admin',
        createdBy: 'ann',
        attempt: 1,
        maxAttempts: 1,
        startedAt: new Date(T0 + 1),
        workerId: 'host:1:in-process',
        leaseExpiresAt: new Date(T0 + 30_000),
        tags: ['t'],
        args: { n: 1 },
      }
      expect(inserted).toMatchObject(expected)
      expect(await suite.store.getRun(row.id)).toMatchObject(expected)
      expect((await suite.store.listRuns({ status: 'running' })).data.map((r) => [r.id, r.inProcess])).toEqual([[row.id, true]])
      // A durable run reads as not in-process.
      const [durable] = await suite.store.insertRuns([newRun()])
      expect(durable!.run).toMatchObject({ inProcess: false, startedFrom: null })
      expect(await suite.store.getRun(durable!.run.id)).toMatchObject({ inProcess: false, startedFrom: null })

      const stale = await suite.store.writeBatch({ ...EMPTY_BATCH, logs: [{ runId: row.id, token: 'stale', seq: 1, time: T0 + 2, level: 'info', message: 'no' }] })
      expect(stale.fenced).toEqual([])
      await suite.store.writeBatch({
        ...EMPTY_BATCH,
        logs: [{ runId: row.id, token: start.token, seq: 1, time: T0 + 2, level: 'info', message: 'hello' }],
        progress: [{ id: row.id, token: start.token, progress: { percent: 50 }, tags: ['t'] }],
      })
      expect(await suite.store.getRun(row.id)).toMatchObject({ logCount: 1, progress: { percent: 50 } })
      expect((await suite.store.getLogs(row.id, 0, 10)).map((l) => l.message)).toEqual(['hello'])
      const renewed = await suite.store.renewLeases(start.workerId, [{ id: row.id, token: start.token }], T0 + 60_000)
      expect(renewed).toEqual({ cancelRequested: [], lost: [] })
      const attempt = { number: 1, workerId: start.workerId, startedAt: new Date(T0 + 1), finishedAt: new Date(T0 + 9), outcome: 'succeeded' as const, error: null }
      const end = { id: row.id, status: 'succeeded' as const, finishedAt: T0 + 9, data: '{"ok":true}', error: null, progress: { percent: 100 }, tags: ['t'], attempt }
      expect((await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [{ ...end, token: 'stale' }] })).fenced).toEqual([row.id])
      expect((await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [{ ...end, token: start.token }] })).fenced).toEqual([])
      expect(await suite.store.getRun(row.id)).toMatchObject({
        status: 'succeeded',
        inProcess: true,
        startedFrom: 'admin',
        data: { ok: true },
        finishedAt: new Date(T0 + 9),
        attempts: [{ number: 1, outcome: 'succeeded', workerId: start.workerId }],
      })
    })

    it('is never claimed, and a lapsed lease is rescued as failed (no attempt left), not retried', async () => {
      const row = newRun({ maxAttempts: 1 })
      await suite.store.insertInProcessRun(row, { ...start, leaseUntil: T0 + 100 })
      expect(await suite.store.claimRuns(claimRequest({ now: T0 + 1_000_000, leaseUntil: T0 + 2_000_000 }))).toEqual([])
      expect((await suite.store.expiredLeases(T0 + 101, 10)).map((r) => [r.id, r.token, r.startedAt])).toEqual([[row.id, start.token, new Date(T0 + 1)]])
      const [rescued] = await rescueExpired(suite.store, T0 + 101)
      expect(rescued).toMatchObject({ id: row.id, status: 'failed', inProcess: true, error: { code: 'ERR_WORKER_LOST' }, attempts: [{ number: 1, outcome: 'failed' }] })
      expect(await suite.store.claimRuns(claimRequest({ now: T0 + 1_000_000, leaseUntil: T0 + 2_000_000 }))).toEqual([])
    })

    it('takes a cancel request while running, reported by the lease renewal', async () => {
      const row = newRun({ maxAttempts: 1 })
      await suite.store.insertInProcessRun(row, start)
      const outcome = await suite.store.cancelRuns({ ids: [row.id] }, 'operator', T0 + 5, 'ann')
      expect(outcome.requested.map((r) => r.id)).toEqual([row.id])
      expect(await suite.store.renewLeases(start.workerId, [{ id: row.id, token: start.token }], T0 + 60_000)).toEqual({ cancelRequested: [{ id: row.id, reason: 'operator' }], lost: [] })
    })
  })
}
