/** Schedule state and ticks taken exactly once. */
import { describe, expect, it } from 'vitest'
import { T0, newRun, claimOne, completion, EMPTY_BATCH } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** Schedule state and ticks taken exactly once. */
export function describeSchedules(suite: SuiteContext): void {
  describe('schedules', () => {
    it('records a schedule once; a known one keeps its state', async () => {
      const first = await suite.store.initSchedule({ id: 'nightly', enabled: true, since: T0, nextTickAt: T0 + 60_000, now: T0 })
      expect(first).toEqual({ id: 'nightly', enabled: true, lastTickAt: T0, lastRunId: null, nextTickAt: T0 + 60_000, updatedAt: T0 })
      await suite.store.setScheduleEnabled('nightly', false, T0 + 1)
      const again = await suite.store.initSchedule({ id: 'nightly', enabled: true, since: T0 + 500, nextTickAt: T0 + 60_000, now: T0 + 500 })
      expect(again).toMatchObject({ enabled: false, lastTickAt: T0 })
      await suite.store.initSchedule({ id: 'hourly', enabled: false, since: T0, nextTickAt: null, now: T0 })
      expect((await suite.store.listSchedules()).map((s) => [s.id, s.enabled])).toEqual([
        ['hourly', false],
        ['nightly', false],
      ])
      expect(await suite.store.setScheduleEnabled('missing', true, T0)).toBeUndefined()
    })

    // Engines starting together on one store each register the same schedules at once.
    const together = suite.options.concurrentCalls === true ? 'racing each other' : 'made in turn'
    it(`records a schedule once when many register it at once, each getting its state (calls ${together})`, async () => {
      for (let round = 0; round < 5; round++) {
        const id = `together-${round}`
        const states = await Promise.all(Array.from({ length: 8 }, (_, i) => suite.store.initSchedule({ id, enabled: true, since: T0 + i, nextTickAt: T0 + 60_000, now: T0 + i })))
        expect(new Set(states.map((s) => JSON.stringify(s))).size).toBe(1)
        expect(states[0]).toMatchObject({ id, enabled: true })
      }
    })

    it('takes each tick once, inserting its run in the same step; earlier ticks are refused', async () => {
      await suite.store.initSchedule({ id: 's', enabled: true, since: T0, nextTickAt: T0 + 1000, now: T0 })
      const run = newRun({ scheduleId: 's', category: 'system' })
      const fired = await suite.store.fireSchedule({ id: 's', tickAt: T0 + 1000, nextTickAt: T0 + 2000, run, now: T0 + 1000 })
      expect(fired).toMatchObject({ fired: true, insert: { created: true, run: { id: run.id, scheduleId: 's', category: 'system' } } })
      // Another process with the same tick: nothing happens, no second run.
      const twin = newRun({ scheduleId: 's' })
      expect(await suite.store.fireSchedule({ id: 's', tickAt: T0 + 1000, nextTickAt: T0 + 2000, run: twin, now: T0 + 1001 })).toEqual({ fired: false })
      expect(await suite.store.getRun(twin.id)).toBeUndefined()
      expect(await suite.store.fireSchedule({ id: 's', tickAt: T0 + 500, nextTickAt: T0 + 2000, run: null, now: T0 + 1001 })).toEqual({ fired: false })
      // A skipped tick moves on without a run.
      expect(await suite.store.fireSchedule({ id: 's', tickAt: T0 + 2000, nextTickAt: T0 + 3000, run: null, now: T0 + 2000 })).toEqual({ fired: true })
      expect((await suite.store.listSchedules())[0]).toMatchObject({ lastTickAt: T0 + 2000, lastRunId: run.id, nextTickAt: T0 + 3000 })
      expect((await suite.store.listRuns({ scheduleId: 's' })).data.map((r) => r.id)).toEqual([run.id])
      // Unknown schedules have no ticks to take.
      expect(await suite.store.fireSchedule({ id: 'nope', tickAt: T0, nextTickAt: null, run: null, now: T0 })).toEqual({ fired: false })
    })

    it('keeps a tick\'s fire key unique among all runs: a repeat returns the run that holds it, finished or not', async () => {
      const first = newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:01:00.000Z' })
      const [a] = await suite.store.insertRuns([first])
      expect(a).toMatchObject({ created: true, run: { fireKey: 's@2026-11-23T12:01:00.000Z' } })
      expect((await suite.store.getRun(first.id))?.fireKey).toBe('s@2026-11-23T12:01:00.000Z')
      const { run, token } = await claimOne(suite.store)
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(run, token)] })
      // Unlike a unique key, a fire key stays taken once its run finished.
      const [again, other] = await suite.store.insertRuns([newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:01:00.000Z' }), newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:02:00.000Z' })])
      expect(again).toMatchObject({ created: false, run: { id: first.id, status: 'succeeded' } })
      expect(other?.created).toBe(true)
      // Even when the schedule's state was lost: the tick's run is not inserted twice.
      await suite.store.initSchedule({ id: 's', enabled: true, since: T0, nextTickAt: null, now: T0 })
      const repeat = newRun({ scheduleId: 's', fireKey: 's@2026-11-23T12:01:00.000Z' })
      expect(await suite.store.fireSchedule({ id: 's', tickAt: T0 + 60_000, nextTickAt: null, run: repeat, now: T0 + 60_000 })).toMatchObject({ fired: true, insert: { created: false, run: { id: first.id } } })
      expect((await suite.store.listRuns({ scheduleId: 's' })).total).toBe(2)
    })

    it('gives a tick to exactly one of many concurrent callers', async () => {
      await suite.store.initSchedule({ id: 'race', enabled: true, since: T0, nextTickAt: null, now: T0 })
      const runs = Array.from({ length: 8 }, () => newRun({ scheduleId: 'race' }))
      const outcomes = await Promise.all(runs.map((run) => suite.store.fireSchedule({ id: 'race', tickAt: T0 + 10, nextTickAt: null, run, now: T0 + 10 })))
      expect(outcomes.filter((o) => o.fired)).toHaveLength(1)
      expect((await suite.store.listRuns({ scheduleId: 'race' })).total).toBe(1)
    })

    it('counts ticks up to now as handled when turned back on', async () => {
      await suite.store.initSchedule({ id: 'toggle', enabled: true, since: T0, nextTickAt: null, now: T0 })
      expect(await suite.store.setScheduleEnabled('toggle', false, T0 + 10)).toMatchObject({ enabled: false, lastTickAt: T0 })
      expect(await suite.store.setScheduleEnabled('toggle', true, T0 + 5000)).toMatchObject({ enabled: true, lastTickAt: T0 + 5000, updatedAt: T0 + 5000 })
      // Already on: turning it on again changes nothing about ticks.
      expect(await suite.store.setScheduleEnabled('toggle', true, T0 + 9000)).toMatchObject({ lastTickAt: T0 + 5000 })
    })
  })
}
