/**
 * The engine's schedules: registration (a schedule brings its task if it is not registered), the
 * state operators see, toggles and triggers, and the runs a tick or trigger enqueues (arguments
 * from `args` or `argsBuilder`, validated; `category: 'system'`; `notAfter` at the next tick
 * unless `expireAtNextTick: false`). The timer loop firing them is the {@link Scheduler}, started
 * with a worker.
 */
import { ConflictError, NotFoundError, ValidationError, describeValue } from '../../errors.js'
import type { AnyTask } from '../../task/define.js'
import { parseTaskArgs } from '../../task/validate.js'
import type { TaskRegistry } from '../../task/registry.js'
import { describeCron, isSchedule, type Schedule } from '../../task/schedule.js'
import type { NewRun, Run, RunFilter, RunPage, Store } from '../../store/types.js'
import { checkEnqueueOptions, newRunRow, type EnqueueOptions } from '../durable/enqueue.js'
import type { EventBus } from '../events/bus.js'
import { DEFAULT_LABEL } from '../options.js'
import type { Settings } from '../settings/settings.js'
import { ScheduleRegistry, Scheduler, fireKeyOf, type ScheduleInfo } from './scheduler.js'

/** What schedules need from the engine. */
export interface SchedulesHost {
  readonly registry: TaskRegistry
  readonly bus: EventBus
  store(): Promise<Store>
  now(): number
  /** Registers a task a schedule brought along. */
  register(task: AnyTask): void
  /** The shared settings (their `defaultMaxAttempts` applies to scheduled runs). */
  settings(): Promise<Settings>
  listRuns(filter: RunFilter): Promise<RunPage>
  onError(error: Error): void
}

export class EngineSchedules {
  readonly #host: SchedulesHost
  readonly #registry = new ScheduleRegistry()
  #scheduler: Scheduler | undefined

  constructor(host: SchedulesHost) {
    this.#host = host
  }

  /** Registers schedules (see `Engine.registerSchedule`); nothing is registered when one is refused. */
  register(schedules: readonly Schedule[]): void {
    const host = this.#host
    for (const schedule of schedules) {
      if (!isSchedule(schedule)) throw new ValidationError(`registerSchedule: expected a schedule made by defineSchedule(), got ${describeValue(schedule)}`)
      if (this.#registry.has(schedule.id)) throw new ConflictError(`a schedule with id "${schedule.id}" is already registered`)
      const task = host.registry.get(schedule.task) ?? schedule.taskDefinition
      if (task === undefined) throw new NotFoundError(`schedule "${schedule.id}": unknown task "${schedule.task}"; register the task first, or give its definition`)
      // Fixed arguments that fail the task's fields or validate would skip every tick: refuse them now.
      if (schedule.args !== undefined) checkScheduleArgs(schedule, task)
      if (!host.registry.has(schedule.task)) host.register(task)
    }
    for (const schedule of schedules) this.#registry.add(schedule)
    void this.#scheduler?.wake()
  }

  /** Every registered schedule with its state: enabled, next and last tick, newest run. */
  async list(): Promise<ScheduleInfo[]> {
    const host = this.#host
    const store = await host.store()
    const states = await this.#schedulerOf(store).states()
    const now = host.now()
    return Promise.all(
      this.#registry.list().map(async (schedule) => {
        const state = states.get(schedule.id)
        const enabled = state?.enabled ?? schedule.enabled
        const [lastRun] = (await store.listRuns({ scheduleId: schedule.id, pageSize: 1 })).data
        return {
          id: schedule.id,
          name: schedule.name,
          description: schedule.description,
          cron: schedule.cron,
          cronText: describeCron(schedule.cron),
          timezone: schedule.timezone,
          task: schedule.task,
          enabled,
          overlap: schedule.overlap,
          catchUp: schedule.catchUp,
          expireAtNextTick: schedule.expireAtNextTick,
          nextRunAt: enabled ? schedule.nextTick(new Date(now)) : null,
          lastTickAt: state?.lastTickAt === null || state === undefined ? null : new Date(state.lastTickAt),
          lastRun: lastRun ?? null,
        }
      }),
    )
  }

  /** One schedule with its state; `NotFoundError` for an unknown id. */
  async get(id: string): Promise<ScheduleInfo> {
    this.#registry.get(id)
    return (await this.list()).find((s) => s.id === id)!
  }

  /** Turns a schedule on or off for every process sharing the store. */
  async toggle(id: string, enabled: boolean): Promise<ScheduleInfo> {
    if (typeof enabled !== 'boolean') throw new ValidationError(`enabled: expected true or false, got ${describeValue(enabled)}`)
    await this.#schedulerOf(await this.#host.store()).toggle(id, enabled)
    return this.get(id)
  }

  /** Enqueues a run of the schedule now; a disabled schedule is a `ConflictError`. */
  async trigger(id: string, createdBy: string | null): Promise<Run> {
    return this.#schedulerOf(await this.#host.store()).trigger(id, createdBy)
  }

  /** Runs of a schedule, newest first. */
  runs(id: string, filter: Omit<RunFilter, 'scheduleId'>): Promise<RunPage> {
    this.#registry.get(id)
    return this.#host.listRuns({ ...filter, scheduleId: id })
  }

  /** Starts firing the schedules from this process (with its worker). */
  async start(): Promise<void> {
    await this.#schedulerOf(await this.#host.store()).start()
  }

  /** Stops firing them (the worker stops). */
  async stop(): Promise<void> {
    await this.#scheduler?.stop()
  }

  #schedulerOf(store: Store): Scheduler {
    const host = this.#host
    this.#scheduler ??= new Scheduler(
      {
        store,
        now: () => host.now(),
        prepare: (schedule, tickAt, notAfter, createdBy) => this.#prepare(schedule, tickAt, notAfter, createdBy),
        hasActiveRun: async (scheduleId) => (await store.listRuns({ scheduleId, status: ['pending', 'running', 'waiting'], pageSize: 1, count: false })).data.length > 0,
        created: (run) => {
          if (host.bus.active) host.bus.emit({ type: 'created', runId: run.id, task: run.task, poolId: run.poolId, time: run.createdAt, run })
        },
        onError: (error) => host.onError(error),
      },
      this.#registry,
    )
    return this.#scheduler
  }

  /** The run of a tick (`tickAt`) or a trigger (`null`), its arguments validated. */
  async #prepare(schedule: Schedule, tickAt: number | null, notAfter: number | null, createdBy: string | null): Promise<NewRun> {
    const host = this.#host
    const task = host.registry.get(schedule.task)
    if (task === undefined) throw new NotFoundError(`unknown task "${schedule.task}"`)
    const input = schedule.argsBuilder === undefined ? (schedule.args ?? {}) : await schedule.argsBuilder({ scheduleId: schedule.id, scheduledAt: new Date(tickAt ?? host.now()) })
    const args = parseTaskArgs(task, input)
    const settings = await host.settings()
    const options: EnqueueOptions = {
      ...schedule.options,
      label: schedule.options.label ?? schedule.name,
      category: 'system',
      scheduleId: schedule.id,
      ...(tickAt === null ? {} : { runAt: tickAt }),
      ...(notAfter === null ? {} : { notAfter }),
      ...(createdBy === null ? {} : { createdBy }),
    }
    checkEnqueueOptions(options)
    const row = newRunRow(task, args, options, { maxAttempts: settings.defaultMaxAttempts, label: DEFAULT_LABEL }, host.now())
    return tickAt === null ? row : { ...row, fireKey: fireKeyOf(schedule.id, tickAt) }
  }
}

/** A schedule's fixed arguments, checked as its ticks will check them; a `ValidationError` naming the schedule. */
function checkScheduleArgs(schedule: Schedule, task: AnyTask): void {
  try {
    parseTaskArgs(task, schedule.args)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    throw new ValidationError(`schedule "${schedule.id}": invalid args for task "${task.key}"`, error.fields, { cause: error })
  }
}
