/** Leader election (optional): one store leads maintenance at a time; another takes over when it goes. */
import { describe, expect, it, vi } from 'vitest'
import type { LeaderElection } from '../contract/leader.js'
import type { Store } from '../types.js'
import { storesClosedAfterEach } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Whether `store` leads now. */
function lead(store: Store): Promise<boolean> {
  return (store as Store & LeaderElection).lead()
}

/** Leader election, when the backend declares it. */
export function describeLeaderElection(suite: SuiteContext): void {
  if (suite.options.leader !== true) return
  describe('leader election', () => {
    const openStore = storesClosedAfterEach()

    it('leads alone, and keeps the lead when asked again', async () => {
      expect(await lead(suite.store)).toBe(true)
      expect(await lead(suite.store)).toBe(true)
    })

    it('gives the lead to one of the stores sharing the place; another takes over when the leader closes', { timeout: 30_000 }, async (context) => {
      if (suite.options.durable === undefined) return context.skip()
      const open = suite.options.durable()
      const stores = await Promise.all([openStore(open), openStore(open), openStore(open)])
      const first = await Promise.all(stores.map(lead))
      expect(first.filter(Boolean)).toHaveLength(1)
      expect(await Promise.all(stores.map(lead))).toEqual(first)
      const leader = stores[first.indexOf(true)]!
      await leader.close()
      const rest = stores.filter((store) => store !== leader)
      // A backend may let go of the lead a moment after close() resolved (a server ending a session).
      await vi.waitFor(async () => expect((await Promise.all(rest.map(lead))).filter(Boolean)).toHaveLength(1), { timeout: 20_000, interval: 50 })
    })
  })
}
