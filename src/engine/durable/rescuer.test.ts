/**
 * The rescuer's decision for a run whose worker died: pure, one case per state the run can be in.
 */
import { describe, expect, it } from 'vitest'
import { defineTask } from '../../task/define.js'
import type { ExpiredRun } from '../../store/types.js'
import { decideRescue } from './rescuer.js'

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0)
const previous = { message: 'first try failed', code: 'ERR_HANDLER', name: 'Error' }

function expired(overrides: Partial<ExpiredRun> = {}): ExpiredRun {
  return {
    id: 'r1',
    token: 't1',
    task: 'work',
    queue: 'default',
    poolId: null,
    workerId: 'host:1:abc',
    attempt: 1,
    attemptBase: 0,
    maxAttempts: 3,
    backoff: { type: 'fixed', delayMs: 5000 },
    startedAt: new Date(NOW - 60_000),
    cancelRequested: false,
    error: null,
    ...overrides,
  }
}

describe('decideRescue', () => {
  it('retries a counted attempt with attempts left after its backoff, recording the lost attempt', () => {
    const write = decideRescue(expired(), undefined, NOW)
    expect(write).toMatchObject({ id: 'r1', token: 't1', status: 'pending', runAt: NOW + 5000, at: NOW, error: { code: 'ERR_WORKER_LOST' } })
    expect(write.error?.message).toContain('host:1:abc')
    expect(write.attempt).toEqual({ number: 1, workerId: 'host:1:abc', startedAt: new Date(NOW - 60_000), finishedAt: new Date(NOW), outcome: 'retry', error: write.error })
  })

  it("uses the task's backoff function when this process knows the task", () => {
    const task = defineTask({ key: 'work', backoff: (attempt) => attempt * 111, run: () => undefined })
    expect(decideRescue(expired({ attempt: 2 }), task, NOW).runAt).toBe(NOW + 222)
  })

  it('falls back to the default backoff when the run stored none', () => {
    const { runAt } = decideRescue(expired({ backoff: null }), undefined, NOW)
    // Exponential from 1 s with jitter between half and all of it: the first retry waits 0.5–1 s.
    expect(runAt).toBeGreaterThanOrEqual(NOW + 500)
    expect(runAt).toBeLessThanOrEqual(NOW + 1000)
  })

  it('fails the run when the lost attempt was its last', () => {
    expect(decideRescue(expired({ attempt: 3 }), undefined, NOW)).toMatchObject({ status: 'failed', error: { code: 'ERR_WORKER_LOST' }, attempt: { number: 3, outcome: 'failed' } })
    // Refunded attempts (a RetryLaterError) do not count against the budget.
    expect(decideRescue(expired({ attempt: 3, attemptBase: 1 }), undefined, NOW).status).toBe('pending')
  })

  it('cancels a run whose cancel was requested, counting the attempt if its handler may have run', () => {
    expect(decideRescue(expired({ cancelRequested: true }), undefined, NOW)).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED' }, attempt: { outcome: 'cancelled' } })
    expect(decideRescue(expired({ cancelRequested: true, startedAt: null }), undefined, NOW)).toMatchObject({ status: 'cancelled', attempt: null })
  })

  it('hands back a run whose handler never ran as if never claimed, keeping its earlier error', () => {
    const write = decideRescue(expired({ startedAt: null, attempt: 2, error: previous }), undefined, NOW)
    expect(write).toEqual({ id: 'r1', token: 't1', at: NOW, status: 'pending', error: previous, attempt: null })
  })
})
