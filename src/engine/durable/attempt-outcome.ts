/**
 * The decision after an attempt: what becomes of a durable run once its handler settled (or
 * could not be called). Pure: the worker gathers the facts, this decides, the worker writes the
 * decision fenced by the attempt's lease token.
 *
 * - A lost lease writes nothing: the run is no longer this claim's (rescued, cancelled and
 *   retried, deleted), and whoever holds it now decides.
 * - A stop that interrupted the handler counts the attempt (its handler ran) without blaming the
 *   run: back to `pending` at once while attempts are left, else `failed` with `ERR_SHUTDOWN`.
 * - A returned value succeeds, unless it cannot be stored as JSON: then the run fails at once.
 * - A cancelled attempt ends the run `cancelled`.
 * - A failure retries after the backoff while attempts are left; `RetryLaterError` retries after
 *   its own delay and refunds the attempt; `UnrecoverableError` and `ValidationError` fail at once.
 */
import { RetryLaterError, UnrecoverableError, ValidationError, coerceError, recordedError } from '../../errors.js'
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy, type BackoffSpec } from '../../task/backoff.js'
import type { RunError, RunResult } from '../../task/context.js'
import type { AnyTask } from '../../task/define.js'
import { attemptsLeftAfter, type Attempt } from '../../store/types.js'
import { toRunError } from '../execute/run-error.js'
import { jsonText } from '../../json-text.js'
import { partialJson } from '../execute/partial-result.js'

/** What the decision reads of the run: its attempt number and budget. */
export interface AttemptBudget {
  /** This attempt's number (attempts started so far, this one included). */
  readonly attempt: number
  /** Attempts refunded so far (`RetryLaterError`): they do not count against `maxAttempts`. */
  readonly attemptBase: number
  readonly maxAttempts: number
}

/** How the attempt ended, as the worker saw it (a worker's execution has these fields). */
export interface AttemptEnd {
  readonly run: AttemptBudget
  /** The lease was lost meanwhile (a heartbeat or a fenced write said so). */
  readonly lost: boolean
  /** The worker's stop aborted the handler once the grace period was over. */
  readonly stopping: boolean
}

/** What the handler's attempt settled with: its status, the data it returned, its error as data. */
export type AttemptResult = Pick<RunResult, 'status' | 'data' | 'error'>

/** What becomes of the run, and what the attempt records. */
export interface AttemptDecision {
  /** `pending`: tried again at `runAt`; `lost`: nothing is written. */
  readonly status: 'pending' | 'succeeded' | 'failed' | 'cancelled' | 'lost'
  /** For `pending`: when to try again (epoch ms). */
  readonly runAt?: number
  /** The attempt is given back (`RetryLaterError`): it does not count against `maxAttempts`. */
  readonly refund?: boolean
  readonly error: RunError | null
  /** The handler's data as JSON (for `succeeded`; for `failed`, `cancelled` and `pending`: its partial result, if any). */
  readonly data: string | undefined
  readonly finishedAt: number
  /** What the attempt's history records. */
  readonly outcome: Attempt['outcome']
}

/**
 * The backoff a run's retries wait by: the task's backoff function when this process knows the
 * task and it has one (functions are never stored), else the policy stored with the run, else the
 * default. The same rule for a failed attempt and for a rescued one.
 */
export function backoffPolicyOf(task: AnyTask | undefined, stored: BackoffSpec | null): BackoffPolicy {
  return typeof task?.backoff === 'function' ? task.backoff : (stored ?? DEFAULT_BACKOFF)
}

/** The error of an attempt a worker's stop interrupted once the grace period was over. */
export function workerStoppedError(workerId: string): RunError {
  return recordedError('ERR_SHUTDOWN', 'WorkerStoppedError', `worker stopped: ${workerId} shut down during this attempt (its grace period ran out)`)
}

/**
 * Decides what becomes of a run after one attempt. `thrown` is what the handler threw (or the
 * reason its signal fired), `backoff` the run's policy ({@link backoffPolicyOf}), `now` the time
 * the attempt ended, `workerId` the worker that ran it (named in a stop's error). Positional
 * arguments rather than one object: this runs once per attempt on the hot path.
 *
 * @example
 * decideAttempt({ run, lost: false, stopping: false }, { status: 'failed', data: undefined, error }, thrown, backoff, Date.now(), workerId)
 * // → { status: 'pending', runAt: now + backoff, outcome: 'retry', ... } while attempts are left
 */
export function decideAttempt(end: AttemptEnd, result: AttemptResult, thrown: Error | undefined, backoff: BackoffPolicy, now: number, workerId: string): AttemptDecision {
  if (end.lost) return { status: 'lost', error: result.error ?? null, data: undefined, finishedAt: now, outcome: 'interrupted' }
  if (end.stopping && result.status !== 'succeeded') {
    // Shut down mid-run: the attempt counts (its handler ran), but the run is not at fault, so
    // it goes back at once while attempts are left.
    const error = workerStoppedError(workerId)
    return attemptsLeftAfter(end.run)
      ? { status: 'pending', runAt: now, error, data: undefined, finishedAt: now, outcome: 'interrupted' }
      : { status: 'failed', error, data: undefined, finishedAt: now, outcome: 'failed' }
  }
  if (result.status === 'succeeded') {
    let data: string | undefined
    try {
      data = jsonText(result.data ?? null)
    } catch (error) {
      const err = new UnrecoverableError(`the handler's result cannot be stored as JSON: ${coerceError(error).message}`)
      return { status: 'failed', error: toRunError(err), data: undefined, finishedAt: now, outcome: 'failed' }
    }
    return { status: 'succeeded', error: null, data, finishedAt: now, outcome: 'succeeded' }
  }
  // A failed or cancelled attempt keeps its partial result (ctx.setResult), if it set one.
  const data = result.data === undefined ? undefined : partialJson(result.data)
  if (result.status === 'cancelled') return { status: 'cancelled', error: result.error ?? null, data, finishedAt: now, outcome: 'cancelled' }
  return afterFailure(end.run, thrown, result.error ?? null, backoff, now, data)
}

/** A failed attempt: retry later (with backoff, or when asked), or fail for good. */
function afterFailure(run: AttemptBudget, thrown: Error | undefined, error: RunError | null, backoff: BackoffPolicy, now: number, data: string | undefined): AttemptDecision {
  const base = { error, data, finishedAt: now }
  if (thrown instanceof RetryLaterError) return { ...base, status: 'pending', runAt: now + thrown.delayMs, refund: true, outcome: 'retry' }
  if (thrown instanceof UnrecoverableError || thrown instanceof ValidationError) return { ...base, status: 'failed', outcome: 'failed' }
  if (!attemptsLeftAfter(run)) return { ...base, status: 'failed', outcome: 'failed' }
  const delay = backoffDelay(backoff, run.attempt, error ?? recordedError('ERR_HANDLER', 'Error', 'failed'))
  return { ...base, status: 'pending', runAt: now + delay, outcome: 'retry' }
}
