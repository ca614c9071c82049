/**
 * What callers pass the engine, checked in one place: the engine's options (with their defaults),
 * a worker's, a run's and a batch's, stop options, run ids, run filters, paging of log lines, and
 * batches of arguments. Every check quotes the bad value; run and enqueue calls report every bad
 * argument and option in one `ValidationError`.
 */
import { ValidationError, describeValue, type FieldIssue } from '../errors.js'
import { checkOptionKeys, optionKeys, unknownKeyIssues } from '../options.js'
import { checkConcurrency, checkQueueName, concurrencyOf, type AnyTask } from '../task/define.js'
import type { ArgsInput } from '../task/fields.js'
import { parseTaskArgs } from '../task/validate.js'
import type { Schedule } from '../task/schedule.js'
import { RUN_SORTS, RUN_STATES, type RunFilter, type Store } from '../store/types.js'
import type { QueueSelection, WorkerOptions } from './durable/worker.js'
import type { RunEventListener } from './events/run-events.js'
import type { LogLimits } from './execute/active-run.js'
import type { LogBackend } from './settings/log-backends.js'
import { RETENTION_OPTION_KEYS, type RetentionOptions } from './settings/retention.js'
import { checkTracingOption, type TracingOption } from './tracing/options.js'
import type { UsersOptions } from './access/users.js'
import { checkQueueLimits, type QueueLimits } from '../task/limits.js'

/** How long a claimed run's lease lasts without a heartbeat, in ms ({@link EngineOptions.leaseMs}). */
export const DEFAULT_LEASE_MS = 30_000
/** Leases are renewed this many times per lease by default ({@link EngineOptions.heartbeatMs}). */
export const HEARTBEATS_PER_LEASE = 3
/** How often an idle worker looks for runs, in ms ({@link EngineOptions.pollIntervalMs}). */
export const DEFAULT_POLL_INTERVAL_MS = 250
/** At most one progress write per run per this many ms ({@link EngineOptions.progressIntervalMs}). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250
/** Attempts of a durable run when neither the enqueue nor the task says ({@link EngineOptions.defaultMaxAttempts}). */
export const DEFAULT_MAX_ATTEMPTS = 3
/** Largest artifact a run may store, in bytes: 10 MiB ({@link EngineOptions.maxArtifactBytes}). */
export const DEFAULT_MAX_ARTIFACT_BYTES = 10 * 1024 * 1024
/** How long a hook may take before it is logged as overrun, in ms ({@link EngineOptions.hookTimeoutMs}). */
export const DEFAULT_HOOK_TIMEOUT_MS = 30_000
/** Log lines one in-process run keeps in memory ({@link EngineOptions.maxLogLines}). */
export const DEFAULT_MAX_LOG_LINES = 10_000
/** Characters kept of one log line ({@link EngineOptions.maxLogLineLength}). */
export const DEFAULT_MAX_LOG_LINE_LENGTH = 65_536
/** Runs one worker executes at once ({@link WorkerOptions.concurrency}). */
export const DEFAULT_CONCURRENCY = 10
/** The least a worker prefetches by default, whatever its concurrency ({@link WorkerOptions.prefetch}). */
export const DEFAULT_MIN_PREFETCH = 100
/** How long running handlers get to finish on stop or close, in ms ({@link StopOptions.graceMs}). */
export const DEFAULT_GRACE_MS = 10_000

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /**
   * Tasks to register at once.
   * @default []
   */
  readonly tasks?: readonly AnyTask[]
  /**
   * Where durable runs live: a store, or a function that makes one on first use.
   * @default a private in-memory SQLite store, opened on first use (`createEngine`)
   */
  readonly store?: Store | (() => Store)
  /**
   * How long a claimed run's lease lasts without a heartbeat, in ms.
   * @default 30_000
   */
  readonly leaseMs?: number
  /**
   * How often workers renew leases (and hear of cancels from other processes), in ms. Shorter than `leaseMs`.
   * @default leaseMs / 3
   */
  readonly heartbeatMs?: number
  /**
   * How often an idle worker looks for runs nobody woke it for, in ms.
   * @default 250
   */
  readonly pollIntervalMs?: number
  /**
   * At most one progress write per run per this many ms (every update still streams live).
   * @default 250
   */
  readonly progressIntervalMs?: number
  /**
   * Attempts of a durable run when neither the enqueue nor the task says.
   * @default 3
   */
  readonly defaultMaxAttempts?: number
  /**
   * Largest artifact a run may store, in bytes.
   * @default 10 * 1024 * 1024 (10 MiB)
   */
  readonly maxArtifactBytes?: number
  /**
   * How long an `onSuccess`/`onFailure`/`onSettled` hook may take before it is logged as overrun, in ms.
   * @default 30_000
   */
  readonly hookTimeoutMs?: number
  /**
   * Log lines one in-process run keeps in memory; past it the oldest are dropped and counted.
   * @default 10_000
   */
  readonly maxLogLines?: number
  /**
   * Characters kept of one log line.
   * @default 65_536
   */
  readonly maxLogLineLength?: number
  /**
   * Fails a pending durable run with `ERR_NO_WORKER` once it has been due, and no live worker has
   * served its task on its queue, for this many milliseconds (see `TaskOptions.unservedAfterMs`,
   * which wins). Applied by maintenance in a process running a worker (on PostgreSQL, the leader).
   * @default off (such runs wait, with a notice in the admin UI and `unserved` in the API)
   * @example createEngine({ unservedAfterMs: 15 * 60_000 })
   */
  readonly unservedAfterMs?: number
  /**
   * The clock durable runs are scheduled by, in epoch ms.
   * @default Date.now
   */
  readonly clock?: () => number
  /**
   * Cron schedules to register at once (see `defineSchedule`).
   * @default []
   */
  readonly schedules?: readonly Schedule[]
  /**
   * Log backends besides the store, chosen with the `logBackend` setting (see `filesLogBackend`).
   * @default []
   */
  readonly logBackends?: readonly LogBackend[]
  /**
   * The built-in retention task and its schedule, which delete what the retention settings say.
   * `false` leaves both out; an object moves the schedule (see {@link RetentionOptions}).
   * @default {} (daily at 03:15 UTC)
   */
  readonly retention?: false | RetentionOptions
  /**
   * Receives errors the engine cannot hand to anyone else (a throwing event listener, a failed
   * background write that will be retried).
   * @default print to stderr
   */
  readonly onError?: (error: Error) => void
  /**
   * Limits per queue across every worker process and machine sharing the store: at most
   * `concurrency` runs of the queue executing at once (the store counts them when it hands runs
   * out). Give every process the same limits. A worker's own `queues` limits hold per process.
   * @default no limits across workers
   * @example createEngine({ queues: { mail: { concurrency: 3 } } })
   */
  readonly queues?: Readonly<Record<string, QueueLimits>>
  /**
   * OpenTelemetry traces (`@opentelemetry/api`, an optional peer dependency): an enqueue is a
   * span `taskengine.enqueue <task>` whose context is stored with the run, and each attempt a span
   * `taskengine.run <task>` continuing that trace in whichever process executes it; handlers run
   * inside their attempt's span, log lines become span events. `true`: on when the package is
   * installed and a tracer provider is registered; `false`: off (the package is never loaded);
   * `{ tracer }`: spans through that tracer.
   * @default true
   * @example createEngine({ tracing: { tracer: provider.getTracer('jobs') } })
   */
  readonly tracing?: TracingOption
  /**
   * The built-in users: their roles (names to permission codes) and how long sessions last.
   * Users, their API tokens and sessions live in the store (`engine.users`, `taskengine users`).
   * @default { roles: { viewer, operator, admin } } (see `DEFAULT_ROLES`)
   * @example createEngine({ users: { roles: { ...DEFAULT_ROLES, auditor: ['audit:read', 'runs:read'] } } })
   */
  readonly users?: UsersOptions
}

/** Every key of {@link EngineOptions}. */
export const ENGINE_OPTION_KEYS = optionKeys<EngineOptions>({
  tasks: true,
  store: true,
  leaseMs: true,
  heartbeatMs: true,
  pollIntervalMs: true,
  progressIntervalMs: true,
  defaultMaxAttempts: true,
  maxArtifactBytes: true,
  hookTimeoutMs: true,
  maxLogLines: true,
  maxLogLineLength: true,
  clock: true,
  unservedAfterMs: true,
  schedules: true,
  logBackends: true,
  retention: true,
  onError: true,
  queues: true,
  tracing: true,
  users: true,
})

/** Every key of {@link WorkerOptions}. */
export const WORKER_OPTION_KEYS = optionKeys<WorkerOptions>({ concurrency: true, queues: true, pollIntervalMs: true, prefetch: true, schedules: true, keepAlive: true, onStopRequested: true })

/** Options of one in-process run. */
export interface RunOptions {
  /**
   * The run label.
   * @default the task's `defaults.label`, else `ad-hoc`
   */
  readonly label?: string
  /**
   * Time limit in milliseconds; overrides the task's `timeoutMs`.
   * @default the task's `timeoutMs`, else none
   */
  readonly timeoutMs?: number
  /** Cancels the run from outside: it ends `cancelled` as soon as the signal fires. */
  readonly signal?: AbortSignal
  /** Receives every event of this run (started, log, progress, tags, then the final status) as it happens. */
  readonly onEvent?: RunEventListener
  /**
   * Tags the run starts with.
   * @default the task's `defaults.tags`, else none
   */
  readonly tags?: readonly string[]
  /**
   * Also store the run (it still executes here, now): it is inserted `running` before its
   * handler starts, with its logs, progress and result written as a worker's are, so it shows in
   * run lists, on the run page and in the API (`Run.inProcess`), and a cancel from anywhere stops
   * it. It has one attempt and no worker ever claims it; if this process dies mid-run, the rescue
   * ends it `failed`. The result's `id` is the stored run's id. Needs the engine's store; a
   * store that cannot insert the run rejects the call before the handler starts.
   * @default false (nothing is stored and the store is never touched)
   *
   * @example
   * const result = await engine.run('report', { month: '2026-11' }, { record: true, createdBy: 'ada', startedFrom: 'cli' })
   * await engine.getRun(result.id) // the stored run, inProcess: true
   */
  readonly record?: boolean
  /**
   * Who started a recorded run (`Run.createdBy`); only with `record`.
   * @default nobody (`null`)
   */
  readonly createdBy?: string
  /**
   * Where a recorded run was started (`Run.startedFrom`: `admin`, `admin-live`, `cli`, or a
   * short name of your own, at most 64 characters); only with `record`.
   * @default 'engine'
   */
  readonly startedFrom?: string
}

/** Options of {@link Engine.runAll}. */
export interface RunAllOptions extends Omit<RunOptions, 'label' | 'record' | 'createdBy' | 'startedFrom'> {
  /**
   * Overrides the task's `maxConcurrent` (same meaning: `0` = CPU count, `-1` = 128).
   * @default the task's `maxConcurrent`, else `0` (the CPU count)
   */
  readonly concurrency?: number
}

/** Every key of {@link RunOptions}. */
export const RUN_OPTION_KEYS = optionKeys<RunOptions>({ label: true, timeoutMs: true, signal: true, onEvent: true, tags: true, record: true, createdBy: true, startedFrom: true })
/** Every key of {@link RunAllOptions}. */
export const RUN_ALL_OPTION_KEYS = optionKeys<RunAllOptions>({ timeoutMs: true, signal: true, onEvent: true, tags: true, concurrency: true })

/** Options of {@link Engine.stop} and {@link Engine.close}. */
export interface StopOptions {
  /**
   * How long running handlers may take to finish before they are aborted and their runs returned to pending, in ms.
   * @default 10_000
   */
  readonly graceMs?: number
}

/** Every key of {@link StopOptions}. */
export const STOP_OPTION_KEYS = optionKeys<StopOptions>({ graceMs: true })

/** Arguments for a known task: its fields' types, or text to be coerced. */
export type ArgsInputOf<A> = { readonly [K in keyof A]?: A[K] | string | readonly string[] | number | boolean | null }

/** The default label of a run. */
export const DEFAULT_LABEL = 'ad-hoc'

/** The engine's options with their defaults applied, checked. */
export interface EngineConfig {
  readonly onError: (error: Error) => void
  readonly hookTimeoutMs: number
  readonly logLimits: LogLimits
  readonly leaseMs: number
  readonly heartbeatMs: number
  readonly pollIntervalMs: number
  readonly progressIntervalMs: number
  readonly defaultMaxAttempts: number
  readonly maxArtifactBytes: number
  readonly clock: () => number
  /** Concurrency per queue across every worker ({@link EngineOptions.queues}). */
  readonly queueLimits: ReadonlyMap<string, QueueLimits>
  /** {@link EngineOptions.tracing}, checked. */
  readonly tracing: TracingOption
  /** {@link EngineOptions.unservedAfterMs}; `undefined`: off. */
  readonly unservedAfterMs: number | undefined
}

/**
 * Applies the defaults of {@link EngineOptions} and checks every value (the first bad one throws
 * a `ValidationError`; unknown keys, also of `retention`, first).
 */
export function engineConfig(options: EngineOptions): EngineConfig {
  checkOptionKeys(options, ENGINE_OPTION_KEYS, 'createEngine')
  if (typeof options.retention === 'object' && options.retention !== null) checkOptionKeys(options.retention, RETENTION_OPTION_KEYS, 'createEngine', { prefix: 'retention.' })
  const onError = options.onError ?? ((error: Error) => console.error('[taskengine]', error))
  const hookTimeoutMs = positiveInt(options.hookTimeoutMs, DEFAULT_HOOK_TIMEOUT_MS, 'hookTimeoutMs')
  const logLimits = {
    maxLines: positiveInt(options.maxLogLines, DEFAULT_MAX_LOG_LINES, 'maxLogLines'),
    maxLineLength: positiveInt(options.maxLogLineLength, DEFAULT_MAX_LOG_LINE_LENGTH, 'maxLogLineLength'),
  }
  const leaseMs = positiveInt(options.leaseMs, DEFAULT_LEASE_MS, 'leaseMs')
  const heartbeatMs = positiveInt(options.heartbeatMs, Math.max(1, Math.floor(leaseMs / HEARTBEATS_PER_LEASE)), 'heartbeatMs')
  if (heartbeatMs >= leaseMs) throw new ValidationError(`heartbeatMs (${heartbeatMs}) must be shorter than leaseMs (${leaseMs})`)
  const pollIntervalMs = positiveInt(options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS, 'pollIntervalMs')
  const progressIntervalMs = positiveInt(options.progressIntervalMs, DEFAULT_PROGRESS_INTERVAL_MS, 'progressIntervalMs')
  const defaultMaxAttempts = positiveInt(options.defaultMaxAttempts, DEFAULT_MAX_ATTEMPTS, 'defaultMaxAttempts')
  const maxArtifactBytes = positiveInt(options.maxArtifactBytes, DEFAULT_MAX_ARTIFACT_BYTES, 'maxArtifactBytes')
  if (options.clock !== undefined && typeof options.clock !== 'function') throw new ValidationError(`clock: expected a function, got ${describeValue(options.clock)}`)
  const clock = options.clock ?? Date.now
  const queueLimits = checkQueueLimitOptions(options.queues)
  const tracing = checkTracingOption(options.tracing)
  const unservedAfterMs = options.unservedAfterMs === undefined ? undefined : positiveInt(options.unservedAfterMs, 0, 'unservedAfterMs')
  return { onError, hookTimeoutMs, logLimits, leaseMs, heartbeatMs, pollIntervalMs, progressIntervalMs, defaultMaxAttempts, maxArtifactBytes, clock, queueLimits, tracing, unservedAfterMs }
}

/** Checks {@link EngineOptions.queues}; returns each queue's limits across workers. */
function checkQueueLimitOptions(queues: unknown): ReadonlyMap<string, QueueLimits> {
  const limits = new Map<string, QueueLimits>()
  if (queues === undefined) return limits
  if (typeof queues !== 'object' || queues === null || Array.isArray(queues)) {
    throw new ValidationError(`createEngine: queues: expected { <queue>: { concurrency, rate } }, got ${describeValue(queues)}`)
  }
  for (const [name, queue] of Object.entries(queues)) {
    checkQueueName(name, `createEngine: queues: "${name}"`, ValidationError)
    limits.set(name, checkQueueLimits(queue, 'createEngine', `queues.${name}`, ValidationError))
  }
  return limits
}

/** A worker's options with their defaults applied, checked. */
export interface WorkerConfig {
  readonly concurrency: number
  readonly queues: QueueSelection | undefined
  readonly pollIntervalMs: number
  readonly prefetch: number
  readonly keepAlive: boolean
  readonly schedules: boolean
  readonly onStopRequested: WorkerOptions['onStopRequested']
}

/** Applies the defaults of {@link WorkerOptions} (the poll interval: the engine's) and checks every value, unknown keys first. */
export function workerConfig(options: WorkerOptions, enginePollIntervalMs: number): WorkerConfig {
  checkOptionKeys(options, WORKER_OPTION_KEYS, 'engine.start')
  const concurrency = positiveInt(options.concurrency, DEFAULT_CONCURRENCY, 'concurrency')
  if (options.queues !== undefined) checkQueues(options.queues)
  const pollIntervalMs = positiveInt(options.pollIntervalMs, enginePollIntervalMs, 'pollIntervalMs')
  const prefetch = options.prefetch ?? Math.max(concurrency, DEFAULT_MIN_PREFETCH)
  if (!Number.isSafeInteger(prefetch) || prefetch < 0) throw new ValidationError(`prefetch: expected an integer >= 0, got ${describeValue(prefetch)}`)
  if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') throw new ValidationError(`keepAlive: expected true or false, got ${describeValue(options.keepAlive)}`)
  if (options.onStopRequested !== undefined && typeof options.onStopRequested !== 'function') throw new ValidationError(`onStopRequested: expected a function, got ${describeValue(options.onStopRequested)}`)
  return { concurrency, queues: options.queues, pollIntervalMs, prefetch, keepAlive: options.keepAlive ?? true, schedules: options.schedules !== false, onStopRequested: options.onStopRequested }
}

/** The parallelism a `maxConcurrent` value means: `0` → available parallelism, `-1` → 128. */
export function resolveConcurrency(value: number, what = 'concurrency'): number {
  checkConcurrency(value, what, ValidationError)
  return concurrencyOf(value)
}

/** One bad option as a field issue, keyed `options.<name>` (or `key` when given). */
export function optionIssue(name: string, expected: string, value: unknown, key = `options.${name}`): FieldIssue {
  const received = describeValue(value)
  return { key, expected, received, message: `${key}: expected ${expected}, got ${received}` }
}

/** Every problem with run options (unknown names included), as field issues. */
export function runOptionIssues(options: unknown, known: readonly string[]): FieldIssue[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return [optionIssue('options', 'an object of run options', options, 'options')]
  const issues = unknownKeyIssues(options, known, 'options.')
  const o = options as Record<string, unknown>
  const { label, timeoutMs, signal, onEvent, tags, concurrency } = o
  if (known.includes('label') && label !== undefined && (typeof label !== 'string' || label === '')) issues.push(optionIssue('label', 'a non-empty string', label))
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) issues.push(optionIssue('timeoutMs', 'a positive number of milliseconds', timeoutMs))
  if (signal !== undefined && !(signal instanceof AbortSignal)) issues.push(optionIssue('signal', 'an AbortSignal', signal))
  if (onEvent !== undefined && typeof onEvent !== 'function') issues.push(optionIssue('onEvent', 'a function', onEvent))
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t !== ''))) issues.push(optionIssue('tags', 'an array of non-empty strings', tags))
  // Only calls that record pay for the look (engine.run is a hot path).
  if ((o.record !== undefined || o.createdBy !== undefined || o.startedFrom !== undefined) && known.includes('record')) issues.push(...recordIssues(o))
  if (known.includes('concurrency') && concurrency !== undefined) {
    try {
      checkConcurrency(concurrency, 'concurrency', ValidationError)
    } catch {
      issues.push(optionIssue('concurrency', 'a positive integer, 0 (available parallelism) or -1 (128)', concurrency))
    }
  }
  return issues
}

/** The longest `startedFrom` of a recorded run. */
export const MAX_STARTED_FROM_LENGTH = 64

/** Problems with the options of a recorded run (`record`, `createdBy`, `startedFrom`). */
function recordIssues(o: Record<string, unknown>): FieldIssue[] {
  const { record, createdBy, startedFrom } = o
  const issues: FieldIssue[] = []
  if (record !== undefined && typeof record !== 'boolean') issues.push(optionIssue('record', 'a boolean', record))
  if (createdBy !== undefined && (typeof createdBy !== 'string' || createdBy === '')) issues.push(optionIssue('createdBy', 'a non-empty string', createdBy))
  if (startedFrom !== undefined && (typeof startedFrom !== 'string' || startedFrom === '' || startedFrom.length > MAX_STARTED_FROM_LENGTH)) {
    issues.push(optionIssue('startedFrom', `a non-empty string of at most ${MAX_STARTED_FROM_LENGTH} characters`, startedFrom))
  }
  if (record !== true) {
    if (createdBy !== undefined) issues.push(optionIssue('createdBy', 'only with record: true (a run that is not stored has no creator)', createdBy))
    if (startedFrom !== undefined) issues.push(optionIssue('startedFrom', 'only with record: true', startedFrom))
  }
  return issues
}

/**
 * Parses arguments with `parse`, and throws one `ValidationError` listing every bad argument
 * (as `parse` reports them) followed by every bad option; `parse`'s own error when only the
 * arguments are wrong.
 */
export function withOptionIssues<T>(optionIssues: readonly FieldIssue[], message: string, parse: () => T): T {
  let parsed: T
  try {
    parsed = parse()
  } catch (error) {
    if (!(error instanceof ValidationError) || optionIssues.length === 0) throw error
    const argIssues: FieldIssue[] =
      error.fields.length > 0 ? [...error.fields] : [{ key: 'args', expected: 'an object of field values', received: undefined, message: error.message }]
    throw new ValidationError('invalid arguments and options', [...argIssues, ...optionIssues])
  }
  if (optionIssues.length > 0) throw new ValidationError(message, optionIssues)
  return parsed
}

/** Validates every argument object of a batch; one `ValidationError` lists each bad field as `[index].key`. */
export function parseBatch(task: AnyTask, argsList: readonly ArgsInput[]): Record<string, unknown>[] {
  const list: unknown = argsList
  if (!Array.isArray(list)) throw new ValidationError(`expected an array of argument objects, got ${describeValue(argsList)}`)
  const parsed = new Array<Record<string, unknown>>(argsList.length)
  let issues: FieldIssue[] | undefined
  for (let i = 0; i < argsList.length; i++) {
    try {
      parsed[i] = parseTaskArgs(task, argsList[i])
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      const batchIssues = (issues ??= [])
      // An issue of the arguments as a whole (key '') is the item's own: `[i]`.
      for (const issue of error.fields) batchIssues.push(issue.key === '' ? { ...issue, key: `[${i}]`, message: `[${i}]: ${issue.message}` } : { ...issue, key: `[${i}].${issue.key}`, message: `[${i}].${issue.message}` })
      if (error.fields.length === 0) batchIssues.push({ key: `[${i}]`, expected: 'an object', received: describeValue(argsList[i]), message: `[${i}]: ${error.message}` })
    }
  }
  if (issues !== undefined) throw new ValidationError('invalid arguments in batch', issues)
  return parsed
}

export function checkQueues(queues: unknown): void {
  if (Array.isArray(queues)) {
    if (queues.length === 0 || !queues.every((q) => typeof q === 'string' && q !== '')) throw new ValidationError(`queues: expected queue names, got ${describeValue(queues)}`)
    return
  }
  if (typeof queues !== 'object' || queues === null) throw new ValidationError(`queues: expected a list of names or { name: concurrency }, got ${describeValue(queues)}`)
  const entries = Object.entries(queues)
  if (entries.length === 0) throw new ValidationError('queues: expected at least one queue')
  for (const [name, limit] of entries) {
    if (!Number.isSafeInteger(limit) || (limit as number) < 0) throw new ValidationError(`queues.${name}: expected a concurrency >= 0 (0 = no queue limit), got ${describeValue(limit)}`)
  }
}

/** The longest id a run or pool can have (generated ids have 36 characters). */
const MAX_ID_LENGTH = 100

export function checkId(id: unknown, name = 'run id'): asserts id is string {
  if (typeof id !== 'string' || id === '') throw new ValidationError(`${name}: expected a non-empty string, got ${describeValue(id)}`)
  if (id.length > MAX_ID_LENGTH) throw new ValidationError(`${name}: expected at most ${MAX_ID_LENGTH} characters, got ${id.length.toLocaleString('en-US')} characters`)
}

/** Who asks for a cancel (`options.by`): a non-empty name of at most 200 characters, or nobody (`null`). */
export function checkBy(by: unknown): string | null {
  if (by !== undefined && (typeof by !== 'string' || by === '' || by.length > 200)) throw new ValidationError(`options.by: expected a non-empty string of at most 200 characters, got ${describeValue(by)}`)
  return by ?? null
}

export function checkFilter(filter: RunFilter): void {
  if (typeof filter !== 'object' || filter === null) throw new ValidationError(`filter: expected an object, got ${describeValue(filter)}`)
  const statuses = filter.status === undefined ? [] : typeof filter.status === 'string' ? [filter.status] : filter.status
  for (const status of statuses) {
    if (!RUN_STATES.includes(status)) throw new ValidationError(`status: expected one of ${RUN_STATES.join(', ')}, got ${describeValue(status)}`)
  }
  if (filter.page !== undefined && (!Number.isSafeInteger(filter.page) || filter.page < 1)) throw new ValidationError(`page: expected an integer >= 1, got ${describeValue(filter.page)}`)
  if (filter.pageSize !== undefined && (!Number.isSafeInteger(filter.pageSize) || filter.pageSize < 1 || filter.pageSize > 1000)) {
    throw new ValidationError(`pageSize: expected an integer from 1 to 1000, got ${describeValue(filter.pageSize)}`)
  }
  for (const key of ['from', 'to'] as const) {
    const value = filter[key]
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) throw new ValidationError(`${key}: expected a valid Date, got ${describeValue(value)}`)
  }
  if (filter.before !== undefined) checkId(filter.before, 'before')
  if (filter.sort !== undefined && !RUN_SORTS.includes(filter.sort)) throw new ValidationError(`sort: expected one of ${RUN_SORTS.join(', ')}, got ${describeValue(filter.sort)}`)
  if (filter.count !== undefined && typeof filter.count !== 'boolean') throw new ValidationError(`count: expected true or false, got ${describeValue(filter.count)}`)
  if (filter.countLimit !== undefined && (!Number.isSafeInteger(filter.countLimit) || filter.countLimit < 1)) throw new ValidationError(`countLimit: expected a positive integer, got ${describeValue(filter.countLimit)}`)
  if (filter.scanLimit !== undefined && (!Number.isSafeInteger(filter.scanLimit) || filter.scanLimit < 1)) throw new ValidationError(`scanLimit: expected a positive integer, got ${describeValue(filter.scanLimit)}`)
}

/** Checks `getLogs` paging: `after` (default 0) and `limit` (default 1000, at most 10 000). */
export function logPage(options: { readonly after?: number; readonly limit?: number }): { after: number; limit: number } {
  const after = options.after ?? 0
  const limit = options.limit ?? 1000
  if (!Number.isSafeInteger(after) || after < 0) throw new ValidationError(`after: expected an integer >= 0, got ${describeValue(after)}`)
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new ValidationError(`limit: expected an integer from 1 to 10000, got ${describeValue(limit)}`)
  return { after, limit }
}

/** Checks a throughput window: positive, at most 10 000 buckets. */
export function checkThroughputWindow(windowMs: number, bucketMs: number): void {
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0 || !Number.isSafeInteger(bucketMs) || bucketMs <= 0 || windowMs / bucketMs > 10_000) {
    throw new ValidationError(`throughput: expected a positive window and bucket (at most 10000 buckets), got ${describeValue(windowMs)} / ${describeValue(bucketMs)}`)
  }
}

/** The grace period of {@link StopOptions} (checked, unknown keys first; `where` names the call), with its default. */
export function stopGraceMs(options: StopOptions, where: string): number {
  checkOptionKeys(options, STOP_OPTION_KEYS, where)
  return checkGrace(options.graceMs)
}

export function checkGrace(value: unknown): number {
  if (value === undefined) return DEFAULT_GRACE_MS
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ValidationError(`graceMs: expected a non-negative number, got ${describeValue(value)}`)
  return value
}

export function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) throw new ValidationError(`${name}: expected a positive integer, got ${describeValue(value)}`)
  return value
}
