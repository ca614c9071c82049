/** Steering: cancel (at once or by request, also by pool), retry with a fresh budget, soft delete. */
import { describe, expect, it } from 'vitest'
import { ConflictError } from '../../errors.js'
import { T0, newRun, claimRequest, claimOne, completion, EMPTY_BATCH, testRunId } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Steering. */
export function describeCancelRetryDelete(suite: SuiteContext): void {
  describe('control', () => {
    it('cancels pending runs at once and asks running ones, also by pool', async () => {
      const pool = await suite.store.createPool({ id: testRunId(), parentRunId: null, parentPoolId: null, label: null, now: T0 })
      const running = newRun()
      const pending = newRun({ runAt: T0 + 100_000 })
      const inPool = newRun({ poolId: pool.id, runAt: T0 + 100_000 })
      await suite.store.insertRuns([running])
      await claimOne(suite.store)
      await suite.store.insertRuns([pending, inPool])
      const outcome = await suite.store.cancelRuns({ ids: [running.id, pending.id], poolIds: [pool.id] }, 'enough', T0 + 5)
      expect(outcome.cancelled.map((r) => r.id).sort()).toEqual([pending.id, inPool.id].sort())
      expect(outcome.requested.map((r) => r.id)).toEqual([running.id])
      expect(await suite.store.getRun(pending.id)).toMatchObject({ status: 'cancelled', finishedAt: new Date(T0 + 5), cancelReason: 'enough', error: { code: 'ERR_CANCELLED', message: 'cancelled: enough' } })
      expect(await suite.store.getRun(running.id)).toMatchObject({ status: 'running', cancelRequestedAt: new Date(T0 + 5), cancelReason: 'enough' })
      // Asking twice changes nothing.
      expect(await suite.store.cancelRuns({ ids: [running.id, pending.id] }, 'again', T0 + 6)).toEqual({ cancelled: [], requested: [] })
    })

    it('keeps who asked for a cancel with the run (pending or running; a later ask changes nothing), and a retry forgets it', async () => {
      const running = newRun()
      const pending = newRun({ runAt: T0 + 100_000 })
      const unsaid = newRun({ runAt: T0 + 100_000 })
      await suite.store.insertRuns([running])
      const { token } = await claimOne(suite.store)
      await suite.store.insertRuns([pending, unsaid])
      expect((await suite.store.getRun(pending.id))?.cancelledBy).toBeNull()
      const outcome = await suite.store.cancelRuns({ ids: [running.id, pending.id] }, 'wrong tenant', T0 + 5, 'ada')
      expect([...outcome.cancelled, ...outcome.requested].map((r) => r.cancelledBy)).toEqual(['ada', 'ada'])
      await suite.store.cancelRuns({ ids: [running.id, unsaid.id] }, 'again', T0 + 6)
      expect(await suite.store.getRun(pending.id)).toMatchObject({ status: 'cancelled', cancelReason: 'wrong tenant', cancelledBy: 'ada' })
      expect(await suite.store.getRun(running.id)).toMatchObject({ status: 'running', cancelReason: 'wrong tenant', cancelledBy: 'ada' })
      expect(await suite.store.getRun(unsaid.id)).toMatchObject({ status: 'cancelled', cancelReason: 'again', cancelledBy: null })
      const run = (await suite.store.getRun(running.id))!
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { status: 'cancelled', error: { message: 'cancelled', code: 'ERR_CANCELLED', name: 'CancelledError' }, data: undefined })] })
      expect(await suite.store.retryRun(running.id, T0 + 7)).toMatchObject({ status: 'pending', cancelReason: null, cancelledBy: null })
    })

    it('retries failed and cancelled runs with a fresh budget; refuses others', async () => {
      await suite.store.insertRuns([newRun({ maxAttempts: 1 })])
      const { run, token } = await claimOne(suite.store)
      await suite.store.cancelRuns({ ids: [run.id] }, 'stop', T0 + 1)
      expect(await suite.store.retryRun(run.id, T0 + 2)).toBeUndefined()
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { status: 'cancelled', error: { message: 'cancelled', code: 'ERR_CANCELLED', name: 'CancelledError' }, data: undefined })] })
      const retried = await suite.store.retryRun(run.id, T0 + 3)
      expect(retried).toMatchObject({ status: 'pending', attempt: 1, attemptBase: 1, cancelRequestedAt: null, cancelReason: null, error: null, finishedAt: null, runAt: new Date(T0 + 3) })
      expect(await suite.store.retryRun(run.id, T0 + 4)).toBeUndefined()
      expect(await suite.store.retryRun('missing', T0)).toBeUndefined()
    })

    it('refuses to retry a run whose unique key another active run holds', async () => {
      await suite.store.insertRuns([newRun({ uniqueKey: 'only' })])
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token, { status: 'failed', data: undefined, error: { message: 'x', code: 'E', name: 'Error' } })] })
      await suite.store.insertRuns([newRun({ uniqueKey: 'only' })])
      await expect(suite.store.retryRun(run.id, T0 + 1)).rejects.toThrow(ConflictError)
    })

    it('soft-deletes: a pending run is cancelled and hidden; a running one gets a cancel request', async () => {
      const pending = newRun({ runAt: T0 + 10_000 })
      const running = newRun()
      await suite.store.insertRuns([running])
      await claimOne(suite.store)
      await suite.store.insertRuns([pending])
      expect(await suite.store.deleteRun(pending.id, T0 + 1)).toMatchObject({ status: 'cancelled', deletedAt: new Date(T0 + 1) })
      expect(await suite.store.getRun(pending.id)).toBeUndefined()
      expect(await suite.store.getRun(pending.id, { includeDeleted: true })).toMatchObject({ status: 'cancelled' })
      expect(await suite.store.claimRuns(claimRequest({ now: T0 + 20_000 }))).toEqual([])
      expect(await suite.store.deleteRun(running.id, T0 + 2)).toMatchObject({ status: 'running', cancelRequestedAt: new Date(T0 + 2) })
      expect(await suite.store.deleteRun(running.id, T0 + 3)).toBeUndefined()
      expect((await suite.store.listRuns({})).total).toBe(0)
      expect((await suite.store.listRuns({ includeDeleted: true })).total).toBe(2)
    })
  })
}
