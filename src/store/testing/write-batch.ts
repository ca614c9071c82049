/** Write batches: logs, progress, waits, completions and retries, each fenced by its lease token. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, claimRequest, claimOne, attempt, completion, EMPTY_BATCH } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Write batches. */
export function describeWriteBatches(suite: SuiteContext): void {
  describe('write batches (fenced writes)', () => {
    it('appends logs, saves progress, completes; a stale token writes nothing', async () => {
      const row = newRun()
      await suite.store.insertRuns([row])
      const { run, token } = await claimOne(suite.store)
      const lines = [1, 2, 3].map((seq) => ({ runId: run.id, token, seq, time: T0 + seq, level: 'info' as const, message: `line ${seq}` }))
      const stale = { runId: run.id, token: 'stale', seq: 4, time: T0, level: 'warn' as const, message: 'stale' }
      let outcome = await suite.store.writeBatch({ ...EMPTY_BATCH, logs: [...lines, stale], progress: [{ id: run.id, token, progress: { percent: 40, message: 'going' }, tags: ['x'] }] })
      expect(outcome.fenced).toEqual([])
      expect((await suite.store.getLogs(run.id, 0, 100)).map((l) => [l.seq, l.level, l.message])).toEqual([
        [1, 'info', 'line 1'],
        [2, 'info', 'line 2'],
        [3, 'info', 'line 3'],
      ])
      expect((await suite.store.getLogs(run.id, 2, 100)).map((l) => l.seq)).toEqual([3])
      expect((await suite.store.getLogs(run.id, 0, 2)).map((l) => l.seq)).toEqual([1, 2])
      expect(await suite.store.getRun(run.id)).toMatchObject({ progress: { percent: 40, message: 'going' }, tags: ['x'], logCount: 3 })
      outcome = await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, 'stale')] })
      expect(outcome.fenced).toEqual([run.id])
      expect((await suite.store.getRun(run.id))?.status).toBe('running')
      outcome = await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { progress: { percent: 100 } })] })
      expect(outcome.fenced).toEqual([])
      expect(await suite.store.getRun(run.id)).toMatchObject({
        status: 'succeeded',
        data: { ok: true },
        finishedAt: new Date(T0 + 5),
        progress: { percent: 100 },
        workerId: 'worker-a',
        leaseExpiresAt: null,
        attempts: [{ number: 1, workerId: 'worker-a', outcome: 'succeeded', error: null }],
      })
      // The token died with the completion.
      expect((await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token)] })).fenced).toEqual([run.id])
    })

    it('marks waiting and back, fenced', async () => {
      await suite.store.insertRuns([newRun()])
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, waits: [{ id: run.id, token, waiting: true }] })
      expect((await suite.store.getRun(run.id))?.status).toBe('waiting')
      expect((await suite.store.writeBatch({ ...EMPTY_BATCH, waits: [{ id: run.id, token: 'stale', waiting: false }] })).fenced).toEqual([run.id])
      await suite.store.writeBatch({ ...EMPTY_BATCH, waits: [{ id: run.id, token, waiting: false }] })
      expect((await suite.store.getRun(run.id))?.status).toBe('running')
    })

    it('puts a retried attempt back to pending at its time, keeping the attempt history', async () => {
      await suite.store.insertRuns([newRun()])
      const { run, token } = await claimOne(suite.store)
      const error = { message: 'boom', code: 'ERR_HANDLER', name: 'Error' }
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { status: 'pending', runAt: T0 + 2000, error, data: undefined, attempt: { ...attempt(run, 'retry'), error } })] })
      expect(await suite.store.getRun(run.id)).toMatchObject({ status: 'pending', runAt: new Date(T0 + 2000), finishedAt: null, error, attempts: [{ number: 1, outcome: 'retry', error }] })
      expect(await suite.store.claimRuns(claimRequest({ now: T0 + 1999 }))).toEqual([])
      const again = await claimOne(suite.store, { now: T0 + 2000 })
      expect(again.run).toMatchObject({ attempt: 2, attemptBase: 0 })
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(again.run, again.token, { status: 'pending', runAt: T0 + 2000, refundAttempt: true, data: undefined })] })
      expect(await suite.store.getRun(run.id)).toMatchObject({ attempt: 2, attemptBase: 1 })
    })

    it('lets a cancel requested meanwhile win over a retry', async () => {
      await suite.store.insertRuns([newRun()])
      const { run, token } = await claimOne(suite.store)
      await suite.store.cancelRuns({ ids: [run.id] }, 'stop it', T0 + 1)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { status: 'pending', runAt: T0, data: undefined })] })
      expect(await suite.store.getRun(run.id)).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED' } })
    })
  })

  describe('partial results', () => {
    it('stores a partial result with a progress write as the run\'s data, keeps it without one, fenced', async () => {
      await suite.store.insertRuns([newRun()])
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, progress: [{ id: run.id, token, progress: { percent: 10 }, tags: [], result: '{"copied":1}' }] })
      expect(await suite.store.getRun(run.id)).toMatchObject({ status: 'running', data: { copied: 1 }, progress: { percent: 10 } })
      await suite.store.writeBatch({ ...EMPTY_BATCH, progress: [{ id: run.id, token, progress: { percent: 20 }, tags: [] }] })
      expect(await suite.store.getRun(run.id)).toMatchObject({ data: { copied: 1 }, progress: { percent: 20 } })
      const stale = await suite.store.writeBatch({ ...EMPTY_BATCH, progress: [{ id: run.id, token: 'stale', progress: {}, tags: [], result: '{"stale":true}' }] })
      expect(stale.fenced).toEqual([run.id])
      expect((await suite.store.getRun(run.id))?.data).toEqual({ copied: 1 })
      // A retry stores the attempt's partial result, or clears it without one.
      const error = { message: 'boom', code: 'ERR_HANDLER', name: 'Error' }
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { status: 'pending', runAt: T0, error, data: '{"copied":2}', attempt: { ...attempt(run, 'retry'), error } })] })
      expect(await suite.store.getRun(run.id)).toMatchObject({ status: 'pending', data: { copied: 2 } })
      const again = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(again.run, again.token, { status: 'pending', runAt: T0, error, data: undefined, attempt: { ...attempt(again.run, 'retry'), error } })] })
      expect((await suite.store.getRun(run.id))?.data).toBeNull()
    })
  })

  describe('log counts from other log backends', () => {
    it('raises the log count of runs whose lines live elsewhere, fenced by token', async () => {
      await suite.store.insertRuns([newRun()])
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, logCounts: [{ id: run.id, token, count: 7 }, { id: run.id, token: 'stale', count: 99 }] })
      await suite.store.writeBatch({ ...EMPTY_BATCH, logCounts: [{ id: run.id, token, count: 5 }] })
      expect(await suite.store.getRun(run.id)).toMatchObject({ logCount: 7 })
      expect(await suite.store.getLogs(run.id, 0, 10)).toEqual([])
    })
  })
}
