/** The optional parts a backend declares (signal bus, leader election, caller transactions) are there, whole; the others are absent. */
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import { newRun } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Checks the declared optional parts against the store's members. */
export function describeOptionalParts(suite: SuiteContext): void {
  const { options } = suite
  describe('optional parts', () => {
    it(options.signals === true ? 'has the whole signal bus' : 'declares no signal bus and has none of it', () => {
      const members = [suite.store.signal, suite.store.onSignal, suite.store.signalsListening].map((member) => typeof member)
      expect(members).toEqual(Array.from({ length: 3 }, () => (options.signals === true ? 'function' : 'undefined')))
    })

    it(options.leader === true ? 'elects a leader' : 'declares no leader election and has no lead()', () => {
      expect(typeof suite.store.lead).toBe(options.leader === true ? 'function' : 'undefined')
    })

    it('says how many write batches a worker may keep in flight, if more than one', () => {
      const parallel = suite.store.parallelWrites
      if (parallel !== undefined) expect(Number.isSafeInteger(parallel) && parallel >= 1).toBe(true)
    })

    if (options.transactionalClient === undefined) {
      it('declares no caller transactions and refuses a client to insert through', async () => {
        await expect(suite.store.insertRuns([newRun()], { client: {} })).rejects.toThrow(ValidationError)
        expect((await suite.store.listRuns({})).total).toBe(0)
      })
    }
  })
}
