/** Flow control in claims: rate limits across workers, groups with per-key limits served in turn, and the usage report. */
import { describe, expect, it } from 'vitest'
import type { ClaimedRun, ClaimRequest } from '../types.js'
import { EMPTY_BATCH, T0, newRun, claimRequest, completion } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** A claim that records when the store says a rate window opens again. */
function rateClaim(overrides: Partial<ClaimRequest>): { request: ClaimRequest; opens: number[] } {
  const opens: number[] = []
  return { request: claimRequest({ ...overrides, onRateLimited: (at) => opens.push(at) }), opens }
}

/** Flow control in claims. */
export function describeFlowClaims(suite: SuiteContext): void {
  describe('claims under flow control', () => {
    const done = (runs: readonly ClaimedRun[]): Promise<unknown> => suite.store.writeBatch({ ...EMPTY_BATCH, completions: runs.map((r) => completion(r, r.token)) })

    // A start counts for its window and a margin (5%, at most 1 s: see rateMargin): 1050 ms here.
    it("holds a task's rate limit across claims in a sliding window and says when the window opens", async () => {
      await suite.store.insertRuns(Array.from({ length: 10 }, () => newRun({ task: 'work' })))
      const taskRates = new Map([['work', { max: 3, perMs: 1000 }]])
      const first = rateClaim({ workerId: 'a', limit: 2, taskRates })
      expect(await suite.store.claimRuns(first.request)).toHaveLength(2)
      expect(first.opens).toEqual([]) // room is left
      const second = rateClaim({ workerId: 'b', limit: 10, now: T0 + 400, taskRates })
      expect(await suite.store.claimRuns(second.request)).toHaveLength(1)
      // Full now: it opens when the first start leaves the window.
      expect(second.opens).toEqual([T0 + 1050])
      // Finishing runs frees no rate: only time does.
      const third = rateClaim({ workerId: 'c', now: T0 + 1049, taskRates })
      expect(await suite.store.claimRuns(third.request)).toEqual([])
      expect(third.opens).toEqual([T0 + 1050])
      // At T0 + 1050 the two starts at T0 have left the window; the one at T0 + 400 has not.
      const fourth = rateClaim({ workerId: 'd', now: T0 + 1050, taskRates })
      expect(await suite.store.claimRuns(fourth.request)).toHaveLength(2)
      expect(fourth.opens).toEqual([T0 + 1450])
      // Without the limit the rest is there: the limit, not a lack of runs, held them back.
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'e', now: T0 + 1050 }))).toHaveLength(5)
      const usage = await suite.store.flowUsage({ rates: [{ key: 'task:work', since: T0 + 1050 - 1000 }], tasks: ['work'], grouped: [], groupsLimit: 10 })
      expect(usage.starts.get('task:work')).toBe(3) // at T0 + 400 and T0 + 1050 (twice)
      expect(usage.running.get('work')).toBe(10)
      expect(usage.pending.get('work')).toBe(0)
    })

    it("holds a queue's rate limit and still claims other queues", async () => {
      await suite.store.insertRuns([...Array.from({ length: 4 }, () => newRun({ queue: 'mail', priority: 5 })), newRun({ queue: 'default' })])
      const queueRates = new Map([['mail', { max: 2, perMs: 60_000 }]])
      const claim = rateClaim({ limit: 10, queueRates })
      const claimed = await suite.store.claimRuns(claim.request)
      expect(claimed.map((c) => c.queue).sort()).toEqual(['default', 'mail', 'mail'])
      expect(claim.opens).toEqual([T0 + 61_000]) // the margin is at most a second
      expect(await suite.store.claimRuns(rateClaim({ now: T0 + 60_999, queueRates }).request)).toEqual([])
      expect(await suite.store.claimRuns(rateClaim({ now: T0 + 61_000, queueRates }).request)).toHaveLength(2)
    })

    const together = suite.options.concurrentCalls === true ? 'racing each other' : 'made in turn'
    it(`never starts more than a rate limit allows, claims ${together}`, async () => {
      await suite.store.insertRuns(Array.from({ length: 30 }, () => newRun({ task: 'work' })))
      const taskRates = new Map([['work', { max: 5, perMs: 10_000 }]])
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => suite.store.claimRuns(claimRequest({ workerId: `w${i}`, limit: 3, taskRates }))))
      expect(results.flat()).toHaveLength(5)
    })

    it('runs at most groupConcurrency per group key across claims, serving the group served longest ago first', async () => {
      const runs = [
        ...Array.from({ length: 4 }, (_, i) => newRun({ task: 'work', groupKey: 'a', runAt: T0 - 100 + i })),
        ...Array.from({ length: 2 }, (_, i) => newRun({ task: 'work', groupKey: 'b', runAt: T0 - 50 + i })),
        newRun({ task: 'work', groupKey: 'c', runAt: T0 - 10 }),
        newRun({ task: 'work', runAt: T0 - 5 }), // no key: not grouped
      ]
      await suite.store.insertRuns(runs)
      const groups = new Map([['work', 1]])
      const first = await suite.store.claimRuns(claimRequest({ workerId: 'a', limit: 10, groups }))
      expect(first.map((c) => c.id).sort()).toEqual([runs[0]!.id, runs[4]!.id, runs[6]!.id, runs[7]!.id].sort())
      // Every group has its one running: nothing more until one ends.
      expect(await suite.store.claimRuns(claimRequest({ workerId: 'b', groups }))).toEqual([])
      // One at a time from now on: after each run ends, the group served longest ago goes next.
      let running = first.filter((c) => c.id !== runs[7]!.id)
      await done(first.filter((c) => c.id === runs[7]!.id))
      const order: string[] = []
      for (let i = 0; i < 4; i++) {
        await done(running)
        const next = await suite.store.claimRuns(claimRequest({ workerId: 'b', limit: 1, now: T0 + 10 + i, groups }))
        expect(next).toHaveLength(1)
        order.push(runs.find((r) => r.id === next[0]!.id)!.groupKey!)
        running = next
      }
      expect(order).toEqual(['a', 'b', 'a', 'a'])
      const usage = await suite.store.flowUsage({ rates: [], tasks: ['work'], grouped: ['work'], groupsLimit: 10 })
      expect(usage.groups).toEqual([{ task: 'work', groupKey: 'a', pending: 0, running: 1 }])
      expect(usage.groupCounts.get('work')).toBe(1)
    })

    it('takes a second run of a group only when every group with room has had its first', async () => {
      await suite.store.insertRuns([
        ...Array.from({ length: 5 }, (_, i) => newRun({ task: 'work', groupKey: 'big', runAt: T0 - 100 + i })),
        newRun({ task: 'work', groupKey: 'small', runAt: T0 }),
      ])
      const claimed = await suite.store.claimRuns(claimRequest({ limit: 3, groups: new Map([['work', 2]]) }))
      expect(claimed).toHaveLength(3)
      const usage = await suite.store.flowUsage({ rates: [], tasks: ['work'], grouped: ['work'], groupsLimit: 10 })
      expect(usage.groups).toEqual([
        { task: 'work', groupKey: 'big', pending: 3, running: 2 },
        { task: 'work', groupKey: 'small', pending: 0, running: 1 },
      ])
    })
  })
}
