/**
 * Fires cron schedules: at each tick, one durable run of the schedule's task.
 *
 * Every engine that runs a worker runs a scheduler; any number may share a store. A tick becomes
 * a run through {@link Store.fireSchedule}, which moves the schedule's last handled tick forward
 * under a lock and inserts the run in the same step, so of all the processes that wake up for a
 * tick exactly one enqueues it; the run carries the tick's fire key (see {@link fireKeyOf}),
 * unique among all runs, as a second lock and so that each run says which tick it is for.
 * Enabled state lives in the store, read on every wake-up, so a toggle in one process holds for
 * all.
 *
 * Ticks missed while no scheduler ran are skipped, except the last `catchUp` of them. A tick
 * counts as on time while it is late by at most a tenth of the time to the next tick (at least
 * a second, at most a minute): timers that fire late on a busy process still fire their tick.
 */
import { ConflictError, NotFoundError, TaskDefinitionError, coerceError } from '../../errors.js'
import type { Schedule } from '../../task/schedule.js'
import type { NewRun, Run, ScheduleState, Store } from '../../store/types.js'

/**
 * How late a tick may fire and still count as on time: a tenth of the time to the next tick,
 * at least a second and at most a minute (a timer delayed by a busy event loop is not an outage).
 */
const ON_TIME_MS = 60_000
const ON_TIME_MIN_MS = 1000
/** The scheduler looks at the store at least this often (toggles elsewhere, clock changes). */
const MAX_SLEEP_MS = 60_000
/** Ticks looked at per schedule and wake-up, at most (a per-second cron after a long outage). */
const MAX_DUE_TICKS = 10_000

/** What the scheduler needs from the engine. */
export interface SchedulerHost {
  readonly store: Store
  now(): number
  /** The run of a tick (or of a trigger: `tickAt` null), its arguments validated. */
  prepare(schedule: Schedule, tickAt: number | null, notAfter: number | null, createdBy: string | null): Promise<NewRun>
  /** Whether a run of the schedule is pending, running or waiting. */
  hasActiveRun(scheduleId: string): Promise<boolean>
  /** A run was created (for events). */
  created(run: Run): void
  onError(error: Error): void
}

/** A schedule as operators see it: the definition and its stored state. */
export interface ScheduleInfo {
  readonly id: string
  readonly name: string
  readonly description: string
  readonly cron: string
  /** The cron expression in words, e.g. "At 02:30". */
  readonly cronText: string
  readonly timezone: string
  readonly task: string
  readonly enabled: boolean
  readonly overlap: boolean
  readonly catchUp: number
  readonly expireAtNextTick: boolean
  /** The next tick (when enabled). */
  readonly nextRunAt: Date | null
  /** Ticks up to here are handled (fired or skipped; when first seen or re-enabled, the time of that). */
  readonly lastTickAt: Date | null
  /** The schedule's newest run (from a tick or a trigger). */
  readonly lastRun: Run | null
}

/**
 * The fire key of a schedule's tick: `<schedule id>@<tick time, ISO 8601>`. Stored with the tick's
 * run and unique among all runs, so a tick never has two runs, and each run says which tick it is.
 */
export function fireKeyOf(scheduleId: string, tickAt: number): string {
  return `${scheduleId}@${new Date(tickAt).toISOString()}`
}

/** The schedules registered on an engine. */
export class ScheduleRegistry {
  readonly #byId = new Map<string, Schedule>()

  add(schedule: Schedule): void {
    if (this.#byId.has(schedule.id)) throw new TaskDefinitionError(`a schedule with id "${schedule.id}" is already registered`)
    this.#byId.set(schedule.id, schedule)
  }

  get(id: string): Schedule {
    const schedule = this.#byId.get(id)
    if (schedule === undefined) throw new NotFoundError(`unknown schedule "${id}"`)
    return schedule
  }

  has(id: string): boolean {
    return this.#byId.has(id)
  }

  list(): Schedule[] {
    return [...this.#byId.values()].sort((a, b) => a.id.localeCompare(b.id))
  }

  get size(): number {
    return this.#byId.size
  }
}

/** The ticks of `schedule` after `after` up to `until` (inclusive), oldest first, at most `max`. */
export function ticksBetween(schedule: Schedule, after: number, until: number, max = MAX_DUE_TICKS): number[] {
  const ticks: number[] = []
  let cursor = new Date(after)
  while (ticks.length < max) {
    const next = schedule.nextTick(cursor)
    if (next === null || next.getTime() > until) break
    ticks.push(next.getTime())
    cursor = next
  }
  return ticks
}

/** The timer loop firing one engine's schedules. */
export class Scheduler {
  readonly #host: SchedulerHost
  readonly #registry: ScheduleRegistry
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = true

  constructor(host: SchedulerHost, registry: ScheduleRegistry) {
    this.#host = host
    this.#registry = registry
  }

  start(): Promise<void> {
    this.#stopped = false
    return this.wake()
  }

  stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    return this.#running ?? Promise.resolve()
  }

  /** Looks at every schedule now (after a registration, a toggle, or the timer). */
  wake(): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    if (this.#running !== undefined) {
      this.#again = true
      return this.#running
    }
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#running = (async () => {
      let next: number | undefined
      do {
        this.#again = false
        try {
          next = await this.#round()
        } catch (error) {
          this.#host.onError(new Error(`schedules: ${coerceError(error).message}`, { cause: error }))
          next = this.#host.now() + 5000
        }
      } while (this.#again && !this.#stopped)
      this.#running = undefined
      if (this.#stopped) return
      const delay = Math.max(0, Math.min(MAX_SLEEP_MS, (next ?? Infinity) - this.#host.now()))
      this.#timer = setTimeout(() => void this.wake(), delay)
      this.#timer.unref()
    })()
    return this.#running
  }

  /** Makes sure the store knows every registered schedule; returns their states. */
  async states(): Promise<Map<string, ScheduleState>> {
    const store = this.#host.store
    const states = new Map((await store.listSchedules()).map((s) => [s.id, s]))
    for (const schedule of this.#registry.list()) {
      if (states.has(schedule.id)) continue
      const now = this.#host.now()
      const state = await store.initSchedule({ id: schedule.id, enabled: schedule.enabled, since: now, nextTickAt: schedule.nextTick(new Date(now))?.getTime() ?? null, now })
      states.set(schedule.id, state)
    }
    return states
  }

  /** Fires what is due; returns when to look again. */
  async #round(): Promise<number | undefined> {
    const states = await this.states()
    let wakeAt: number | undefined
    for (const schedule of this.#registry.list()) {
      if (this.#stopped) break
      const state = states.get(schedule.id)
      if (state === undefined || !state.enabled) continue
      const next = await this.#due(schedule, state)
      if (next !== null && (wakeAt === undefined || next < wakeAt)) wakeAt = next
    }
    return wakeAt
  }

  /** Handles the due ticks of one schedule; returns its next tick. */
  async #due(schedule: Schedule, state: ScheduleState): Promise<number | null> {
    const now = this.#host.now()
    const since = state.lastTickAt ?? now
    const due = ticksBetween(schedule, since, now)
    const after = (tick: number): number | null => schedule.nextTick(new Date(tick))?.getTime() ?? null
    if (due.length > 0) {
      const latest = due.at(-1)!
      const successor = after(latest)
      const period = successor === null ? ON_TIME_MS : successor - latest
      const onTime = now - latest <= Math.min(period, Math.max(ON_TIME_MIN_MS, Math.min(ON_TIME_MS, period / 10)))
      const missed = onTime ? due.slice(0, -1) : due
      const catchUp = missed.slice(Math.max(0, missed.length - schedule.catchUp))
      const skipped = missed.slice(0, missed.length - catchUp.length)
      // Skipped ticks move the schedule past them in one step, then each tick to run, in order.
      if (skipped.length > 0) await this.#fire(schedule, skipped.at(-1)!, false, 'missed')
      for (const tick of catchUp) await this.#fire(schedule, tick, false)
      if (onTime) await this.#fire(schedule, latest, schedule.expireAtNextTick)
    }
    return after(Math.max(now, due.at(-1) ?? now))
  }

  /** Takes one tick: enqueues its run, or records it as skipped. */
  async #fire(schedule: Schedule, tickAt: number, expires: boolean, skip?: 'missed'): Promise<void> {
    const host = this.#host
    const nextTickAt = schedule.nextTick(new Date(tickAt))?.getTime() ?? null
    let run: NewRun | null = null
    if (skip === undefined) {
      try {
        if (!schedule.overlap && (await host.hasActiveRun(schedule.id))) run = null
        else run = await host.prepare(schedule, tickAt, expires ? nextTickAt : null, null)
      } catch (error) {
        // Bad arguments (or a failing argsBuilder) skip the tick; every process would fail alike.
        host.onError(new Error(`schedule "${schedule.id}": tick ${new Date(tickAt).toISOString()} skipped: ${coerceError(error).message}`, { cause: error }))
      }
    }
    const outcome = await host.store.fireSchedule({ id: schedule.id, tickAt, nextTickAt, run, now: host.now() })
    if (outcome.insert?.created === true) host.created(outcome.insert.run)
  }

  /** Enqueues a run of the schedule now, outside its ticks; refused while it is disabled. */
  async trigger(id: string, createdBy: string | null): Promise<Run> {
    const schedule = this.#registry.get(id)
    const state = (await this.states()).get(id)
    if (state === undefined || !state.enabled) throw new ConflictError(`schedule "${id}" is disabled; enable it before triggering it`)
    const row = await this.#host.prepare(schedule, null, null, createdBy)
    const [outcome] = await this.#host.store.insertRuns([row])
    if (outcome!.created) this.#host.created(outcome!.run)
    return outcome!.run
  }

  /** Turns a schedule on or off for every process sharing the store. */
  async toggle(id: string, enabled: boolean): Promise<void> {
    this.#registry.get(id)
    await this.states()
    await this.#host.store.setScheduleEnabled(id, enabled, this.#host.now())
    void this.wake()
  }
}
