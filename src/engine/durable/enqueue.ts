/**
 * Enqueue: checking the options, turning validated arguments into rows, and storing them (one
 * statement for any batch). An active run holding the same unique key is returned instead; a task
 * that reuses results gets a recent identical success instead of a new run. A run's group key
 * comes from the enqueue or the task's `limits.groupBy`; debounce and throttle (one run at a time)
 * are carried on the row for the store to apply atomically.
 */
import { createHash } from 'node:crypto'
import { ConflictError, ValidationError, coerceError, describeValue, type FieldIssue } from '../../errors.js'
import { checkBackoff, type BackoffSpec } from '../../task/backoff.js'
import { DEFAULT_PRIORITY, DEFAULT_QUEUE, DEFAULT_RUN_CATEGORY, checkQueueName, type AnyTask } from '../../task/define.js'
import { storedArgs, type ArgsInput } from '../../task/fields.js'
import { parseTaskArgs } from '../../task/validate.js'
import { MAX_GROUP_KEY_LENGTH } from '../../task/limits.js'
import type { InsertAndClaim, InsertOutcome, NewRun, Run, RunCategory, Store } from '../../store/types.js'
import type { EventBus } from '../events/bus.js'
import { newId } from '../ids.js'
import { normalizeTags } from '../execute/tags.js'
import { optionKeys, unknownKeyIssues } from '../../options.js'
import { DEFAULT_LABEL, parseBatch, withOptionIssues } from '../options.js'
import type { SharedSettings } from '../settings/shared-settings.js'
import type { TraceContext } from '../tracing/trace-context.js'
import type { Tracing } from '../tracing/tracing.js'
import type { BatchClaimer } from './write-buffer.js'

/**
 * Options of `engine.enqueue` / `enqueueMany`. Task definitions give defaults for queue,
 * priority, attempts, backoff, time limit and unique key, and (in `defaults`) for label, start
 * delay, expiry, creator, category and tags; what the enqueue gives wins.
 */
export interface EnqueueOptions {
  /**
   * Run label.
   * @default the task's `defaults.label`, else `'ad-hoc'`
   */
  readonly label?: string
  /**
   * Queue.
   * @default the task's `queue`, else `'default'`
   */
  readonly queue?: string
  /**
   * Higher runs first.
   * @default the task's `priority`, else 0
   */
  readonly priority?: number
  /** Earliest start (a Date or epoch ms); give this or `delayMs`, not both. */
  readonly runAt?: Date | number
  /**
   * Earliest start, relative to now, in ms.
   * @default the task's `defaults.delayMs`, else 0 (now)
   */
  readonly delayMs?: number
  /**
   * Attempts allowed.
   * @default the task's `maxAttempts`, else the `defaultMaxAttempts` setting (the engine's, 3)
   */
  readonly maxAttempts?: number
  /**
   * Delay between attempts.
   * @default the task's `backoff`, else exponential from 1 s, doubling, at most 1 h, with jitter
   */
  readonly backoff?: BackoffSpec
  /**
   * Time limit of each attempt in ms.
   * @default the task's `timeoutMs`, else none
   */
  readonly timeoutMs?: number
  /**
   * While a run with this key is pending or running, enqueue returns that run instead.
   * @default the task's `uniqueKey(args)`, else none
   */
  readonly uniqueKey?: string
  /**
   * Expires (`cancelled`) if not started by then.
   * @default `runAt` + the task's `defaults.notAfterMs`, else never
   */
  readonly notAfter?: Date | number
  /**
   * Who asked for the run (a user id).
   * @default the task's `defaults.createdBy`, else nobody (`null`)
   */
  readonly createdBy?: string
  /**
   * `user` or `system`.
   * @default the task's `defaults.category`, else `'user'`
   */
  readonly category?: RunCategory
  /**
   * Tags the run starts with.
   * @default the task's `defaults.tags`, else none
   */
  readonly tags?: readonly string[]
  /** Put the run in this pool (pools set this themselves). */
  readonly poolId?: string
  /** The run that created this one (pools set this themselves). */
  readonly parentId?: string
  /** The schedule that enqueued the run. */
  readonly scheduleId?: string
  /**
   * Insert through this connection, inside the caller's own transaction (PostgreSQL: a `pg`
   * client between BEGIN and COMMIT): a rolled-back transaction leaves no run behind, and
   * workers see the run when the caller commits. No `created` event is sent for such runs (the
   * engine cannot know whether the transaction commits).
   */
  readonly client?: unknown
  /**
   * The run's group under the task's per-key limit (`limits.groupConcurrency`: at most that many
   * runs of one key execute at once, keys served in turn): a non-empty string of at most 200
   * characters. Stored on the run (`run.groupKey`).
   * @default the task's `limits.groupBy(args)`, else none
   * @example { groupKey: 't-42' }
   */
  readonly groupKey?: string
  /**
   * Debounce by key (per task): while a run of the task with `key` is pending, this enqueue
   * replaces that run's arguments (and label, tags, priority, expiry, group) with its own and
   * moves its start to now + `ms` (never earlier than it was), and returns it (no second run, no
   * `created` event); otherwise
   * it adds a run starting at now + `ms`. A running run with the key does not count. Atomic
   * under concurrent enqueues on every store. Not with `runAt`, `delayMs` or `throttle`, and for
   * one run at a time (not `enqueueMany`).
   * @default none
   * @example { debounce: { key: 'shop', ms: 5_000 } } // one reindex, 5 s after the last change
   */
  readonly debounce?: DebounceOptions
  /**
   * Throttle by key (per task): within `ms` of the run that took `key`, this enqueue returns
   * that run (as long as it is stored) instead of adding one; otherwise it adds the run, which
   * takes the key for `ms` from now. Atomic under concurrent enqueues on every store. Not with
   * `debounce`, and for one run at a time (not `enqueueMany`).
   * @default none
   * @example { throttle: { key: 'user-7', ms: 60_000 } } // at most one notification a minute
   */
  readonly throttle?: ThrottleOptions
  /**
   * The caller's id of this request (e.g. an AMQP message id): a non-empty string of at most 200
   * characters, unique among all runs of the store whatever their status, so sending the same
   * request again (a redelivery, a client's retry) returns the run it made (`created` is not sent
   * again) instead of adding one. Kept as long as the run is stored (`run.requestId`); a request id
   * already held by a run of another task is a `ConflictError`. For one run at a time (not
   * `enqueueMany`), not with `debounce` or `throttle`.
   * @default none
   * @example { requestId: 'order-7781-import' }
   */
  readonly requestId?: string
}

/** A debounce ({@link EnqueueOptions.debounce}): the key, and how long after the last enqueue with it the run starts. */
export interface DebounceOptions {
  /** The key, per task: a non-empty string of at most 200 characters. */
  readonly key: string
  /** The run starts this many ms after the last enqueue with the key (an integer from 1 to 86,400,000: a day). */
  readonly ms: number
}

/** A throttle ({@link EnqueueOptions.throttle}): the key, and how long a run holds it. */
export interface ThrottleOptions {
  /** The key, per task: a non-empty string of at most 200 characters. */
  readonly key: string
  /** A run holds the key this many ms from its enqueue (an integer from 1 to 86,400,000: a day). */
  readonly ms: number
}

/** Every key of {@link DebounceOptions} and {@link ThrottleOptions}. */
export const KEY_WINDOW_KEYS = optionKeys<DebounceOptions & ThrottleOptions>({ key: true, ms: true })
/** The longest debounce or throttle key. */
export const MAX_FLOW_KEY_LENGTH = 200
/** The longest debounce or throttle window: a day. */
export const MAX_FLOW_WINDOW_MS = 86_400_000

/** Every key of {@link EnqueueOptions}. */
export const ENQUEUE_OPTION_KEYS = optionKeys<EnqueueOptions>({
  label: true,
  queue: true,
  priority: true,
  runAt: true,
  delayMs: true,
  maxAttempts: true,
  backoff: true,
  timeoutMs: true,
  uniqueKey: true,
  notAfter: true,
  createdBy: true,
  category: true,
  tags: true,
  poolId: true,
  parentId: true,
  scheduleId: true,
  client: true,
  groupKey: true,
  debounce: true,
  throttle: true,
  requestId: true,
})

/** The longest request id. */
export const MAX_REQUEST_ID_LENGTH = 200

/**
 * Every problem with enqueue options, each as a field issue keyed `<prefix><name>` (default
 * `options.priority` and so on; unknown names included: options may come straight from JSON).
 * Empty when all is well.
 */
export function enqueueOptionIssues(options: unknown, prefix = 'options.'): FieldIssue[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const key = prefix === '' ? 'options' : prefix.replace(/\.$/, '')
    return [{ key, expected: 'an object of enqueue options', received: describeValue(options), message: `${key}: expected an object of enqueue options, got ${describeValue(options)}` }]
  }
  const issues: FieldIssue[] = []
  const o = options as Record<string, unknown>
  const bad = (key: string, expected: string): void => {
    const received = describeValue(o[key])
    issues.push({ key: `${prefix}${key}`, expected, received, message: `${prefix}${key}: expected ${expected}, got ${received}` })
  }
  issues.push(...unknownKeyIssues(o, ENQUEUE_OPTION_KEYS, prefix))
  if (o.client !== undefined && (typeof o.client !== 'object' || o.client === null || typeof (o.client as { query?: unknown }).query !== 'function')) {
    bad('client', 'a database client with a query() method')
  }
  for (const key of ['label', 'uniqueKey', 'createdBy', 'poolId', 'parentId', 'scheduleId']) {
    if (o[key] !== undefined && (typeof o[key] !== 'string' || o[key] === '')) bad(key, 'a non-empty string')
  }
  if (o.queue !== undefined) {
    try {
      checkQueueName(o.queue, 'queue', ValidationError)
    } catch {
      bad('queue', 'a queue name (letters, digits, ".", "_", ":", "-"; at most 100)')
    }
  }
  if (o.priority !== undefined && !Number.isSafeInteger(o.priority)) bad('priority', `an integer from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`)
  if (o.maxAttempts !== undefined && (!Number.isSafeInteger(o.maxAttempts) || (o.maxAttempts as number) < 1)) bad('maxAttempts', 'an integer >= 1')
  const ms = (value: unknown, min: number): boolean => typeof value === 'number' && Number.isFinite(value) && value >= min
  if (o.delayMs !== undefined && !ms(o.delayMs, 0)) bad('delayMs', 'a non-negative number of milliseconds')
  if (o.timeoutMs !== undefined && !ms(o.timeoutMs, 1)) bad('timeoutMs', 'a positive number of milliseconds')
  for (const key of ['runAt', 'notAfter']) {
    const value = o[key]
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime())) && !(typeof value === 'number' && Number.isFinite(value))) {
      bad(key, 'a Date or epoch milliseconds')
    }
  }
  if (o.runAt !== undefined && o.delayMs !== undefined) {
    issues.push({ key: `${prefix}delayMs`, expected: 'runAt or delayMs, not both', received: describeValue(o.delayMs), message: `${prefix}runAt and ${prefix}delayMs: give one of them, not both` })
  }
  if (o.category !== undefined && o.category !== 'user' && o.category !== 'system') bad('category', '"user" or "system"')
  if (o.tags !== undefined && (!Array.isArray(o.tags) || !o.tags.every((t) => typeof t === 'string' && t !== ''))) bad('tags', 'an array of non-empty strings')
  if (o.backoff !== undefined) {
    try {
      checkBackoff(o.backoff, 'backoff', false)
    } catch (error) {
      const received = describeValue(o.backoff)
      const expected = typeof o.backoff === 'function' ? 'a stored policy, not a function (functions only on the task definition)' : "{ type: 'exponential' | 'fixed', delayMs, ... }"
      issues.push({ key: `${prefix}backoff`, expected, received, message: `${prefix}${(error as Error).message}` })
    }
  }
  issues.push(...flowOptionIssues(o, prefix))
  return issues
}

/** The problems with `groupKey`, `debounce` and `throttle`, and with what they may not be combined with. */
function flowOptionIssues(o: Record<string, unknown>, prefix: string): FieldIssue[] {
  const issues: FieldIssue[] = []
  const groupKey = o.groupKey
  if (groupKey !== undefined && (typeof groupKey !== 'string' || groupKey === '' || groupKey.length > MAX_GROUP_KEY_LENGTH)) {
    const received = describeValue(groupKey)
    const expected = `a non-empty string of at most ${MAX_GROUP_KEY_LENGTH} characters`
    issues.push({ key: `${prefix}groupKey`, expected, received, message: `${prefix}groupKey: expected ${expected}, got ${received}` })
  }
  for (const name of ['debounce', 'throttle'] as const) if (o[name] !== undefined) issues.push(...keyWindowIssues(o[name], `${prefix}${name}`))
  const both = (a: string, b: string, why: string): void => {
    issues.push({ key: `${prefix}${a}`, expected: `${a} without ${b}`, received: describeValue(o[a]), message: `${prefix}${a} and ${prefix}${b}: ${why}` })
  }
  const requestId = o.requestId
  if (requestId !== undefined) {
    if (typeof requestId !== 'string' || requestId === '' || requestId.length > MAX_REQUEST_ID_LENGTH) {
      const expected = `a non-empty string of at most ${MAX_REQUEST_ID_LENGTH} characters`
      issues.push({ key: `${prefix}requestId`, expected, received: describeValue(requestId), message: `${prefix}requestId: expected ${expected}, got ${describeValue(requestId)}` })
    }
    for (const flow of ['debounce', 'throttle']) if (o[flow] !== undefined) both('requestId', flow, 'a request id names one stored run; give one of them, not both')
  }
  if (o.debounce !== undefined) {
    for (const start of ['runAt', 'delayMs']) if (o[start] !== undefined) both('debounce', start, 'a debounced run starts debounce.ms after the last enqueue; give one of them, not both')
    if (o.throttle !== undefined) both('debounce', 'throttle', 'give one of them, not both')
  }
  return issues
}

/** The problems with a `{ key, ms }` of `debounce` or `throttle` (`field`: its prefixed name). */
function keyWindowIssues(value: unknown, field: string): FieldIssue[] {
  const expected = `{ key, ms } (key: a non-empty string of at most ${MAX_FLOW_KEY_LENGTH} characters; ms: an integer from 1 to ${MAX_FLOW_WINDOW_MS})`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ key: field, expected, received: describeValue(value), message: `${field}: expected ${expected}, got ${describeValue(value)}` }]
  }
  const issues = unknownKeyIssues(value, KEY_WINDOW_KEYS, `${field}.`)
  const { key, ms } = value as Partial<DebounceOptions>
  if (typeof key !== 'string' || key === '' || key.length > MAX_FLOW_KEY_LENGTH) {
    const want = `a non-empty string of at most ${MAX_FLOW_KEY_LENGTH} characters`
    issues.push({ key: `${field}.key`, expected: want, received: describeValue(key), message: `${field}.key: expected ${want}, got ${describeValue(key)}` })
  }
  if (!Number.isSafeInteger(ms) || (ms as number) < 1 || (ms as number) > MAX_FLOW_WINDOW_MS) {
    const want = `an integer from 1 to ${MAX_FLOW_WINDOW_MS} (a day), in ms`
    issues.push({ key: `${field}.ms`, expected: want, received: describeValue(ms), message: `${field}.ms: expected ${want}, got ${describeValue(ms)}` })
  }
  return issues
}

/**
 * Checks every enqueue option at once; throws a `ValidationError` whose `fields` list each bad
 * one, keyed by the option's name (`priority`: callers add their own prefix, as the HTTP API
 * does; `engine.enqueue` reports `options.priority`).
 */
export function checkEnqueueOptions(options: EnqueueOptions): void {
  const issues = enqueueOptionIssues(options, '')
  if (issues.length > 0) throw new ValidationError('invalid enqueue options', issues)
}

/** Defaults the engine adds to every run. */
export interface EnqueueDefaults {
  readonly maxAttempts: number
  readonly label: string
}

/** Builds the row to store for one validated argument object. */
export function newRunRow(task: AnyTask, args: Record<string, unknown>, options: EnqueueOptions, defaults: EnqueueDefaults, now: number, trace?: TraceContext): NewRun {
  return newRunRows(task, [args], options, defaults, now, trace)[0]!
}

const NO_TAGS: readonly string[] = Object.freeze([])

/**
 * Builds the rows to store for validated argument objects, all with the same options: what they
 * share is worked out once, and every row holds the same values (the store sends them once).
 * A debounced run starts `debounce.ms` from now. Each row's group key is the enqueue's
 * `groupKey`, else the task's `limits.groupBy(args)`; a `groupBy` that throws or returns
 * anything but a good key is a `ValidationError`, and no row is returned. With `trace` (the
 * enqueue's span), every row carries its context.
 */
export function newRunRows(task: AnyTask, argsList: readonly Record<string, unknown>[], options: EnqueueOptions, defaults: EnqueueDefaults, now: number, trace?: TraceContext): NewRun[] {
  const taskDefaults = task.defaults
  const debounce = options.debounce
  const runAt = debounce !== undefined ? now + debounce.ms : options.runAt !== undefined ? toMs(options.runAt) : now + (options.delayMs ?? taskDefaults.delayMs ?? 0)
  const taskBackoff = typeof task.backoff === 'function' ? undefined : task.backoff
  const label = options.label ?? taskDefaults.label ?? defaults.label
  const queue = options.queue ?? task.queue ?? DEFAULT_QUEUE
  const priority = options.priority ?? task.priority ?? DEFAULT_PRIORITY
  const tags = normalizeTags(options.tags ?? taskDefaults.tags ?? NO_TAGS)
  const category = options.category ?? taskDefaults.category ?? DEFAULT_RUN_CATEGORY
  const createdBy = options.createdBy ?? taskDefaults.createdBy ?? null
  const parentId = options.parentId ?? null
  const poolId = options.poolId ?? null
  const scheduleId = options.scheduleId ?? null
  const maxAttempts = options.maxAttempts ?? task.maxAttempts ?? defaults.maxAttempts
  // null: the engine default. A task's backoff function stays with the task definition.
  const backoff = options.backoff ?? taskBackoff ?? null
  const timeoutMs = options.timeoutMs ?? task.timeoutMs ?? null
  const notAfter = options.notAfter !== undefined ? toMs(options.notAfter) : taskDefaults.notAfterMs === undefined ? null : runAt + taskDefaults.notAfterMs
  const hashed = task.reuseResultMs !== undefined
  const groupBy = options.groupKey === undefined ? task.limits.groupBy : undefined
  const sharedGroupKey = options.groupKey ?? null
  const debounceKey = debounce?.key ?? null
  const throttle = options.throttle === undefined ? null : { key: options.throttle.key, ms: options.throttle.ms }
  const flowKeyed = groupBy !== undefined || sharedGroupKey !== null || debounceKey !== null || throttle !== null
  const rows = new Array<NewRun>(argsList.length)
  for (let i = 0; i < argsList.length; i++) {
    const args = argsList[i]!
    let uniqueKey = options.uniqueKey ?? null
    if (uniqueKey === null && task.uniqueKey !== undefined) {
      const derived = task.uniqueKey(args)
      if (derived !== undefined && (typeof derived !== 'string' || derived === '')) {
        throw new ValidationError(`task "${task.key}": uniqueKey() must return a non-empty string or undefined, got ${describeValue(derived)}`)
      }
      uniqueKey = derived ?? null
    }
    const row: { -readonly [K in keyof NewRun]: NewRun[K] } = {
      id: newId(),
      task: task.key,
      label,
      queue,
      priority,
      args: hasKeys(args) ? JSON.stringify(storedArgs(args)) : '{}',
      argsHash: hashed ? hashArgs(storedArgs(args)) : null,
      tags,
      category,
      createdBy,
      uniqueKey,
      parentId,
      poolId,
      scheduleId,
      maxAttempts,
      backoff,
      timeoutMs,
      runAt,
      notAfter,
      createdAt: now,
    }
    // Only traced rows carry a context, set on the row itself: a copy by a spread with keys added
    // was slow for the store to read (a traced enqueueMany of 20,000 took 3x as long).
    if (trace !== undefined) {
      row.traceparent = trace.traceparent
      row.tracestate = trace.tracestate
    }
    if (options.requestId !== undefined) row.requestId = options.requestId
    // Only runs that have them carry flow-control keys: the common row stays as small (and as
    // quick to build) as before.
    rows[i] = flowKeyed ? { ...row, groupKey: groupBy === undefined ? sharedGroupKey : groupKeyOf(task, groupBy, args, argsList.length > 1 ? i : undefined), debounceKey, throttle } : row
  }
  return rows
}

/** The group key `groupBy` gives `args` (item `index` of a batch), checked; a `ValidationError` naming the task and `limits.groupBy` otherwise. */
function groupKeyOf(task: AnyTask, groupBy: (args: Record<string, unknown>) => string, args: Record<string, unknown>, index: number | undefined): string {
  const where = `task "${task.key}"${index === undefined ? '' : `, run [${index}]`}`
  let key: unknown
  try {
    key = groupBy(args)
  } catch (error) {
    throw new ValidationError(`${where}: limits.groupBy threw: ${coerceError(error).message}`, [], { cause: error })
  }
  if (typeof key !== 'string' || key === '' || key.length > MAX_GROUP_KEY_LENGTH) {
    throw new ValidationError(`${where}: limits.groupBy must return a non-empty string of at most ${MAX_GROUP_KEY_LENGTH} characters, got ${describeValue(key)}`)
  }
  return key
}

/** Whether an argument object has any field (most batches of no-argument tasks have none: no JSON to make). */
function hasKeys(args: Record<string, unknown>): boolean {
  for (const key in args) if (Object.hasOwn(args, key)) return true
  return false
}

function toMs(value: Date | number): number {
  return value instanceof Date ? value.getTime() : value
}

/** Hash of the canonical JSON of the arguments (keys sorted at every level). */
export function hashArgs(args: unknown): string {
  return createHash('sha256').update(canonicalJson(args)).digest('base64url')
}

/** JSON with object keys sorted at every level, so equal arguments give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}

/** What enqueueing needs from the engine. */
export interface EnqueueHost {
  store(): Promise<Store>
  now(): number
  readonly settings: SharedSettings
  readonly bus: EventBus
  readonly tracing: Tracing
  /** The claims of a worker running in this engine, to ride on the enqueue's transaction where the store can (`insertRunsAndClaim`). */
  claimer(): BatchClaimer | undefined
}

/**
 * Validates arguments and options together (one `ValidationError` listing every bad argument and
 * `options.<name>`; nothing is stored then), stores one run per argument object and resolves to
 * the runs in input order. A `created` event follows for each new run, except for inserts through
 * a caller's `client` (their commit is unknown). When tracing, the enqueue is a span under the
 * caller's active one, and its context is stored with the runs.
 */
export async function enqueueRuns(host: EnqueueHost, task: AnyTask, argsList: readonly ArgsInput[], options: EnqueueOptions): Promise<Run[]> {
  // Every bad argument and every bad option, in one error; nothing is stored.
  const optionIssues = enqueueOptionIssues(options)
  if (argsList.length > 1) {
    for (const name of ['debounce', 'throttle', 'requestId'] as const) {
      const value = (options as Record<string, unknown> | null)?.[name]
      if (value !== undefined) {
        optionIssues.push({ key: `options.${name}`, expected: 'one run (engine.enqueue)', received: describeValue(value), message: `options.${name}: ${name} applies to one run; use enqueue` })
      }
    }
  }
  const parsed = withOptionIssues(optionIssues, 'invalid enqueue options', () =>
    argsList.length === 1 ? [parseTaskArgs(task, argsList[0])] : parseBatch(task, argsList),
  )
  const span = host.tracing.enqueue(task.key, options.queue ?? task.queue ?? DEFAULT_QUEUE, parsed.length)
  if (span === undefined) return storeRuns(host, task, parsed, options, undefined)
  try {
    const runs = await storeRuns(host, task, parsed, options, span.context)
    span.stored(runs.map((run) => run.id))
    span.end()
    return runs
  } catch (error) {
    span.end(error)
    throw error
  }
}

/** Stores validated runs (see {@link enqueueRuns}), each with the trace context if given. */
async function storeRuns(host: EnqueueHost, task: AnyTask, parsed: readonly Record<string, unknown>[], options: EnqueueOptions, trace: TraceContext | undefined): Promise<Run[]> {
  const store = await host.store()
  const now = host.now()
  const defaults = { maxAttempts: (host.settings.current ?? (await host.settings.load())).defaultMaxAttempts, label: DEFAULT_LABEL }
  // Arguments with a recent identical success get that run instead (tasks that reuse results).
  let fresh = parsed
  let reused: Map<number, Run> | undefined
  if (task.reuseResultMs !== undefined) {
    const kept: Record<string, unknown>[] = []
    for (let i = 0; i < parsed.length; i++) {
      const reusable = await store.findReusable(task.key, hashArgs(JSON.parse(JSON.stringify(storedArgs(parsed[i]!))) as unknown), now - task.reuseResultMs)
      if (reusable === undefined) kept.push(parsed[i]!)
      else (reused ??= new Map()).set(i, reusable)
    }
    fresh = kept
  }
  const rows = newRunRows(task, fresh, options, defaults, now, trace)
  const client = options.client
  // A worker of this engine takes runs in the enqueue's own transaction where the store can: one
  // commit from enqueue to handler start instead of two (the insert's, then the woken worker's claim).
  const claimer = client === undefined && rows.length > 0 ? host.claimer() : undefined
  const claim = store.insertRunsAndClaim === undefined ? undefined : claimer?.request()
  if (claimer === undefined || claim === undefined || store.insertRunsAndClaim === undefined) {
    return answer(host, task, options, parsed, reused, await store.insertRuns(rows, client === undefined ? undefined : { client }))
  }
  let inserted: InsertAndClaim
  try {
    inserted = await store.insertRunsAndClaim(rows, claim)
  } catch (error) {
    claimer.failed(claim)
    throw error
  }
  try {
    return answer(host, task, options, parsed, reused, inserted.outcomes)
  } finally {
    // After the `created` events; whatever the answer, the worker holds what it claimed.
    claimer.claimed(inserted.claimed, claim)
  }
}

/** The runs an enqueue answers with, in input order (stored, or reused), after their `created` events. */
function answer(host: EnqueueHost, task: AnyTask, options: EnqueueOptions, parsed: readonly Record<string, unknown>[], reused: Map<number, Run> | undefined, outcomes: readonly InsertOutcome[]): Run[] {
  const client = options.client
  const results = new Array<Run>(parsed.length)
  for (let i = 0, j = 0; i < parsed.length; i++) {
    const existing = reused?.get(i)
    if (existing !== undefined) {
      results[i] = existing
      ANSWERED_BY_EXISTING.add(existing)
    } else {
      const outcome = outcomes[j++]!
      results[i] = outcome.run
      if (!outcome.created) ANSWERED_BY_EXISTING.add(outcome.run)
    }
  }
  const requested = options.requestId === undefined ? undefined : results[0]
  if (requested !== undefined && requested.task !== task.key) {
    throw new ConflictError(`requestId ${JSON.stringify(options.requestId)} already names run ${requested.id} of task "${requested.task}", not of task "${task.key}"`)
  }
  const bus = host.bus
  if (client === undefined && bus.active) {
    for (const outcome of outcomes) {
      if (outcome.created) bus.emit({ type: 'created', runId: outcome.run.id, task: task.key, poolId: outcome.run.poolId, time: outcome.run.createdAt, run: outcome.run })
    }
  }
  return results
}

/** Runs an enqueue answered with instead of making them (marked only then: nothing on the path that makes runs). */
const ANSWERED_BY_EXISTING = new WeakSet<Run>()

/**
 * Whether `enqueue` answered with this run rather than making it: an existing run with the same
 * `requestId`, `uniqueKey`, throttle or debounce key, or a result reused under `reuseResultMs`.
 */
export function answeredByExisting(run: Run): boolean {
  return ANSWERED_BY_EXISTING.has(run)
}
