/**
 * The trace context of runs (OpenTelemetry): what an insert stores (`traceparent`,
 * `tracestate`), every claim hands back — plain claims, claims in rounds under caps, claims under
 * limits across workers — also for runs inserted through debounce and throttle, and after a retry.
 */
import { describe, expect, it } from 'vitest'
import type { ClaimedRun } from '../contract/queue.js'
import { EMPTY_BATCH, T0, claimRequest, completion, newRun } from './fixtures.js'
import type { SuiteContext } from './suite.js'

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'
const STATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'

/** The trace context of each claimed run, by id. */
function contexts(claimed: readonly ClaimedRun[]): Record<string, [string | null, string | null]> {
  return Object.fromEntries(claimed.map((c) => [c.id, [c.traceparent ?? null, c.tracestate ?? null]]))
}

/** Trace contexts stored with runs and returned by claims. */
export function describeTraceContext(suite: SuiteContext): void {
  describe('trace context', () => {
    it('stores each run’s traceparent and tracestate and hands them back with every claim; runs without one get none', async () => {
      const traced = newRun({ traceparent: PARENT, tracestate: STATE })
      const plain = newRun()
      const other = newRun({ traceparent: OTHER, tracestate: null, uniqueKey: 'nightly' })
      // One batch with and without contexts, keyed and not, and two groups of shared columns.
      const grouped = newRun({ traceparent: OTHER, label: 'another group' })
      await suite.store.insertRuns([traced, plain, other, grouped])
      expect(contexts(await suite.store.claimRuns(claimRequest()))).toEqual({
        [traced.id]: [PARENT, STATE],
        [plain.id]: [null, null],
        [other.id]: [OTHER, null],
        [grouped.id]: [OTHER, null],
      })
    })

    it('hands them back from claims in rounds under caps and under limits across workers, and after a retry', async () => {
      const runs = Array.from({ length: 4 }, (_, i) => newRun({ traceparent: PARENT, task: i % 2 === 0 ? 'work' : 'other' }))
      await suite.store.insertRuns(runs)
      const capped = await suite.store.claimRuns(claimRequest({ limit: 2, taskCaps: new Map([['work', 1]]) }))
      const limited = await suite.store.claimRuns(claimRequest({ limit: 2, globalTaskLimits: new Map([['work', 5]]) }))
      const claimed = [...capped, ...limited]
      expect(claimed).toHaveLength(4)
      for (const run of claimed) expect(run.traceparent).toBe(PARENT)
      // A failed attempt goes back to pending: the next attempt continues the same trace.
      const first = claimed[0]!
      await suite.store.writeBatch({ ...EMPTY_BATCH, completions: [completion(first, first.token, { status: 'pending', runAt: T0, data: undefined })] })
      const [again] = await suite.store.claimRuns(claimRequest({ now: T0 + 10 }))
      expect(again).toMatchObject({ id: first.id, attempt: 2, traceparent: PARENT })
    })

    it('keeps them for runs inserted through debounce and throttle', async () => {
      const debounced = newRun({ debounceKey: 'shop', traceparent: PARENT, tracestate: STATE })
      const throttled = newRun({ throttle: { key: 'user-7', ms: 60_000 }, traceparent: OTHER })
      await suite.store.insertRuns([debounced])
      await suite.store.insertRuns([throttled])
      expect(contexts(await suite.store.claimRuns(claimRequest()))).toEqual({ [debounced.id]: [PARENT, STATE], [throttled.id]: [OTHER, null] })
    })
  })
}
