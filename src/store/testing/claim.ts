/** Claiming: order, filters, caps, limits across workers, expiry, and one claimer per run. */
import { describe, expect, it } from 'vitest'
import { EMPTY_BATCH, T0, newRun, claimRequest, claimOne, completion, rescueExpired } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Claiming. */
export function describeClaims(suite: SuiteContext): void {
  describe('claim', () => {
    it('takes due runs by priority then time, marks them running with a fresh token and attempt', async () => {
      const low = newRun({ priority: 0, runAt: T0 - 100 })
      const high = newRun({ priority: 5, runAt: T0 })
      const later = newRun({ priority: 9, runAt: T0 + 1000 })
      await suite.store.insertRuns([low, high, later])
      // One at a time, the order shows: priority first, then time.
      const first = await suite.store.claimRuns(claimRequest({ limit: 1 }))
      expect(first.map((c) => c.id)).toEqual([high.id])
      const claimed = [...first, ...(await suite.store.claimRuns(claimRequest()))]
      expect(claimed.map((c) => c.id)).toEqual([high.id, low.id])
      for (const c of claimed) {
        // With attempts left, the claim counts the attempt as started (see the starts tests).
        expect(await suite.store.getRun(c.id)).toMatchObject({ status: 'running', attempt: 1, workerId: 'worker-a', startedAt: new Date(T0), leaseExpiresAt: new Date(T0 + 30_000) })
        expect(c.token).toMatch(/\S{8,}/)
      }
      // A later claim gets another token; a claim hands over what executing needs.
      await suite.store.insertRuns([newRun({ tags: ['x'], timeoutMs: 250 })])
      const next = await claimOne(suite.store)
      expect(next.run).toMatchObject({ task: 'work', label: 'test', queue: 'default', args: { n: 1 }, tags: ['x'], attempt: 1, attemptBase: 0, maxAttempts: 3, timeoutMs: 250, logCount: 0, poolId: null, started: true })
      expect(new Set([first[0]?.token, claimed[1]?.token, next.token]).size).toBe(3)
      expect(await suite.store.claimRuns(claimRequest())).toEqual([])
      expect((await suite.store.claimRuns(claimRequest({ now: T0 + 1000 }))).map((c) => c.id)).toEqual([later.id])
    })

    it('takes only the tasks and queues asked for, up to the limit', async () => {
      await suite.store.insertRuns([newRun({ task: 'work' }), newRun({ task: 'unknown' }), newRun({ queue: 'mail' }), newRun({ queue: 'mail' })])
      expect(await suite.store.claimRuns(claimRequest({ tasks: ['nothing'] }))).toEqual([])
      const mail = await suite.store.claimRuns(claimRequest({ queues: ['mail'], limit: 1 }))
      expect(mail.map((c) => c.queue)).toEqual(['mail'])
      const rest = await suite.store.claimRuns(claimRequest())
      expect(rest.map((c) => [c.task, c.queue]).sort()).toEqual([
        ['work', 'default'],
        ['work', 'mail'],
      ])
    })

    it('never claims an expired run', async () => {
      await suite.store.insertRuns([newRun({ notAfter: T0 - 1 })])
      expect(await suite.store.claimRuns(claimRequest())).toEqual([])
    })

    it('respects per-task and per-queue limits without starving other tasks', async () => {
      const capped = Array.from({ length: 6 }, () => newRun({ task: 'work', priority: 5 }))
      const others = Array.from({ length: 3 }, () => newRun({ task: 'other' }))
      await suite.store.insertRuns([...capped, ...others])
      const claimed = await suite.store.claimRuns(claimRequest({ limit: 5, taskCaps: new Map([['work', 2]]) }))
      const byTask = claimed.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.task]: (acc[c.task] ?? 0) + 1 }), {})
      expect(byTask).toEqual({ work: 2, other: 3 })
      await suite.store.insertRuns([newRun({ task: 'other', queue: 'slow' }), newRun({ task: 'other', queue: 'slow' }), newRun({ task: 'other', queue: 'fast' })])
      const queued = await suite.store.claimRuns(claimRequest({ limit: 3, tasks: ['other'], queueCaps: new Map([['slow', 1]]) }))
      expect(queued.map((c) => c.queue).sort()).toEqual(['fast', 'slow'])
    })

    it("holds a task's limit across workers: a claim counts the runs of the task running on any worker", async () => {
      const limited = Array.from({ length: 6 }, () => newRun({ task: 'work', priority: 5 }))
      await suite.store.insertRuns([...limited, newRun({ task: 'other' }), newRun({ task: 'other' })])
      const globalTaskLimits = new Map([['work', 3]])
      const a = await suite.store.claimRuns(claimRequest({ workerId: 'worker-a', limit: 2, globalTaskLimits }))
      expect(a.map((c) => c.task)).toEqual(['work', 'work'])
      const b = await suite.store.claimRuns(claimRequest({ workerId: 'worker-b', limit: 10, globalTaskLimits }))
      expect(b.map((c) => c.task).sort()).toEqual(['other', 'other', 'work'])
      // At the limit: nothing more of the task, on any worker, until one of its runs ends.
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'worker-c', globalTaskLimits }))).toEqual([])
      const done = a[0]!
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(done, done.token)] })
      const c = await suite.store.claimRuns(claimRequest({ workerId: 'worker-c', globalTaskLimits }))
      expect(c.map((r) => r.task)).toEqual(['work'])
      // A worker's own cap still holds beside the limit across workers.
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: b.filter((r) => r.task === 'work').map((r) => completion(r, r.token)) })
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'worker-d', globalTaskLimits, taskCaps: new Map([['work', 0]]) }))).toEqual([])
      expect((await suite.store.claimRuns(claimRequest({ workerId: 'worker-d', globalTaskLimits }))).map((r) => r.task)).toEqual(['work'])
    })

    it("holds a queue's limit across workers, and a claim under it still takes other queues", async () => {
      await suite.store.insertRuns([...Array.from({ length: 4 }, () => newRun({ queue: 'mail', priority: 5 })), newRun({ queue: 'default' })])
      const globalQueueLimits = new Map([['mail', 2]])
      const a = await suite.store.claimRuns(claimRequest({ workerId: 'worker-a', limit: 1, globalQueueLimits }))
      const b = await suite.store.claimRuns(claimRequest({ workerId: 'worker-b', limit: 10, globalQueueLimits }))
      expect([...a, ...b].map((c) => c.queue).sort()).toEqual(['default', 'mail', 'mail'])
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'worker-c', globalQueueLimits }))).toEqual([])
      // Without the limit the rest is there to take: the limit, not a lack of runs, held them back.
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'worker-c' }))).toHaveLength(2)
    })

    it('gives a limited slot back when a rescue returns the run of a dead worker', async () => {
      await suite.store.insertRuns(Array.from({ length: 4 }, () => newRun({ task: 'work' })))
      const globalTaskLimits = new Map([['work', 2]])
      const held = await suite.store.claimRuns(claimRequest({ workerId: 'dead', limit: 10, leaseUntil: T0 + 100, globalTaskLimits }))
      expect(held).toHaveLength(2)
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'alive', now: T0 + 50, globalTaskLimits }))).toEqual([])
      const rescued = await rescueExpired(suite.store, T0 + 101)
      expect(rescued.map((r) => r.status)).toEqual(['pending', 'pending'])
      const taken = await suite.store.claimRuns(claimRequest({ workerId: 'alive', now: T0 + 102, globalTaskLimits }))
      expect(taken).toHaveLength(2)
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'alive', now: T0 + 60_000, globalTaskLimits }))).toEqual([])
    })

    const limitedTogether = suite.options.concurrentCalls === true ? 'racing each other' : 'made in turn'
    it(`never hands out more than a limit across workers, claims ${limitedTogether}`, async () => {
      await suite.store.insertRuns(Array.from({ length: 30 }, () => newRun({ task: 'work' })))
      const globalTaskLimits = new Map([['work', 4]])
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => suite.store.claimRuns(claimRequest({ workerId: `w${i}`, limit: 3, globalTaskLimits }))))
      expect(results.flat()).toHaveLength(4)
    })

    // Started together; they race only where the backend's calls overlap (see concurrentCalls).
    const together = suite.options.concurrentCalls === true ? 'racing each other' : "made in turn (this backend's calls cannot overlap)"
    it(`gives each run to one claimer only, claims ${together}`, async () => {
      await suite.store.insertRuns(Array.from({ length: 50 }, () => newRun()))
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => suite.store.claimRuns(claimRequest({ workerId: `w${i}`, limit: 20 }))))
      const ids = results.flat().map((c) => c.id)
      expect(ids).toHaveLength(50)
      expect(new Set(ids).size).toBe(50)
    })
  })

  describe('insert and claim in one transaction (optional: insertRunsAndClaim)', () => {
    /** Counts wake-ups of this store's listeners until the next turns have run. */
    async function wakeUps(fn: () => Promise<unknown>): Promise<number> {
      let woken = 0
      const off = suite.store.onRunsAvailable(() => woken++)
      try {
        await fn()
        await new Promise((resolve) => setImmediate(resolve))
      } finally {
        off()
      }
      return woken
    }

    it('inserts, then claims in claim order, and wakes no one when the claim took every new run', async (context) => {
      const store = suite.store
      if (store.insertRunsAndClaim === undefined) return context.skip()
      const older = newRun({ priority: 0, runAt: T0 - 100 })
      await store.insertRuns([older])
      const fresh = newRun({ priority: 5 })
      let outcome: Awaited<ReturnType<NonNullable<typeof store.insertRunsAndClaim>>> | undefined
      expect(await wakeUps(async () => (outcome = await store.insertRunsAndClaim!([fresh], claimRequest())))).toBe(0)
      expect(outcome!.outcomes).toHaveLength(1)
      expect(outcome!.outcomes[0]).toMatchObject({ run: { id: fresh.id, status: 'pending' }, created: true })
      // The claim is an ordinary one: every due run it may take (in no order among themselves: they start together).
      expect(outcome!.claimed.map((c) => c.id).sort()).toEqual([fresh.id, older.id].sort())
      for (const c of outcome!.claimed) expect(await store.getRun(c.id)).toMatchObject({ status: 'running', attempt: 1, workerId: 'worker-a', leaseExpiresAt: new Date(T0 + 30_000) })
      // Completions are fenced by the claim's token, as after claimRuns.
      const first = outcome!.claimed.find((c) => c.id === fresh.id)
      expect((await store.writeBatch({ ...EMPTY_BATCH, completions: [completion(first!, 'not-the-token')] })).fenced).toEqual([first!.id])
      expect((await store.writeBatch({ ...EMPTY_BATCH, completions: [completion(first!, first!.token)] })).fenced).toEqual([])
      expect(await store.getRun(first!.id)).toMatchObject({ status: 'succeeded' })
    })

    it('wakes workers for new runs the claim left, and keeps unique keys, debounce and the claim limit', async (context) => {
      const store = suite.store
      if (store.insertRunsAndClaim === undefined) return context.skip()
      const runs = [newRun({ uniqueKey: 'k' }), newRun({ task: 'elsewhere' }), newRun()]
      let outcome: Awaited<ReturnType<NonNullable<typeof store.insertRunsAndClaim>>> | undefined
      // A run of a task the claimer does not serve stays pending: the others are woken for it.
      expect(await wakeUps(async () => (outcome = await store.insertRunsAndClaim!(runs, claimRequest({ limit: 1 }))))).toBe(1)
      expect(outcome!.claimed.map((c) => c.id)).toEqual([runs[0]!.id])
      expect((await store.getRun(runs[1]!.id))?.status).toBe('pending')
      expect((await store.getRun(runs[2]!.id))?.status).toBe('pending')
      // A unique key held by an active (claimed) run answers with that run; the claim still claims.
      const again = await store.insertRunsAndClaim(
        [newRun({ uniqueKey: 'k' }), newRun({ debounceKey: 'shop', runAt: T0 + 5_000 }), newRun({ debounceKey: 'shop', runAt: T0 + 6_000 })],
        claimRequest(),
      )
      expect(again.outcomes[0]).toMatchObject({ run: { id: runs[0]!.id, status: 'running' }, created: false })
      expect(again.outcomes[1]!.created).toBe(true)
      // The second debounced run moves the first one on instead of adding one.
      expect(again.outcomes[2]!.run.id).toBe(again.outcomes[1]!.run.id)
      expect(again.claimed.map((c) => c.id)).toEqual([runs[2]!.id])
      expect((await store.listRuns({ status: 'pending' })).data.map((r) => r.id).sort()).toEqual([runs[1]!.id, again.outcomes[1]!.run.id].sort())
    })
  })
}
