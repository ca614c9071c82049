/**
 * Schedule definitions: a cron expression (with optional seconds) in a time zone that enqueues
 * runs of a task, checked once at definition time. The engine fires them (engine/scheduler.ts).
 */
import { Cron } from 'croner'
import cronstrue from 'cronstrue'
import { TaskDefinitionError, describeValue } from '../errors.js'
import { checkOptionKeys, optionKeys } from '../options.js'
import type { AnyTask, Task } from './define.js'
import { isTask } from './define.js'
import type { ArgsInput } from './fields.js'

/** Marks schedule objects, so a module's exports can be scanned for schedules. */
export const SCHEDULE_BRAND: unique symbol = Symbol.for('taskengine.schedule') as never

/** What an `argsBuilder` learns about the tick it builds arguments for. */
export interface ScheduleTick {
  readonly scheduleId: string
  /** The tick's time (when the cron expression said to run). */
  readonly scheduledAt: Date
}

/** Enqueue options a schedule may set on its runs (each as in `engine.enqueue`). */
export interface ScheduleRunOptions {
  /**
   * The runs' label.
   * @default the task's `defaults.label`, else `'ad-hoc'`
   */
  readonly label?: string
  /**
   * The runs' queue.
   * @default the task's `queue`, else `'default'`
   */
  readonly queue?: string
  /**
   * The runs' priority; higher runs first.
   * @default the task's `priority`, else 0
   */
  readonly priority?: number
  /**
   * Attempts of each run.
   * @default the task's `maxAttempts`, else the `defaultMaxAttempts` setting (3)
   */
  readonly maxAttempts?: number
  /**
   * Time limit of each attempt, in ms.
   * @default the task's `timeoutMs`, else none
   */
  readonly timeoutMs?: number
  /**
   * Tags the runs start with.
   * @default the task's `defaults.tags`, else none
   */
  readonly tags?: readonly string[]
}

/** The time zone a schedule's expression is read in by default ({@link ScheduleOptions.timezone}). */
export const DEFAULT_TIMEZONE = 'UTC'

/** What `defineSchedule` accepts. */
export interface ScheduleOptions<A = Record<string, unknown>> {
  /** Unique id: letters, digits, `.`, `_`, `-`, `:`; starts with a letter or digit; at most 100. */
  readonly id: string
  /**
   * Human name.
   * @default the id
   */
  readonly name?: string
  /**
   * What the schedule is for, shown with it.
   * @default ''
   */
  readonly description?: string
  /**
   * When to run: 5 fields (minute hour day month weekday) or 6 with seconds first, as croner
   * reads them (`L`, `W`, `#`, names, `@daily` and friends included). Day of month and day of
   * week combine with OR, as in classic cron.
   */
  readonly cron: string
  /**
   * IANA time zone the expression is read in, e.g. `Europe/Berlin`.
   * @default 'UTC'
   */
  readonly timezone?: string
  /** The task to enqueue (a definition or a registered key). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly task: Task<A, any> | string
  /** Arguments of every run (validated by the task's fields when the tick fires). */
  readonly args?: Partial<A> | ArgsInput
  /** Arguments computed per tick instead (e.g. "yesterday" for a daily report). */
  readonly argsBuilder?: (tick: ScheduleTick) => Partial<A> | ArgsInput | Promise<Partial<A> | ArgsInput>
  /**
   * Options of every run. Runs are always `category: 'system'` and carry the schedule's id.
   * @default {}
   */
  readonly options?: ScheduleRunOptions
  /**
   * Run a tick while the previous run of this schedule is still pending or running.
   * @default true
   */
  readonly overlap?: boolean
  /**
   * A tick's run expires (`cancelled`) if it has not started by the next tick.
   * @default true
   */
  readonly expireAtNextTick?: boolean
  /**
   * Ticks missed while no process ran the schedule: enqueue the last this many (`0`: skip them).
   * @default 0
   */
  readonly catchUp?: number
  /**
   * Whether a schedule the store has never seen starts enabled (after that, the stored state wins).
   * @default true
   */
  readonly enabled?: boolean
}

/** A checked schedule definition. */
export interface Schedule {
  readonly [SCHEDULE_BRAND]: true
  readonly id: string
  readonly name: string
  readonly description: string
  readonly cron: string
  readonly timezone: string
  /** The task's key. */
  readonly task: string
  /** The task definition, when one was given (the engine registers it if missing). */
  readonly taskDefinition: AnyTask | undefined
  readonly args: ArgsInput | undefined
  readonly argsBuilder: ((tick: ScheduleTick) => ArgsInput | Promise<ArgsInput>) | undefined
  readonly options: ScheduleRunOptions
  readonly overlap: boolean
  readonly expireAtNextTick: boolean
  readonly catchUp: number
  readonly enabled: boolean
  /** The first tick strictly after `after`, or `null` when the expression never fires again. */
  nextTick(after: Date): Date | null
}

const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/
/** Every key of {@link ScheduleRunOptions}. */
const RUN_OPTION_KEYS = optionKeys<ScheduleRunOptions>({ label: true, queue: true, priority: true, maxAttempts: true, timeoutMs: true, tags: true })
/** Every key of {@link ScheduleOptions}. */
const OPTION_KEYS = optionKeys<ScheduleOptions>({
  id: true,
  name: true,
  description: true,
  cron: true,
  timezone: true,
  task: true,
  args: true,
  argsBuilder: true,
  options: true,
  overlap: true,
  expireAtNextTick: true,
  catchUp: true,
  enabled: true,
})

/** Whether `value` names a time zone this runtime knows (IANA names, `UTC`). */
export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value })
    return true
  } catch {
    return false
  }
}

/**
 * Defines a cron schedule. Register it with `createEngine({ schedules: [...] })` or
 * `engine.registerSchedule()`; a tasks module given to the CLI may export schedules too.
 *
 * @example
 * export const nightly = defineSchedule({
 *   id: 'nightly-backup',
 *   cron: '30 2 * * *',
 *   timezone: 'Europe/Berlin',
 *   task: backup,
 *   args: { format: 'tar' },
 *   overlap: false,
 * })
 */
export function defineSchedule<A = Record<string, unknown>>(options: ScheduleOptions<A>): Schedule {
  if (typeof options !== 'object' || options === null) throw new TaskDefinitionError(`a schedule definition must be an object, got ${describeValue(options)}`)
  const { id } = options
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
    throw new TaskDefinitionError(`invalid schedule id ${describeValue(id)}: use letters, digits, ".", "_", "-" and ":", starting with a letter or digit (at most 100)`)
  }
  const where = `schedule "${id}"`
  checkOptionKeys(options, OPTION_KEYS, where, { ErrorClass: TaskDefinitionError })
  for (const prop of ['name', 'description'] as const) {
    if (options[prop] !== undefined && typeof options[prop] !== 'string') throw new TaskDefinitionError(`${where}: ${prop} must be a string, got ${describeValue(options[prop])}`)
  }
  const timezone = options.timezone ?? DEFAULT_TIMEZONE
  if (!isTimeZone(timezone)) throw new TaskDefinitionError(`${where}: unknown time zone ${describeValue(options.timezone)} (use an IANA name such as "Europe/Berlin", or "UTC")`)
  if (typeof options.cron !== 'string' || options.cron.trim() === '') throw new TaskDefinitionError(`${where}: cron must be a cron expression, got ${describeValue(options.cron)}`)
  const cron = options.cron.trim()
  let pattern: Cron
  try {
    pattern = new Cron(cron, { timezone, paused: true, mode: '5-or-6-parts' })
  } catch (error) {
    throw new TaskDefinitionError(`${where}: invalid cron expression "${cron}": ${(error as Error).message.replace(/^CronPattern: /, '')}`)
  }
  const task = options.task
  if (!isTask(task) && (typeof task !== 'string' || task === '')) throw new TaskDefinitionError(`${where}: task must be a task definition or a task key, got ${describeValue(task)}`)
  if (options.args !== undefined && options.argsBuilder !== undefined) throw new TaskDefinitionError(`${where}: give args or argsBuilder, not both`)
  if (options.args !== undefined && (typeof options.args !== 'object' || options.args === null || Array.isArray(options.args))) {
    throw new TaskDefinitionError(`${where}: args must be an object, got ${describeValue(options.args)}`)
  }
  if (options.argsBuilder !== undefined && typeof options.argsBuilder !== 'function') throw new TaskDefinitionError(`${where}: argsBuilder must be a function, got ${describeValue(options.argsBuilder)}`)
  const runOptions = options.options ?? {}
  if (typeof runOptions !== 'object' || runOptions === null) throw new TaskDefinitionError(`${where}: options must be an object, got ${describeValue(runOptions)}`)
  checkOptionKeys(runOptions, RUN_OPTION_KEYS, where, { prefix: 'options.', ErrorClass: TaskDefinitionError })
  for (const flag of ['overlap', 'expireAtNextTick', 'enabled'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw new TaskDefinitionError(`${where}: ${flag} must be a boolean, got ${describeValue(options[flag])}`)
  }
  const catchUp = options.catchUp ?? 0
  if (!Number.isSafeInteger(catchUp) || catchUp < 0 || catchUp > 1000) throw new TaskDefinitionError(`${where}: catchUp must be an integer from 0 to 1000, got ${describeValue(options.catchUp)}`)
  if (pattern.nextRun(new Date()) === null) throw new TaskDefinitionError(`${where}: cron expression "${cron}" never fires again`)

  return Object.freeze({
    [SCHEDULE_BRAND]: true as const,
    id,
    name: options.name ?? id,
    description: options.description ?? '',
    cron,
    timezone,
    task: typeof task === 'string' ? task : (task).key,
    taskDefinition: typeof task === 'string' ? undefined : (task),
    args: options.args,
    argsBuilder: options.argsBuilder,
    options: Object.freeze({ ...runOptions }),
    overlap: options.overlap ?? true,
    expireAtNextTick: options.expireAtNextTick ?? true,
    catchUp,
    enabled: options.enabled ?? true,
    nextTick: (after: Date) => pattern.nextRun(after),
  })
}

/** Whether `value` is a schedule made by {@link defineSchedule}. */
export function isSchedule(value: unknown): value is Schedule {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SCHEDULE_BRAND] === true
}

/** A cron expression in English words (`0 6 * * 1-5` → "At 06:00, Monday through Friday"); the expression itself if it cannot be put in words. */
export function describeCron(cron: string): string {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false })
  } catch {
    return cron
  }
}
