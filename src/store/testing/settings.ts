/** Runtime settings as JSON values by key. */
import { describe, expect, it } from 'vitest'
import { T0 } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Runtime settings as JSON values by key.. */
export function describeSettings(suite: SuiteContext): void {
  describe('settings', () => {
    it('stores JSON values by key, replacing them', async () => {
      expect(await suite.store.getSettings()).toEqual({})
      await suite.store.saveSettings({ workerConcurrency: 8, logBackend: 'store', note: { a: [1, 'x'] }, off: null }, T0)
      await suite.store.saveSettings({ workerConcurrency: 12 }, T0 + 1)
      expect(await suite.store.getSettings()).toEqual({ workerConcurrency: 12, logBackend: 'store', note: { a: [1, 'x'] }, off: null })
    })
  })
}
