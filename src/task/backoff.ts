/**
 * Delays between attempts. A policy is a stored spec (exponential with jitter by default, or
 * fixed) or, on a task definition only, a function.
 */
import { ValidationError, describeValue } from '../errors.js'
import { checkOptionKeys, optionKeys } from '../options.js'
import type { RunError } from './context.js'

/** How to wait between attempts, as stored with a run. */
export type BackoffSpec =
  | { readonly type: 'exponential'; readonly delayMs: number; readonly maxDelayMs?: number; readonly jitter?: boolean }
  | { readonly type: 'fixed'; readonly delayMs: number }

/** A custom delay: the attempt that just failed (from 1) and its error → milliseconds to wait. */
export type BackoffFunction = (attempt: number, error: RunError) => number

/** What a task or an enqueue may give as backoff. Functions only on task definitions: they cannot be stored with a run. */
export type BackoffPolicy = BackoffSpec | BackoffFunction

type ExponentialBackoff = Extract<BackoffSpec, { readonly type: 'exponential' }>
type FixedBackoff = Extract<BackoffSpec, { readonly type: 'fixed' }>
/** Every key of each kind of {@link BackoffSpec}. */
const BACKOFF_KEYS = {
  exponential: optionKeys<ExponentialBackoff>({ type: true, delayMs: true, maxDelayMs: true, jitter: true }),
  fixed: optionKeys<FixedBackoff>({ type: true, delayMs: true }),
}

/** Exponential from 1 s, doubling, at most 1 h, with jitter. */
export const DEFAULT_BACKOFF: BackoffSpec = { type: 'exponential', delayMs: 1000, maxDelayMs: 3_600_000, jitter: true }

/**
 * The delay before the next attempt after attempt `attempt` (from 1) failed. Exponential:
 * `delayMs · 2^(attempt-1)`, capped at `maxDelayMs`; with jitter, a uniform value between half
 * and all of it (so retries of many runs spread out but never come sooner than half).
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, error: RunError, random: () => number = Math.random): number {
  if (typeof policy === 'function') {
    const delay = policy(attempt, error)
    return Number.isFinite(delay) && delay > 0 ? delay : 0
  }
  if (policy.type === 'fixed') return policy.delayMs
  const raw = Math.min(policy.maxDelayMs ?? Number.MAX_SAFE_INTEGER, policy.delayMs * 2 ** Math.max(0, attempt - 1))
  return policy.jitter === false ? raw : Math.round(raw / 2 + random() * (raw / 2))
}

/** Checks a backoff option; `allowFunction` only for task definitions. Throws `ErrorClass` quoting the bad value. */
export function checkBackoff(value: unknown, what: string, allowFunction: boolean, ErrorClass: new (message: string) => Error = ValidationError): asserts value is BackoffPolicy {
  if (typeof value === 'function') {
    if (allowFunction) return
    throw new ErrorClass(`${what}: a backoff function can only be set on the task definition (a function cannot be stored with the run); use { type: 'exponential' | 'fixed', delayMs }`)
  }
  const spec = value as { type?: unknown; delayMs?: unknown; maxDelayMs?: unknown; jitter?: unknown } | null
  const ok =
    typeof spec === 'object' &&
    spec !== null &&
    (spec.type === 'exponential' || spec.type === 'fixed') &&
    typeof spec.delayMs === 'number' &&
    Number.isFinite(spec.delayMs) &&
    spec.delayMs >= 0 &&
    (spec.type === 'fixed' ||
      ((spec.maxDelayMs === undefined || (typeof spec.maxDelayMs === 'number' && spec.maxDelayMs >= 0)) && (spec.jitter === undefined || typeof spec.jitter === 'boolean')))
  if (!ok) {
    throw new ErrorClass(`${what}: expected { type: 'exponential', delayMs, maxDelayMs?, jitter? } or { type: 'fixed', delayMs }, got ${describeValue(value)}`)
  }
  checkOptionKeys(spec, BACKOFF_KEYS[spec.type as BackoffSpec['type']], what, { ErrorClass })
}
