/** Leases and rescue: renewals, expired leases, rescue decisions fenced by the token read, counted starts and holds, releases, expiry, unserved runs. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, claimRequest, claimOne, attempt, completion, EMPTY_BATCH, rescueExpired } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Leases and rescue. */
export function describeLeasesAndRescue(suite: SuiteContext): void {
  describe('leases', () => {
    it('renews held leases, reports cancel requests and lost leases', async () => {
      await suite.store.insertRuns([newRun(), newRun()])
      const [a, b] = await suite.store.claimRuns(claimRequest())
      await suite.store.cancelRuns({ ids: [b!.id] }, 'operator', T0 + 1)
      const outcome = await suite.store.renewLeases('worker-a', [{ id: a!.id, token: a!.token }, { id: b!.id, token: b!.token }, { id: a!.id, token: 'stale' }], T0 + 60_000)
      expect(outcome.cancelRequested).toEqual([{ id: b!.id, reason: 'operator' }])
      expect(outcome.lost).toEqual([a!.id])
      expect((await suite.store.getRun(a!.id))?.leaseExpiresAt).toEqual(new Date(T0 + 60_000))
    })

    it('rescues expired leases: retry while attempts are left, else fail as worker lost; cancel if asked', async () => {
      await suite.store.insertRuns([newRun({ maxAttempts: 2 }), newRun({ maxAttempts: 1 }), newRun({ maxAttempts: 5 })])
      const [retryable, spent, cancelling] = await suite.store.claimRuns(claimRequest({ leaseUntil: T0 + 100 }))
      await suite.store.writeBatch({ ...EMPTY_BATCH, starts: [retryable!, spent!, cancelling!].map((r) => ({ id: r.id, token: r.token, startedAt: T0 })) })
      await suite.store.cancelRuns({ ids: [cancelling!.id] }, 'operator', T0 + 1)
      expect(await suite.store.expiredLeases(T0 + 100, 10)).toEqual([])
      expect((await suite.store.expiredLeases(T0 + 101, 10)).map((r) => [r.id, r.token, r.workerId, r.startedAt, r.cancelRequested])).toEqual([
        [retryable!.id, retryable!.token, 'worker-a', new Date(T0), false],
        [spent!.id, spent!.token, 'worker-a', new Date(T0), false],
        [cancelling!.id, cancelling!.token, 'worker-a', new Date(T0), true],
      ])
      const rescued = await rescueExpired(suite.store, T0 + 101)
      const byId = new Map(rescued.map((r) => [r.id, r]))
      // A lost attempt waits its backoff (fixed 1 s here) like any failed attempt.
      expect(byId.get(retryable!.id)).toMatchObject({ status: 'pending', workerId: null, runAt: new Date(T0 + 1101), attempts: [{ number: 1, outcome: 'retry', error: { code: 'ERR_WORKER_LOST' } }] })
      expect(byId.get(spent!.id)).toMatchObject({ status: 'failed', finishedAt: new Date(T0 + 101), error: { code: 'ERR_WORKER_LOST', message: expect.stringContaining('worker-a') as string } })
      expect(byId.get(cancelling!.id)).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED' } })
      // The dead worker's late writes are fenced.
      expect((await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(retryable!, retryable!.token)] })).fenced).toEqual([retryable!.id])
      expect(await suite.store.claimRuns(claimRequest({ now: T0 + 1100 }))).toEqual([])
      const again = await claimOne(suite.store, { now: T0 + 1101 })
      expect(again.run).toMatchObject({ id: retryable!.id, attempt: 2 })
    })

    it('counts the attempt as started at the claim while attempts are left, not on the last one; starts and holds are fenced', async () => {
      await suite.store.insertRuns([newRun({ maxAttempts: 2 }), newRun({ maxAttempts: 1 })])
      const [counted, last] = await suite.store.claimRuns(claimRequest({ now: T0 + 2 }))
      expect([counted!.started, last!.started]).toEqual([true, false])
      expect((await suite.store.getRun(counted!.id))?.startedAt).toEqual(new Date(T0 + 2))
      expect((await suite.store.getRun(last!.id))?.startedAt).toBeNull()
      let outcome = await suite.store.writeBatch({ ...EMPTY_BATCH, starts: [{ id: last!.id, token: last!.token, startedAt: T0 + 7 }, { id: counted!.id, token: 'stale', startedAt: T0 + 7 }] })
      expect(outcome.fenced).toEqual([counted!.id])
      expect((await suite.store.getRun(last!.id))?.startedAt).toEqual(new Date(T0 + 7))
      outcome = await suite.store.writeBatch({ ...EMPTY_BATCH, holds: [{ id: counted!.id, token: counted!.token }, { id: last!.id, token: 'stale' }] })
      expect(outcome.fenced).toEqual([last!.id])
      expect((await suite.store.getRun(counted!.id))?.startedAt).toBeNull()
      // A completion records its attempt's start itself.
      outcome = await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(counted!, counted!.token, { attempt: { ...attempt(counted!), startedAt: new Date(T0 + 3) } })] })
      expect(outcome.fenced).toEqual([])
      expect(await suite.store.getRun(counted!.id)).toMatchObject({ status: 'succeeded', startedAt: new Date(T0 + 3), attempts: [{ number: 1, startedAt: new Date(T0 + 3), outcome: 'succeeded' }] })
    })

    it('rescues runs that never reached their handler as if never claimed; runs whose attempt counted spend it', async () => {
      const previous = { code: 'ERR_HANDLER', message: 'first try failed', name: 'Error' }
      await suite.store.insertRuns([newRun({ maxAttempts: 1 }), newRun({ maxAttempts: 1 }), newRun({ maxAttempts: 3 }), newRun({ maxAttempts: 3 })])
      const [started, unstarted, counted, held] = await suite.store.claimRuns(claimRequest({ leaseUntil: T0 + 100 }))
      await suite.store.writeBatch({ ...EMPTY_BATCH, starts: [{ id: started!.id, token: started!.token, startedAt: T0 + 1 }], holds: [{ id: held!.id, token: held!.token }] })
      // The held run had failed once before: its error and history stay as they were.
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(held!, held!.token, { status: 'pending', runAt: T0 + 50, error: previous, data: undefined, attempt: attempt(held!, 'retry') })] })
      const [again] = await suite.store.claimRuns(claimRequest({ now: T0 + 50, leaseUntil: T0 + 100 }))
      expect(again).toMatchObject({ id: held!.id, attempt: 2, started: true })
      await suite.store.writeBatch({ ...EMPTY_BATCH, holds: [{ id: again!.id, token: again!.token }] })
      const rescued = new Map((await rescueExpired(suite.store, T0 + 101)).map((r) => [r.id, r]))
      expect(rescued.get(started!.id)).toMatchObject({ status: 'failed', error: { code: 'ERR_WORKER_LOST' }, attempts: [{ number: 1, outcome: 'failed', startedAt: new Date(T0 + 1) }] })
      expect(rescued.get(counted!.id)).toMatchObject({ status: 'pending', attempt: 1, error: { code: 'ERR_WORKER_LOST' }, attempts: [{ number: 1, outcome: 'retry', startedAt: new Date(T0) }] })
      expect(rescued.get(unstarted!.id)).toMatchObject({ status: 'pending', attempt: 0, attemptBase: 0, startedAt: null, finishedAt: null, error: null, attempts: [], runAt: new Date(T0), workerId: null })
      expect(rescued.get(held!.id)).toMatchObject({ status: 'pending', attempt: 1, startedAt: null, error: previous, attempts: [{ number: 1, outcome: 'retry' }], runAt: new Date(T0 + 50) })
      // Its budget is intact: the next claim is its first attempt again, on its last attempt.
      const next = await suite.store.claimRuns(claimRequest({ now: T0 + 200 }))
      expect(next.find((r) => r.id === unstarted!.id)).toMatchObject({ attempt: 1, attemptBase: 0, maxAttempts: 1, started: false })
    })

    it('writes rescue decisions fenced by the token read; a cancel requested after the read wins over pending', async () => {
      await suite.store.insertRuns([newRun(), newRun()])
      const [renewed, asked] = await suite.store.claimRuns(claimRequest({ leaseUntil: T0 + 100 }))
      const expired = await suite.store.expiredLeases(T0 + 101, 10)
      expect(expired.map((r) => r.id)).toEqual([renewed!.id, asked!.id])
      // Meanwhile: the first worker renewed under a new claim (a stale token now), the second run got a cancel request.
      await suite.store.cancelRuns({ ids: [asked!.id] }, 'operator', T0 + 102)
      const lost = { message: 'worker lost', code: 'ERR_WORKER_LOST', name: 'WorkerLostError' }
      const written = await suite.store.rescueRuns([
        { id: renewed!.id, token: 'stale', status: 'failed', error: lost, attempt: null, at: T0 + 103 },
        { id: asked!.id, token: asked!.token, status: 'pending', runAt: T0 + 5000, error: lost, attempt: { ...attempt(asked!, 'retry'), error: lost }, at: T0 + 103 },
      ])
      expect(written.map((r) => [r.id, r.status])).toEqual([[asked!.id, 'cancelled']])
      expect(await suite.store.getRun(asked!.id)).toMatchObject({ status: 'cancelled', finishedAt: new Date(T0 + 103), error: { code: 'ERR_CANCELLED' }, attempts: [{ outcome: 'retry' }] })
      expect(await suite.store.getRun(renewed!.id)).toMatchObject({ status: 'running', leaseExpiresAt: new Date(T0 + 100) })
      expect(await suite.store.rescueRuns([])).toEqual([])
    })

    it('a run on its last attempt is never counted without a stored start, however often its worker dies first', async () => {
      await suite.store.insertRuns([newRun({ maxAttempts: 2 })])
      let now = T0
      const seen: string[] = []
      for (let i = 0; i < 4; i++) {
        const [claimed] = await suite.store.claimRuns(claimRequest({ now, leaseUntil: now + 100 }))
        if (claimed === undefined) break
        // The first claim counts (attempts are left); the second is the last one: no start until stored.
        if (claimed.attempt === 2 && i === 3) await suite.store.writeBatch({ ...EMPTY_BATCH, starts: [{ id: claimed.id, token: claimed.token, startedAt: now + 1 }] })
        const [rescued] = await rescueExpired(suite.store, now + 101)
        seen.push(`${claimed.attempt}:${String(claimed.started)}->${rescued!.status}:${rescued!.attempt}`)
        now += 2000 // past the lost attempt's backoff (fixed 1 s)
      }
      expect(seen).toEqual(['1:true->pending:1', '2:false->pending:1', '2:false->pending:1', '2:false->failed:2'])
      const run = (await suite.store.listRuns({})).data[0]!
      expect(run.attempts.map((a) => a.outcome)).toEqual(['retry', 'failed'])
    })

    it('releases claimed runs unstarted: pending as if never claimed, or cancelled; a cancel requested meanwhile wins; fenced', async () => {
      await suite.store.insertRuns([newRun(), newRun(), newRun()])
      const [back, cancel, asked] = await suite.store.claimRuns(claimRequest({ now: T0 + 1 }))
      await suite.store.cancelRuns({ ids: [asked!.id] }, 'operator', T0 + 2)
      const reason = { code: 'ERR_CANCELLED', message: 'cancelled: by hand', name: 'CancelledError' }
      const outcome = await suite.store.writeBatch({
        ...EMPTY_BATCH,
        releases: [
          { id: back!.id, token: back!.token, status: 'pending', at: T0 + 3, error: null },
          { id: cancel!.id, token: cancel!.token, status: 'cancelled', at: T0 + 3, error: reason },
          { id: asked!.id, token: asked!.token, status: 'pending', at: T0 + 3, error: null },
          { id: back!.id, token: 'stale', status: 'pending', at: T0 + 3, error: null },
        ],
      })
      expect(outcome.fenced).toEqual([back!.id])
      expect(await suite.store.getRun(back!.id)).toMatchObject({ status: 'pending', attempt: 0, startedAt: null, workerId: null, leaseExpiresAt: null, attempts: [], error: null })
      expect(await suite.store.getRun(cancel!.id)).toMatchObject({ status: 'cancelled', attempt: 0, finishedAt: new Date(T0 + 3), error: reason, attempts: [] })
      expect(await suite.store.getRun(asked!.id)).toMatchObject({ status: 'cancelled', attempt: 0, error: { code: 'ERR_CANCELLED' } })
      expect((await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(back!, back!.token)] })).fenced).toEqual([back!.id])
      expect((await claimOne(suite.store, { now: T0 + 4 })).run).toMatchObject({ id: back!.id, attempt: 1 })
    })

    it('expires pending runs past notAfter', async () => {
      const row = newRun({ notAfter: T0 + 10 })
      await suite.store.insertRuns([row, newRun()])
      expect(await suite.store.expireOverdue(T0 + 9)).toEqual([])
      const expired = await suite.store.expireOverdue(T0 + 10)
      expect(expired.map((r) => [r.id, r.status, r.error?.code])).toEqual([[row.id, 'cancelled', 'ERR_EXPIRED']])
    })

    it('counts pending runs per task and queue, and fails the unserved ones due by a time, in one call', async () => {
      const early = newRun({ task: 'render', queue: 'gpu', runAt: T0 })
      const late = newRun({ task: 'render', queue: 'gpu', runAt: T0 + 50 })
      const otherQueue = newRun({ task: 'render', queue: 'default', runAt: T0 })
      const otherTask = newRun({ task: 'mail', queue: 'gpu', runAt: T0 + 5, maxAttempts: 3 })
      await suite.store.insertRuns([early, late, otherQueue, otherTask])
      const [claimed] = await suite.store.claimRuns(claimRequest({ tasks: ['render'], queues: ['default'] }))
      expect(claimed?.id).toBe(otherQueue.id)
      const counts = (await suite.store.pendingByTask()).sort((a, b) => `${a.task}/${a.queue}`.localeCompare(`${b.task}/${b.queue}`))
      expect(counts).toEqual([
        { task: 'mail', queue: 'gpu', pending: 1, oldestRunAt: new Date(T0 + 5) },
        { task: 'render', queue: 'gpu', pending: 2, oldestRunAt: new Date(T0) },
      ])
      expect(await suite.store.failUnserved([], T0 + 100)).toEqual([])
      const error = { code: 'ERR_NO_WORKER', name: 'NoWorkerError', message: 'no live worker served task "render"' }
      const mailError = { ...error, message: 'no live worker served task "mail"' }
      const failed = await suite.store.failUnserved(
        [
          { task: 'render', queue: 'gpu', dueBy: T0 + 10, error },
          { task: 'render', queue: 'default', dueBy: T0 + 100, error },
          { task: 'mail', queue: 'gpu', dueBy: T0 + 5, error: mailError },
        ],
        T0 + 100,
      )
      // Only pending runs due by their target's time: the running one and the later one stay; no attempt is spent or kept.
      expect(failed.map((r) => [r.id, r.status, r.error?.message]).sort()).toEqual(
        [
          [early.id, 'failed', error.message],
          [otherTask.id, 'failed', mailError.message],
        ].sort(),
      )
      expect(await suite.store.getRun(otherTask.id)).toMatchObject({ status: 'failed', attempt: 0, attempts: [], startedAt: null, finishedAt: new Date(T0 + 100), error: { code: 'ERR_NO_WORKER' } })
      expect(await suite.store.getRun(late.id)).toMatchObject({ status: 'pending' })
      expect(await suite.store.getRun(otherQueue.id)).toMatchObject({ status: 'running' })
      expect(await suite.store.pendingByTask()).toEqual([{ task: 'render', queue: 'gpu', pending: 1, oldestRunAt: new Date(T0 + 50) }])
    })
  })
}
