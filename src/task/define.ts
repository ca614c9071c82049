/**
 * Task definitions: metadata, typed fields and a handler, checked once at definition time.
 */
import { availableParallelism } from 'node:os'
import { TaskDefinitionError, describeValue } from '../errors.js'
import { checkOptionKeys, optionKeys } from '../options.js'
import { checkBackoff, type BackoffPolicy } from './backoff.js'
import type { RunContext, RunError, RunResult } from './context.js'
import { checkFields, resolveAliases, titleCase, type ArgsOf, type Field } from './fields.js'
import { checkTaskLimits, type TaskLimits } from './limits.js'
import { checkValidateOption, type ArgsCheck } from './validate.js'

/** Marks task objects, so a module's exports can be scanned for tasks (works across copies of the package). */
export const TASK_BRAND: unique symbol = Symbol.for('taskengine.task') as never

/** Default icon name of a task ({@link TaskOptions.icon}). */
export const DEFAULT_ICON = 'cog'
/** Default category of a task ({@link TaskOptions.category}). */
export const DEFAULT_CATEGORY = 'general'
/** The queue of durable runs when neither the enqueue nor the task names one ({@link TaskOptions.queue}). */
export const DEFAULT_QUEUE = 'default'
/** The priority of durable runs when neither the enqueue nor the task gives one ({@link TaskOptions.priority}). */
export const DEFAULT_PRIORITY = 0
/** The category of runs when neither the enqueue nor the task's defaults say ({@link TaskRunDefaults.category}). */
export const DEFAULT_RUN_CATEGORY = 'user'

/** A handler hook's return value is awaited and otherwise ignored. */
type HookResult = void | Promise<void>

/**
 * Defaults for the options of this task's runs, beside the task's own `queue`, `priority`,
 * `maxAttempts`, `backoff`, `timeoutMs` and `uniqueKey`. What an enqueue (or run) gives wins.
 * Times are relative: a task cannot know the date of its runs.
 *
 * @example
 * defineTask({ key: 'digest', defaults: { label: 'daily digest', delayMs: 60_000, notAfterMs: 3_600_000, tags: ['mail'] }, run })
 */
export interface TaskRunDefaults {
  /**
   * Label of runs enqueued (or run in-process) without one.
   * @default 'ad-hoc'
   */
  readonly label?: string
  /**
   * Durable runs start this long after they are enqueued, unless the enqueue gives `runAt` or `delayMs`.
   * @default 0 (at once)
   */
  readonly delayMs?: number
  /**
   * Durable runs not started within this many ms of their earliest start (`runAt`) expire:
   * `cancelled` with `ERR_EXPIRED`. The enqueue's `notAfter` wins.
   * @default never
   */
  readonly notAfterMs?: number
  /**
   * Who runs are recorded as created by, when the enqueue does not say.
   * @default nobody (`null`)
   */
  readonly createdBy?: string
  /**
   * `user` or `system` (e.g. maintenance tasks), when the enqueue does not say.
   * @default 'user'
   */
  readonly category?: 'user' | 'system'
  /**
   * Tags runs start with, when the enqueue (or run) gives none. Not the task's own `tags`, which describe the task.
   * @default none
   */
  readonly tags?: readonly string[]
}

/** Every key of {@link TaskRunDefaults}. */
const RUN_DEFAULT_KEYS = optionKeys<TaskRunDefaults>({ label: true, delayMs: true, notAfterMs: true, createdBy: true, category: true, tags: true })

/** Every key of {@link TaskOptions}: anything else is a typo and refused. */
const TASK_OPTION_KEYS = optionKeys<TaskOptions<readonly Field[], unknown>>({
  key: true,
  title: true,
  category: true,
  icon: true,
  description: true,
  tags: true,
  dangerous: true,
  expensive: true,
  webUrl: true,
  maxConcurrent: true,
  limits: true,
  fields: true,
  validate: true,
  timeoutMs: true,
  unservedAfterMs: true,
  queue: true,
  priority: true,
  maxAttempts: true,
  backoff: true,
  uniqueKey: true,
  reuseResultMs: true,
  defaults: true,
  run: true,
  onSuccess: true,
  onFailure: true,
  onCancel: true,
  onSettled: true,
})

/** What `defineTask` accepts. `Fs` (the fields) drives the type of `ctx.args`. */
export interface TaskOptions<Fs extends readonly Field[], R> {
  /** Unique key: letters, digits, `.`, `_`, `-`; starts with a letter or digit; at most 100. */
  readonly key: string
  /**
   * Human title.
   * @default the key in title case (`db-backup` → `Db Backup`)
   */
  readonly title?: string
  /**
   * Grouping in lists.
   * @default 'general'
   */
  readonly category?: string
  /**
   * Icon name for the admin UI.
   * @default 'cog'
   */
  readonly icon?: string
  /**
   * What the task does, shown with it.
   * @default ''
   */
  readonly description?: string
  /**
   * Tags describing the task (not its runs: see `defaults.tags`).
   * @default []
   */
  readonly tags?: readonly string[]
  /** A warning shown before running (the UI asks for confirmation). */
  readonly dangerous?: string
  /**
   * Marks the task as costly to run (a badge in the UI).
   * @default false
   */
  readonly expensive?: boolean
  /**
   * Where the task's page lives.
   * @default '/admin/task/{key}'
   */
  readonly webUrl?: string
  /**
   * How many runs of this task may execute at once: the concurrency of `runAll`, and, when
   * set, the limit per worker process for durable runs (same meaning in both). A positive
   * number; `0` = the machine's available parallelism; `-1` = 128.
   * @default 0 for `runAll`; no per-task limit for workers (only the worker's `concurrency`)
   */
  readonly maxConcurrent?: number
  /**
   * Limits on durable runs of this task across every worker process and machine sharing the
   * store (beside `maxConcurrent`, which holds per process).
   * @default no limits across workers
   */
  readonly limits?: TaskLimits<ArgsOf<Fs>>
  /**
   * The typed inputs.
   * @default []
   */
  readonly fields?: Fs
  /**
   * Checks the arguments as a whole, after every field has parsed (rules across fields, the
   * seeds' `Valid()`): return nothing when they are fine, else a message, `{ field, message }`
   * (shown beside that field in the admin form) or a list of them; or throw a
   * `ValidationError`. Runs wherever arguments enter (run, enqueue, schedules, HTTP, CLI, the
   * form) and again before each durable attempt; what it reports fails the call with a
   * `ValidationError` and nothing runs or is stored. Synchronous, and may run more than once
   * per run: keep it a pure function of the arguments.
   * @default none
   *
   * @example
   * validate: ({ start, end }) => (end < start ? { field: 'end', message: 'must be after start' } : undefined)
   */
  readonly validate?: ArgsCheck<ArgsOf<Fs>>
  /**
   * Time limit of one run (of each attempt, for durable runs), in milliseconds.
   * @default none
   */
  readonly timeoutMs?: number
  /**
   * Fails a pending durable run with `ERR_NO_WORKER` once it has been due, and no live worker has
   * served this task on its queue, for this many milliseconds (measured from the later of its
   * `runAt` and the last heartbeat of a worker that served it; no retry, no hooks). `false`: never,
   * whatever the engine's `unservedAfterMs`. Applied by the process that maintains the store, so
   * give every worker process the same definition.
   * @default the engine's `unservedAfterMs`, else off
   * @example defineTask({ key: 'render', unservedAfterMs: 10 * 60_000, run })
   */
  readonly unservedAfterMs?: number | false
  /**
   * Default queue of durable runs.
   * @default 'default'
   */
  readonly queue?: string
  /**
   * Default priority of durable runs; higher runs first.
   * @default 0
   */
  readonly priority?: number
  /**
   * Default attempts of a durable run.
   * @default the `defaultMaxAttempts` setting (the engine's, 3)
   */
  readonly maxAttempts?: number
  /**
   * Delay between attempts: `{ type: 'exponential' | 'fixed', delayMs, ... }` or a function `(attempt, error) => ms`.
   * @default exponential from 1 s, doubling, at most 1 h, with jitter (`DEFAULT_BACKOFF`)
   */
  readonly backoff?: BackoffPolicy
  /**
   * Derives a unique key from the arguments: while a run with that key is pending or running,
   * enqueueing another returns it instead. Return `undefined` for no key.
   */
  readonly uniqueKey?: (args: ArgsOf<Fs>) => string | undefined
  /**
   * Result reuse: an identical run (same task and canonical arguments) that succeeded within
   * this many milliseconds is returned by `enqueue` instead of running again.
   */
  readonly reuseResultMs?: number
  /** Defaults for the label, start delay, expiry, creator, category and tags of runs (see {@link TaskRunDefaults}). */
  readonly defaults?: TaskRunDefaults
  /** The handler. Its return value becomes the result's `data`. */
  readonly run: (ctx: RunContext<ArgsOf<Fs>>) => R | Promise<R>
  /** After a successful run (the seeds' post-action). Errors are logged on the run. */
  readonly onSuccess?: (ctx: RunContext<ArgsOf<Fs>>, data: Awaited<R>) => HookResult
  /** After a failed run, not a cancelled one (the seeds' error cleanup). Errors are logged on the run. */
  readonly onFailure?: (ctx: RunContext<ArgsOf<Fs>>, error: RunError) => HookResult
  /**
   * After a cancelled run (cancelled while pending never runs a handler, so never this hook):
   * cancelled while its handler ran, or interrupted by the cancel (the seeds' error cleanup on
   * cancel). Receives the cancel's error (`ERR_CANCELLED`, with the reason). Errors are logged on the run.
   */
  readonly onCancel?: (ctx: RunContext<ArgsOf<Fs>>, error: RunError) => HookResult
  /** After every run, whatever its status (the seeds' cleanup). Errors are logged on the run. */
  readonly onSettled?: (ctx: RunContext<ArgsOf<Fs>>, result: RunResult<Awaited<R>>) => HookResult
}

/** A checked, normalized task definition. `A` is its argument type, `R` its result data type. */
export interface Task<A = Record<string, unknown>, R = unknown> {
  readonly [TASK_BRAND]: true
  readonly key: string
  readonly title: string
  readonly category: string
  readonly icon: string
  readonly description: string
  readonly tags: readonly string[]
  readonly dangerous: string | undefined
  readonly expensive: boolean
  readonly webUrl: string
  /** As given; `undefined` when not set (see {@link TaskOptions.maxConcurrent}). */
  readonly maxConcurrent: number | undefined
  /** Limits across every worker (see {@link TaskOptions.limits}); `{}` when none. */
  readonly limits: TaskLimits<A>
  readonly fields: readonly Field[]
  /** The task's check of its arguments as a whole (see {@link TaskOptions.validate}). */
  readonly validate: ArgsCheck<A> | undefined
  readonly timeoutMs: number | undefined
  /** See {@link TaskOptions.unservedAfterMs}; `undefined` when not set. */
  readonly unservedAfterMs: number | false | undefined
  readonly queue: string | undefined
  readonly priority: number | undefined
  readonly maxAttempts: number | undefined
  readonly backoff: BackoffPolicy | undefined
  readonly uniqueKey: ((args: A) => string | undefined) | undefined
  readonly reuseResultMs: number | undefined
  /** Defaults of its runs' options (an empty object when none are set). */
  readonly defaults: TaskRunDefaults
  readonly run: (ctx: RunContext<A>) => R | Promise<R>
  readonly onSuccess: Hook<A, R> | undefined
  readonly onFailure: Hook<A, RunError> | undefined
  readonly onCancel: Hook<A, RunError> | undefined
  readonly onSettled: Hook<A, RunResult<R>> | undefined
}

/**
 * A hook's type, declared as a method so it is bivariant in its value: a task whose handler
 * never returns (`R = never`) is still an {@link AnyTask}.
 */
type Hook<A, T> = { bivarianceHack(ctx: RunContext<A>, value: T): HookResult }['bivarianceHack']

/** Any task, whatever its argument and result types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers are contravariant in their args; `any` is the only top type that accepts every task.
export type AnyTask = Task<any, any>

/** The argument type of a task. */
export type TaskArgs<T> = T extends Task<infer A, unknown> ? A : never
/** The result data type of a task. */
export type TaskData<T> = T extends Task<never, infer R> ? R : never

const TASK_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
/** The concurrency of `runAll` when neither the call nor the task gives one: `0`, the machine's available parallelism ({@link TaskOptions.maxConcurrent}). */
export const DEFAULT_MAX_CONCURRENT = 0
/** `-1` in `maxConcurrent` means this many. */
export const UNLIMITED_CONCURRENCY = 128

/**
 * Defines a task. Checks everything at once and throws a {@link TaskDefinitionError} naming the
 * task and the bad property. The handler's `ctx.args` type is inferred from `fields`.
 *
 * @example
 * const greet = defineTask({
 *   key: 'greet',
 *   fields: [{ key: 'name', type: 'string', default: 'world' }],
 *   run: (ctx) => `hello ${ctx.args.name}`,
 * })
 */
export function defineTask<const Fs extends readonly Field[] = readonly [], R = unknown>(
  options: TaskOptions<Fs, R>,
): Task<ArgsOf<Fs>, Awaited<R>> {
  if (typeof options !== 'object' || options === null) {
    throw new TaskDefinitionError(`a task definition must be an object, got ${describeValue(options)}`)
  }
  const { key } = options
  if (typeof key !== 'string' || !TASK_KEY.test(key)) {
    throw new TaskDefinitionError(
      `invalid task key ${describeValue(key)}: use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 100)`,
    )
  }
  const where = `task "${key}"`
  checkOptionKeys(options, TASK_OPTION_KEYS, where, { ErrorClass: TaskDefinitionError })
  if (typeof options.run !== 'function') throw new TaskDefinitionError(`${where}: run must be a function, got ${describeValue(options.run)}`)
  for (const hook of ['onSuccess', 'onFailure', 'onCancel', 'onSettled'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') {
      throw new TaskDefinitionError(`${where}: ${hook} must be a function, got ${describeValue(options[hook])}`)
    }
  }
  for (const prop of ['title', 'category', 'icon', 'description', 'dangerous', 'webUrl'] as const) {
    const value = options[prop]
    if (value !== undefined && typeof value !== 'string') {
      throw new TaskDefinitionError(`${where}: ${prop} must be a string, got ${describeValue(value)}`)
    }
  }
  if (options.expensive !== undefined && typeof options.expensive !== 'boolean') {
    throw new TaskDefinitionError(`${where}: expensive must be a boolean, got ${describeValue(options.expensive)}`)
  }
  const tags: readonly string[] = options.tags ?? []
  const tagList: unknown = tags
  if (!Array.isArray(tagList) || !tags.every((t) => typeof t === 'string' && t !== '')) {
    throw new TaskDefinitionError(`${where}: tags must be an array of non-empty strings, got ${describeValue(tags)}`)
  }
  if (options.maxConcurrent !== undefined) checkConcurrency(options.maxConcurrent, `${where}: maxConcurrent`, TaskDefinitionError)
  const limits = checkTaskLimits<ArgsOf<Fs>>(options.limits, where, TaskDefinitionError)
  if (options.timeoutMs !== undefined) checkPositiveMs(options.timeoutMs, `${where}: timeoutMs`)
  if (options.unservedAfterMs !== undefined && options.unservedAfterMs !== false) checkPositiveMs(options.unservedAfterMs, `${where}: unservedAfterMs`)
  if (options.reuseResultMs !== undefined) checkPositiveMs(options.reuseResultMs, `${where}: reuseResultMs`)
  if (options.queue !== undefined) checkQueueName(options.queue, `${where}: queue`, TaskDefinitionError)
  if (options.priority !== undefined && !Number.isSafeInteger(options.priority)) {
    throw new TaskDefinitionError(`${where}: priority must be an integer, got ${describeValue(options.priority)}`)
  }
  if (options.maxAttempts !== undefined && (!Number.isSafeInteger(options.maxAttempts) || options.maxAttempts < 1)) {
    throw new TaskDefinitionError(`${where}: maxAttempts must be an integer >= 1, got ${describeValue(options.maxAttempts)}`)
  }
  if (options.backoff !== undefined) checkBackoff(options.backoff, `${where}: backoff`, true, TaskDefinitionError)
  checkValidateOption(options.validate, where)
  if (options.uniqueKey !== undefined && typeof options.uniqueKey !== 'function') {
    throw new TaskDefinitionError(`${where}: uniqueKey must be a function of the arguments, got ${describeValue(options.uniqueKey)}`)
  }
  const defaults = checkRunDefaults(options.defaults, where)
  const fields = options.fields ?? []
  checkFields(key, fields)

  const task: Task<ArgsOf<Fs>, Awaited<R>> = {
    [TASK_BRAND]: true,
    key,
    title: options.title ?? titleCase(key),
    category: options.category ?? DEFAULT_CATEGORY,
    icon: options.icon ?? DEFAULT_ICON,
    description: options.description ?? '',
    tags: Object.freeze([...tags]),
    dangerous: options.dangerous,
    expensive: options.expensive ?? false,
    webUrl: options.webUrl ?? `/admin/task/${encodeURIComponent(key)}`,
    maxConcurrent: options.maxConcurrent,
    limits,
    // Aliased types (`number`, `boolean`, `bigint`) are stored as the type they stand for.
    fields: Object.freeze(resolveAliases(fields).map((f) => Object.freeze({ ...f }))),
    validate: options.validate,
    timeoutMs: options.timeoutMs,
    unservedAfterMs: options.unservedAfterMs,
    queue: options.queue,
    priority: options.priority,
    maxAttempts: options.maxAttempts,
    backoff: options.backoff,
    uniqueKey: options.uniqueKey,
    reuseResultMs: options.reuseResultMs,
    defaults,
    // R and Awaited<R> differ only in that the engine awaits the handler before using its value.
    run: options.run as Task<ArgsOf<Fs>, Awaited<R>>['run'],
    onSuccess: options.onSuccess,
    onFailure: options.onFailure,
    onCancel: options.onCancel,
    onSettled: options.onSettled,
  }
  return Object.freeze(task)
}

/** Whether a value is a task made by {@link defineTask}. */
export function isTask(value: unknown): value is AnyTask {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TASK_BRAND] === true
}

/**
 * Checks a concurrency setting: a positive integer, `0` (available parallelism) or `-1` (128).
 * Throws `ErrorClass` quoting the value otherwise.
 */
export function checkConcurrency(value: unknown, what: string, ErrorClass: new (message: string) => Error): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -1) {
    throw new ErrorClass(
      `${what}: expected a positive integer, 0 (available parallelism) or -1 (${UNLIMITED_CONCURRENCY}), got ${describeValue(value)}`,
    )
  }
}

/**
 * The number a concurrency setting stands for: `0` → the machine's available parallelism, `-1`
 * → {@link UNLIMITED_CONCURRENCY} (128), anything else itself. The value must have passed
 * {@link checkConcurrency}.
 */
export function concurrencyOf(value: number): number {
  if (value === 0) return availableParallelism()
  if (value === -1) return UNLIMITED_CONCURRENCY
  return value
}

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/

/** Checks a queue name: letters, digits, `.`, `_`, `:`, `-`, at most 100. */
export function checkQueueName(value: unknown, what: string, ErrorClass: new (message: string) => Error): asserts value is string {
  if (typeof value !== 'string' || !QUEUE_NAME.test(value)) {
    throw new ErrorClass(`${what}: expected a queue name (letters, digits, ".", "_", ":", "-"; at most 100), got ${describeValue(value)}`)
  }
}

/** Checks a task's run defaults; returns them frozen (an empty object when none are given). */
function checkRunDefaults(value: unknown, where: string): TaskRunDefaults {
  if (value === undefined) return EMPTY_DEFAULTS
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TaskDefinitionError(`${where}: defaults must be an object, got ${describeValue(value)}`)
  }
  const d = value as Record<string, unknown>
  const taskLevel = Object.keys(d).filter((key) => d[key] !== undefined && !RUN_DEFAULT_KEYS.includes(key as never) && TASK_OPTION_KEYS.includes(key as never))
  try {
    checkOptionKeys(d, RUN_DEFAULT_KEYS, where, { prefix: 'defaults.', ErrorClass: TaskDefinitionError })
  } catch (error) {
    // `defaults: { queue }` is a likely mistake of its own: say where such an option goes.
    if (taskLevel.length === 0) throw error
    throw new TaskDefinitionError(`${(error as Error).message}; ${taskLevel.join(', ')} ${taskLevel.length === 1 ? 'is' : 'are'} set on the task itself, not in defaults`)
  }
  for (const key of ['label', 'createdBy'] as const) {
    if (d[key] !== undefined && (typeof d[key] !== 'string' || d[key] === '')) throw new TaskDefinitionError(`${where}: defaults.${key} must be a non-empty string, got ${describeValue(d[key])}`)
  }
  if (d.delayMs !== undefined && (typeof d.delayMs !== 'number' || !Number.isFinite(d.delayMs) || d.delayMs < 0)) {
    throw new TaskDefinitionError(`${where}: defaults.delayMs: expected a non-negative number of milliseconds, got ${describeValue(d.delayMs)}`)
  }
  if (d.notAfterMs !== undefined) checkPositiveMs(d.notAfterMs, `${where}: defaults.notAfterMs`)
  if (d.category !== undefined && d.category !== 'user' && d.category !== 'system') {
    throw new TaskDefinitionError(`${where}: defaults.category must be "user" or "system", got ${describeValue(d.category)}`)
  }
  if (d.tags !== undefined && (!Array.isArray(d.tags) || !d.tags.every((t) => typeof t === 'string' && t !== ''))) {
    throw new TaskDefinitionError(`${where}: defaults.tags must be an array of non-empty strings, got ${describeValue(d.tags)}`)
  }
  const copy: Record<string, unknown> = { ...d }
  if (Array.isArray(d.tags)) copy.tags = Object.freeze([...(d.tags as string[])])
  return Object.freeze(copy)
}

const EMPTY_DEFAULTS: TaskRunDefaults = Object.freeze({})

function checkPositiveMs(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TaskDefinitionError(`${what}: expected a positive number of milliseconds, got ${describeValue(value)}`)
  }
}
