/** Claiming: order, filters, caps, expiry, and one claimer per run. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, claimRequest, claimOne } from './fixtures.js'
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
}
