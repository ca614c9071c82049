/** Pools: trees, counts of a pool or a whole tree, closing. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, claimOne, EMPTY_BATCH, testRunId } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Pools. */
export function describePools(suite: SuiteContext): void {
  describe('pools', () => {
    it('builds trees and counts runs in a pool or the whole tree', async () => {
      const root = await suite.store.createPool({ id: testRunId(), parentRunId: null, parentPoolId: null, label: 'root', now: T0 })
      const parent = newRun({ poolId: root.id })
      await suite.store.insertRuns([parent, newRun({ poolId: root.id, runAt: T0 + 1e6 })])
      const child = await suite.store.createPool({ id: testRunId(), parentRunId: parent.id, parentPoolId: root.id, label: null, now: T0 + 1 })
      const grandchild = await suite.store.createPool({ id: testRunId(), parentRunId: null, parentPoolId: child.id, label: null, now: T0 + 2 })
      expect(child.rootId).toBe(root.id)
      expect(grandchild.rootId).toBe(root.id)
      await suite.store.insertRuns([newRun({ poolId: child.id, runAt: T0 + 1e6 }), newRun({ poolId: grandchild.id, runAt: T0 + 1e6 })])
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, progress: [{ id: run.id, token, progress: { percent: 50 }, tags: [] }] })
      expect((await suite.store.poolTree(root.id)).sort()).toEqual([root.id, child.id, grandchild.id].sort())
      expect(await suite.store.poolTree(grandchild.id)).toEqual([grandchild.id])
      expect(await suite.store.poolCounts(root.id)).toMatchObject({ total: 2, pending: 1, running: 1, progressSum: 50 })
      expect(await suite.store.poolCounts(root.id, { tree: true })).toMatchObject({ total: 4, pending: 3, running: 1 })
      expect((await suite.store.poolsOfRun(parent.id)).map((p) => p.id)).toEqual([child.id])
      // The tree's shape in one read: each pool with the pool above it, oldest first, bounded.
      const below = await suite.store.poolsBelow(root.id, 10)
      expect(below.map((p) => [p.id, p.parentPoolId, p.parentRunId])).toEqual([
        [root.id, null, null],
        [child.id, root.id, parent.id],
        [grandchild.id, child.id, null],
      ])
      expect((await suite.store.poolsBelow(child.id, 10)).map((p) => p.id)).toEqual([child.id, grandchild.id])
      expect((await suite.store.poolsBelow(root.id, 2)).map((p) => p.id)).toEqual([root.id, child.id])
      expect((await suite.store.getPool(root.id))?.closedAt).toBeNull()
      await suite.store.closePool(root.id, T0 + 9)
      expect((await suite.store.getPool(root.id))?.closedAt).toEqual(new Date(T0 + 9))
    })
  })
}
