/** Durable places (optional): stores opened on one place share its runs, also after a close, and never share a claim. */
import { describe, expect, it } from 'vitest'
import { claimOne, claimRequest, completion, EMPTY_BATCH, newRun, storesClosedAfterEach } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Stores sharing a place, when the backend can open them. */
export function describeDurablePlaces(suite: SuiteContext): void {
  const place = suite.options.durable
  if (place === undefined) return
  describe('stores sharing a place', () => {
    const openOn = storesClosedAfterEach()

    it('keeps what one store wrote for the next one opened there, also after it closed', async () => {
      const open = place()
      const first = await openOn(open)
      const [done, waiting] = [newRun(), newRun({ runAt: Date.UTC(2100, 0, 1) })]
      await first.insertRuns([done, waiting])
      const { run, token } = await claimOne(first)
      await first.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token)] })
      await first.saveSettings({ kept: true }, Date.now())
      const second = await openOn(open)
      expect(await second.getRun(done.id)).toMatchObject({ status: 'succeeded', data: { ok: true } })
      await first.close()
      const third = await openOn(open)
      expect((await third.listRuns({})).data.map((r) => [r.id, r.status])).toEqual([
        [waiting.id, 'pending'],
        [done.id, 'succeeded'],
      ])
      expect(await third.getSettings()).toEqual({ kept: true })
    })

    // Started together; they race only where the backend's calls overlap (see concurrentCalls).
    // Made in turn, they still show that each store sees the other's claims at once.
    const together = suite.options.concurrentCalls === true ? 'racing each other' : 'in turn'
    it(`never gives one run to two stores claiming from one place, claims ${together}`, { timeout: 30_000 }, async () => {
      const open = place()
      const [a, b] = [await openOn(open), await openOn(open)]
      await a.insertRuns(Array.from({ length: 300 }, (_, i) => newRun({ task: i % 3 === 0 ? 'other' : 'work', priority: i % 5 })))
      const seen: string[] = []
      // Claims no cap binds (one statement) and capped ones (rounds), interleaved.
      const capped = (workerId: string) => claimRequest({ workerId, limit: 9, taskCaps: new Map([['work', 4]]) })
      for (;;) {
        const batches = await Promise.all([a.claimRuns(claimRequest({ workerId: 'a', limit: 7 })), b.claimRuns(claimRequest({ workerId: 'b', limit: 7 })), a.claimRuns(capped('a2')), b.claimRuns(capped('b2'))])
        const got = batches.flat()
        if (got.length === 0) break
        seen.push(...got.map((c) => c.id))
      }
      expect(seen).toHaveLength(300)
      expect(new Set(seen).size).toBe(300)
    })
  })
}
