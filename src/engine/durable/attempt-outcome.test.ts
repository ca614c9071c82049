/**
 * The decision after an attempt: pure, one case per way an attempt can end.
 */
import { describe, expect, it } from 'vitest'
import { CancelledError, LeaseLostError, RetryLaterError, ShutdownError, TimeoutError, UnrecoverableError, ValidationError } from '../../errors.js'
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../../task/backoff.js'
import { defineTask } from '../../task/define.js'
import { toRunError } from '../execute/run-error.js'
import { backoffPolicyOf, decideAttempt, workerStoppedError, type AttemptBudget, type AttemptResult } from './attempt-outcome.js'

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0)
const WORKER = 'host:1:abcdef12'
const FIXED: BackoffPolicy = { type: 'fixed', delayMs: 5000 }

/** An attempt of a run with `maxAttempts` 3: the first by default. */
function end(overrides: { run?: Partial<AttemptBudget>; lost?: boolean; stopping?: boolean } = {}) {
  return { run: { attempt: 1, attemptBase: 0, maxAttempts: 3, ...overrides.run }, lost: overrides.lost ?? false, stopping: overrides.stopping ?? false }
}

const succeeded = (data: unknown): AttemptResult => ({ status: 'succeeded', data, error: undefined })
const failedWith = (error: Error): [AttemptResult, Error] => [{ status: 'failed', data: undefined, error: toRunError(error) }, error]
const cancelledWith = (error: Error): [AttemptResult, Error] => [{ status: 'cancelled', data: undefined, error: toRunError(error) }, error]

describe('decideAttempt', () => {
  describe('a returned value', () => {
    it('succeeds with the data as JSON', () => {
      expect(decideAttempt(end(), succeeded({ rows: 3 }), undefined, FIXED, NOW, WORKER)).toEqual({
        status: 'succeeded',
        error: null,
        data: '{"rows":3}',
        finishedAt: NOW,
        outcome: 'succeeded',
      })
    })

    it('stores undefined as null', () => {
      expect(decideAttempt(end(), succeeded(undefined), undefined, FIXED, NOW, WORKER)).toMatchObject({ status: 'succeeded', data: 'null' })
    })

    it('fails at once, with attempts left, when the data cannot be stored as JSON', () => {
      const circular: Record<string, unknown> = {}
      circular.self = circular
      const decision = decideAttempt(end(), succeeded(circular), undefined, FIXED, NOW, WORKER)
      expect(decision).toMatchObject({ status: 'failed', data: undefined, finishedAt: NOW, outcome: 'failed', error: { code: 'ERR_UNRECOVERABLE', name: 'UnrecoverableError' } })
      expect(decision.error?.message).toMatch(/^the handler's result cannot be stored as JSON: /)
      expect(decision.runAt).toBeUndefined()
    })

    it('stores a bigint in the data as its decimal string (as int64 arguments are stored)', () => {
      expect(decideAttempt(end(), succeeded({ big: 2n ** 64n }), undefined, FIXED, NOW, WORKER)).toMatchObject({ status: 'succeeded', data: '{"big":"18446744073709551616"}' })
    })

    it('succeeds even when the worker is stopping: the handler finished', () => {
      expect(decideAttempt(end({ stopping: true }), succeeded(1), undefined, FIXED, NOW, WORKER)).toMatchObject({ status: 'succeeded', data: '1', outcome: 'succeeded' })
    })
  })

  describe('a failure', () => {
    it('retries after the backoff while attempts are left', () => {
      const [result, thrown] = failedWith(new Error('boom'))
      expect(decideAttempt(end(), result, thrown, FIXED, NOW, WORKER)).toEqual({
        status: 'pending',
        runAt: NOW + 5000,
        error: result.error,
        data: undefined,
        finishedAt: NOW,
        outcome: 'retry',
      })
    })

    it("passes the attempt number and the error to a backoff function", () => {
      const seen: unknown[] = []
      const backoff: BackoffPolicy = (attempt, error) => {
        seen.push([attempt, error.message])
        return attempt * 100
      }
      const [result, thrown] = failedWith(new Error('second try failed'))
      expect(decideAttempt(end({ run: { attempt: 2 } }), result, thrown, backoff, NOW, WORKER)).toMatchObject({ status: 'pending', runAt: NOW + 200 })
      expect(seen).toEqual([[2, 'second try failed']])
    })

    it('retries a timeout like any failure', () => {
      const [result, thrown] = failedWith(new TimeoutError(50))
      expect(decideAttempt(end(), result, thrown, FIXED, NOW, WORKER)).toMatchObject({ status: 'pending', runAt: NOW + 5000, outcome: 'retry', error: { code: 'ERR_TIMEOUT' } })
    })

    it('fails on the last attempt; refunded attempts do not count', () => {
      const [result, thrown] = failedWith(new Error('boom'))
      expect(decideAttempt(end({ run: { attempt: 3 } }), result, thrown, FIXED, NOW, WORKER)).toEqual({ status: 'failed', error: result.error, data: undefined, finishedAt: NOW, outcome: 'failed' })
      expect(decideAttempt(end({ run: { attempt: 3, attemptBase: 1 } }), result, thrown, FIXED, NOW, WORKER)).toMatchObject({ status: 'pending', outcome: 'retry' })
      expect(decideAttempt(end({ run: { attempt: 1, maxAttempts: 1 } }), result, thrown, FIXED, NOW, WORKER)).toMatchObject({ status: 'failed', outcome: 'failed' })
    })

    it('retries a RetryLaterError after its own delay and refunds the attempt, even on the last one', () => {
      const [result, thrown] = failedWith(new RetryLaterError(750))
      for (const attempt of [1, 3]) {
        expect(decideAttempt(end({ run: { attempt } }), result, thrown, FIXED, NOW, WORKER)).toEqual({
          status: 'pending',
          runAt: NOW + 750,
          refund: true,
          error: result.error,
          data: undefined,
          finishedAt: NOW,
          outcome: 'retry',
        })
      }
    })

    it('fails at once on an UnrecoverableError or a ValidationError, with attempts left', () => {
      for (const error of [new UnrecoverableError('bad input'), new ValidationError('invalid arguments')]) {
        const [result, thrown] = failedWith(error)
        const decision = decideAttempt(end(), result, thrown, FIXED, NOW, WORKER)
        expect(decision).toEqual({ status: 'failed', error: result.error, data: undefined, finishedAt: NOW, outcome: 'failed' })
      }
    })

    it('records a failure without error data as failed, still retried by the backoff', () => {
      expect(decideAttempt(end(), { status: 'failed', data: undefined, error: undefined }, undefined, FIXED, NOW, WORKER)).toMatchObject({ status: 'pending', runAt: NOW + 5000, error: null })
    })
  })

  describe('a cancel', () => {
    it('ends the run cancelled with its error, attempts left or not', () => {
      const [result, thrown] = cancelledWith(new CancelledError('cancelled: by request'))
      for (const attempt of [1, 3]) {
        expect(decideAttempt(end({ run: { attempt } }), result, thrown, FIXED, NOW, WORKER)).toEqual({ status: 'cancelled', error: result.error, data: undefined, finishedAt: NOW, outcome: 'cancelled' })
      }
    })
  })

  describe("the worker's stop", () => {
    it('counts the interrupted attempt and sends the run back at once while attempts are left', () => {
      const [result, thrown] = cancelledWith(new ShutdownError('worker shutting down'))
      expect(decideAttempt(end({ stopping: true }), result, thrown, FIXED, NOW, WORKER)).toEqual({
        status: 'pending',
        runAt: NOW,
        error: workerStoppedError(WORKER),
        data: undefined,
        finishedAt: NOW,
        outcome: 'interrupted',
      })
      expect(workerStoppedError(WORKER)).toMatchObject({ code: 'ERR_SHUTDOWN', name: 'WorkerStoppedError' })
      expect(workerStoppedError(WORKER).message).toContain(WORKER)
    })

    it('fails the run with ERR_SHUTDOWN on its last attempt', () => {
      const [result, thrown] = cancelledWith(new ShutdownError('worker shutting down'))
      expect(decideAttempt(end({ stopping: true, run: { attempt: 3 } }), result, thrown, FIXED, NOW, WORKER)).toEqual({
        status: 'failed',
        error: workerStoppedError(WORKER),
        data: undefined,
        finishedAt: NOW,
        outcome: 'failed',
      })
    })

    it('overrides what the handler threw while stopping (a failure, a RetryLaterError): the run is not at fault', () => {
      for (const error of [new Error('boom'), new RetryLaterError(60_000), new UnrecoverableError('no')]) {
        const [result, thrown] = failedWith(error)
        expect(decideAttempt(end({ stopping: true }), result, thrown, FIXED, NOW, WORKER)).toMatchObject({ status: 'pending', runAt: NOW, outcome: 'interrupted', error: { code: 'ERR_SHUTDOWN' } })
      }
    })
  })

  describe('a lost lease', () => {
    it('writes nothing, however the attempt ended', () => {
      const [failure, thrown] = failedWith(new LeaseLostError())
      const outcomes = [
        decideAttempt(end({ lost: true }), failure, thrown, FIXED, NOW, WORKER),
        decideAttempt(end({ lost: true }), succeeded(1), undefined, FIXED, NOW, WORKER),
        decideAttempt(end({ lost: true, stopping: true }), failure, thrown, FIXED, NOW, WORKER),
        decideAttempt(end({ lost: true, run: { attempt: 3 } }), failure, thrown, FIXED, NOW, WORKER),
      ]
      for (const decision of outcomes) expect(decision).toMatchObject({ status: 'lost', data: undefined, outcome: 'interrupted' })
      expect(outcomes[0]!.runAt).toBeUndefined()
    })
  })
})

describe('backoffPolicyOf', () => {
  it("takes the task's backoff function, else the stored policy, else the default", () => {
    const fn = (attempt: number): number => attempt
    const withFunction = defineTask({ key: 'a', backoff: fn, run: () => undefined })
    const withPolicy = defineTask({ key: 'b', backoff: { type: 'fixed', delayMs: 10 }, run: () => undefined })
    expect(backoffPolicyOf(withFunction, { type: 'fixed', delayMs: 1 })).toBe(fn)
    // A stored policy (from the enqueue or the task at enqueue time) wins over the task's current one.
    expect(backoffPolicyOf(withPolicy, { type: 'fixed', delayMs: 1 })).toEqual({ type: 'fixed', delayMs: 1 })
    expect(backoffPolicyOf(undefined, { type: 'fixed', delayMs: 1 })).toEqual({ type: 'fixed', delayMs: 1 })
    expect(backoffPolicyOf(undefined, null)).toBe(DEFAULT_BACKOFF)
    expect(backoffPolicyOf(withPolicy, null)).toBe(DEFAULT_BACKOFF)
  })
})
