/**
 * Flow-control limits: what a task ({@link TaskLimits}) or a queue may do across every worker
 * process and machine sharing a store. Checked here when a task is defined or an engine created;
 * the engine turns them into claim requests (see `engine/flow/`), the store enforces them.
 */
import { describeValue } from '../errors.js'
import { checkOptionKeys, optionKeys } from '../options.js'

/** At most `max` starts per `perMs` milliseconds (a sliding window), across every worker. */
export interface RateLimit {
  /** Starts allowed per window (an integer >= 1). */
  readonly max: number
  /** The window, in ms (an integer >= 1). */
  readonly perMs: number
}

/** Limits of a task across every worker sharing the store (`defineTask({ limits })`). */
export interface TaskLimits<A = Record<string, unknown>> {
  /**
   * At most this many runs of the task executing at once, across every worker process and
   * machine (a positive integer). The store counts them when it hands runs out, so the limit
   * holds whatever the number of workers; runs over it stay pending and start as slots free.
   * @default no limit
   */
  readonly concurrency?: number
  /**
   * At most `max` runs of the task start per `perMs` ms, across every worker (a sliding window:
   * no window of `perMs` holds more than `max` starts). Runs over it stay pending, spend no
   * attempt, and start as soon as the window allows (workers wake at that time; no polling).
   * @default no rate limit
   * @example { max: 100, perMs: 60_000 }
   */
  readonly rate?: RateLimit
  /**
   * The group key of a run, from its arguments (a non-empty string, at most 200 characters).
   * With `groupConcurrency`, at most that many runs of one key execute at once and keys are
   * served in turn (one tenant's backlog does not starve another's). An enqueue's `groupKey`
   * overrides it.
   * @example (args) => args.tenantId
   */
  readonly groupBy?: (args: A) => string
  /**
   * At most this many runs of one group key executing at once across every worker (needs
   * `groupBy`, or a `groupKey` on each enqueue; runs without a key are not grouped).
   * @default no per-group limit
   */
  readonly groupConcurrency?: number
}

/** Limits of a queue across every worker (`createEngine({ queues })`). */
export interface QueueLimits {
  /**
   * At most this many runs of the queue executing at once across every worker (a positive integer).
   * @default no limit
   */
  readonly concurrency?: number
  /** At most `max` starts per `perMs` ms of runs in the queue, across every worker. @default no rate limit */
  readonly rate?: RateLimit
}

/** Every key of {@link TaskLimits}. */
export const TASK_LIMIT_KEYS = optionKeys<TaskLimits>({ concurrency: true, rate: true, groupBy: true, groupConcurrency: true })
/** Every key of {@link QueueLimits}. */
export const QUEUE_LIMIT_KEYS = optionKeys<QueueLimits>({ concurrency: true, rate: true })
const RATE_KEYS = optionKeys<RateLimit>({ max: true, perMs: true })

/** The largest concurrency or rate a limit may name. */
export const MAX_LIMIT = 1_000_000
/** The longest rate window: a day. */
export const MAX_RATE_WINDOW_MS = 86_400_000

type ErrorClass = new (message: string) => Error

/** Checks a limit count: an integer from 1 to {@link MAX_LIMIT}. Errors read `<where>: <field> must be …`. */
export function checkLimit(value: unknown, where: string, field: string, ErrorClass: ErrorClass): number {
  if (value === undefined) throw new ErrorClass(`${where}: ${field} is missing: give an integer from 1 to ${MAX_LIMIT}`)
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_LIMIT) {
    throw new ErrorClass(`${where}: ${field} must be an integer from 1 to ${MAX_LIMIT}, got ${describeValue(value)}`)
  }
  return value as number
}

/** Checks a {@link RateLimit}; returns it frozen. */
export function checkRate(value: unknown, where: string, field: string, ErrorClass: ErrorClass): RateLimit {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ErrorClass(`${where}: ${field} must be { max, perMs } (at most max starts per perMs ms), got ${describeValue(value)}`)
  }
  checkOptionKeys(value, RATE_KEYS, where, { prefix: `${field}.`, ErrorClass })
  const { max, perMs } = value as RateLimit
  checkLimit(max, where, `${field}.max`, ErrorClass)
  if (perMs === undefined) throw new ErrorClass(`${where}: ${field}.perMs is missing: give the window in ms, an integer from 1 to ${MAX_RATE_WINDOW_MS} (a day)`)
  if (!Number.isSafeInteger(perMs) || perMs < 1 || perMs > MAX_RATE_WINDOW_MS) {
    throw new ErrorClass(`${where}: ${field}.perMs must be an integer from 1 to ${MAX_RATE_WINDOW_MS} (a day), got ${describeValue(perMs)}`)
  }
  return Object.freeze({ max, perMs })
}

/** Checks a task's {@link TaskLimits} (`where`: the task, for errors); returns them frozen (`{}` when not given). */
export function checkTaskLimits<A>(limits: unknown, where: string, ErrorClass: ErrorClass): TaskLimits<A> {
  if (limits === undefined) return Object.freeze({})
  checkOptionKeys(limits, TASK_LIMIT_KEYS, where, { prefix: 'limits.', ErrorClass })
  const { concurrency, rate, groupBy, groupConcurrency } = limits as TaskLimits<A>
  const out: { -readonly [K in keyof TaskLimits<A>]: TaskLimits<A>[K] } = {}
  if (concurrency !== undefined) out.concurrency = checkLimit(concurrency, where, 'limits.concurrency', ErrorClass)
  if (rate !== undefined) out.rate = checkRate(rate, where, 'limits.rate', ErrorClass)
  if (groupBy !== undefined) {
    if (typeof groupBy !== 'function') throw new ErrorClass(`${where}: limits.groupBy must be a function of the arguments returning a string, got ${describeValue(groupBy)}`)
    out.groupBy = groupBy
  }
  if (groupConcurrency !== undefined) out.groupConcurrency = checkLimit(groupConcurrency, where, 'limits.groupConcurrency', ErrorClass)
  if (out.groupBy !== undefined && out.groupConcurrency === undefined) {
    throw new ErrorClass(`${where}: limits.groupBy needs limits.groupConcurrency (how many runs of one group may run at once)`)
  }
  return Object.freeze(out)
}

/** Checks a queue's {@link QueueLimits} (`field`: where they were given, e.g. `queues.mail`); returns them frozen. */
export function checkQueueLimits(limits: unknown, where: string, field: string, ErrorClass: ErrorClass): QueueLimits {
  checkOptionKeys(limits, QUEUE_LIMIT_KEYS, where, { prefix: `${field}.`, ErrorClass })
  const { concurrency, rate } = limits as QueueLimits
  const out: { -readonly [K in keyof QueueLimits]: QueueLimits[K] } = {}
  if (concurrency !== undefined) out.concurrency = checkLimit(concurrency, where, `${field}.concurrency`, ErrorClass)
  if (rate !== undefined) out.rate = checkRate(rate, where, `${field}.rate`, ErrorClass)
  return Object.freeze(out)
}

/** The longest group key. */
export const MAX_GROUP_KEY_LENGTH = 200

/** Checks a group key (from `groupBy` or an enqueue's `groupKey`); `field` names its source. */
export function checkGroupKey(value: unknown, where: string, field: string, ErrorClass: ErrorClass): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_GROUP_KEY_LENGTH) {
    throw new ErrorClass(`${where}: ${field} must be a non-empty string of at most ${MAX_GROUP_KEY_LENGTH} characters, got ${describeValue(value)}`)
  }
  return value
}
