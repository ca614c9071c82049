/** Inserts through a caller's transaction (optional): a rollback leaves no run behind, a commit keeps them. */
import { describe, expect, it } from 'vitest'
import { newRun } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Caller transactions, when the backend declares them. */
export function describeCallerTransactions(suite: SuiteContext): void {
  const begin = suite.options.transactionalClient
  if (begin === undefined) return
  describe('inserts in a caller\'s transaction', () => {
    it('inserts through a caller client inside their transaction: rollback leaves no run, commit keeps it', async () => {
      const store = suite.store
      const rolledBack = newRun({ uniqueKey: 'tx-key' })
      const first = await begin(store)
      try {
        const [outcome] = await store.insertRuns([rolledBack], { client: first.client })
        expect(outcome).toMatchObject({ created: true, run: { id: rolledBack.id } })
        // Inside the transaction a second insert with the same key finds the uncommitted holder.
        const [again] = await store.insertRuns([newRun({ uniqueKey: 'tx-key' })], { client: first.client })
        expect(again).toMatchObject({ created: false, run: { id: rolledBack.id } })
        expect(await store.getRun(rolledBack.id)).toBeUndefined() // not visible outside yet
      } finally {
        await first.rollback()
      }
      expect(await store.getRun(rolledBack.id)).toBeUndefined()
      expect((await store.listRuns({})).total).toBe(0)

      const committed = newRun({ uniqueKey: 'tx-key' })
      const second = await begin(store)
      try {
        await store.insertRuns([committed, newRun()], { client: second.client })
        expect(await store.getRun(committed.id)).toBeUndefined()
      } catch (error) {
        await second.rollback()
        throw error
      }
      await second.commit()
      expect(await store.getRun(committed.id)).toMatchObject({ id: committed.id, status: 'pending', uniqueKey: 'tx-key' })
      expect((await store.listRuns({})).total).toBe(2)
    })
  })
}
