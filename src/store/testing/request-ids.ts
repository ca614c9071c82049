/**
 * Request ids on insert: a client's id of the request that made a run, unique among all runs
 * whatever their status, so a request delivered twice (an AMQP redelivery after the insert
 * committed) never makes a second run.
 */
import { describe, expect, it } from 'vitest'
import { EMPTY_BATCH, claimOne, completion, newRun } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Request ids: stored, read back, and taken once for good. */
export function describeRequestIds(suite: SuiteContext): void {
  const together = suite.options.concurrentCalls === true ? 'racing each other' : 'made in turn'

  describe('request ids on insert', () => {
    it('stores a run\'s request id (or none) and reads it back', async () => {
      const [one, none] = await suite.store.insertRuns([newRun({ requestId: 'msg-1' }), newRun()])
      expect(one).toMatchObject({ created: true, run: { requestId: 'msg-1' } })
      expect(none).toMatchObject({ created: true, run: { requestId: null } })
      expect((await suite.store.getRun(one!.run.id))?.requestId).toBe('msg-1')
      expect((await suite.store.getRun(none!.run.id))?.requestId).toBeNull()
      expect((await suite.store.listRuns({ pageSize: 10 })).data.map((r) => r.requestId).sort()).toEqual(['msg-1', null])
    })

    it('keeps a request id taken for good: a repeat returns the run holding it, finished or not, in single and batched inserts', async () => {
      const first = newRun({ requestId: 'msg-7' })
      await suite.store.insertRuns([first])
      const [pending] = await suite.store.insertRuns([newRun({ requestId: 'msg-7', args: '{"n":2}' })])
      expect(pending).toMatchObject({ created: false, run: { id: first.id, status: 'pending', args: { n: 1 } } })
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token)] })
      // Unlike a unique key, a request id stays taken once its run finished.
      const batch = [newRun({ requestId: 'msg-8' }), newRun({ requestId: 'msg-7' }), newRun(), newRun({ requestId: 'msg-9', uniqueKey: 'u' })]
      const outcomes = await suite.store.insertRuns(batch)
      expect(outcomes.map((o) => [o.created, o.run.requestId])).toEqual([
        [true, 'msg-8'],
        [false, 'msg-7'],
        [true, null],
        [true, 'msg-9'],
      ])
      expect(outcomes[1]?.run).toMatchObject({ id: first.id, status: 'succeeded' })
      expect((await suite.store.listRuns({ pageSize: 100 })).total).toBe(4)
    })

    it(`gives a request id to exactly one of many inserts ${together}`, async () => {
      const runs = Array.from({ length: 8 }, () => newRun({ requestId: 'msg-race' }))
      const outcomes = (await Promise.all(runs.map((r) => suite.store.insertRuns([r])))).flat()
      expect(outcomes.filter((o) => o.created)).toHaveLength(1)
      const winner = outcomes.find((o) => o.created)!.run.id
      expect(outcomes.every((o) => o.run.id === winner)).toBe(true)
      expect((await suite.store.listRuns({ pageSize: 100 })).total).toBe(1)
    })
  })
}
