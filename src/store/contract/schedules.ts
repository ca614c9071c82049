/**
 * The schedules role: what the store keeps of schedules defined in code (enabled, last tick),
 * and the atomic step that gives each tick to exactly one process.
 */
import type { InsertOutcome, NewRun } from './queue.js'

/** What the store keeps of a schedule (the definition itself lives in code). */
export interface ScheduleState {
  /** The schedule's id. */
  readonly id: string
  /** Whether it fires. */
  readonly enabled: boolean
  /** The last tick handled (fired or skipped), epoch ms; `null` before the first. */
  readonly lastTickAt: number | null
  /** The run of the last tick that fired. */
  readonly lastRunId: string | null
  /** The next tick, as the process that handled the last one computed it. */
  readonly nextTickAt: number | null
  /** When the state last changed, epoch ms. */
  readonly updatedAt: number
}

/** See {@link ScheduleStore.initSchedule}. */
export interface ScheduleInit {
  /** The schedule's id. */
  readonly id: string
  /** Whether a new schedule starts enabled. */
  readonly enabled: boolean
  /** Ticks up to here count as handled (a new schedule does not catch up on the past). */
  readonly since: number
  /** Its next tick, epoch ms. */
  readonly nextTickAt: number | null
  /** Now, epoch ms. */
  readonly now: number
}

/** See {@link ScheduleStore.fireSchedule}. */
export interface ScheduleFire {
  /** The schedule's id. */
  readonly id: string
  /** The tick to take, epoch ms. */
  readonly tickAt: number
  /** The tick after it, epoch ms. */
  readonly nextTickAt: number | null
  /** The tick's run; `null` when the tick is skipped (overlap, disabled, missed). */
  readonly run: NewRun | null
  /** Now, epoch ms. */
  readonly now: number
}

/** What {@link ScheduleStore.fireSchedule} did. */
export interface FireOutcome {
  /** Whether this call took the tick. */
  readonly fired: boolean
  /** The insert of the tick's run, when this call took the tick and had one. */
  readonly insert?: InsertOutcome
}

/** The schedules role. */
export interface ScheduleStore {
  /**
   * Records a schedule the first time any process registers it (enabled as given, ticks handled
   * up to `since`); a known schedule keeps its state. Returns the stored state.
   */
  initSchedule(init: ScheduleInit): Promise<ScheduleState>
  /** Every schedule the store knows, by id. */
  listSchedules(): Promise<ScheduleState[]>
  /**
   * Turns a schedule on or off. Turning it on counts the ticks up to `now` as handled: ticks
   * missed while it was off are never caught up. `undefined` for an unknown schedule.
   */
  setScheduleEnabled(id: string, enabled: boolean, now: number): Promise<ScheduleState | undefined>
  /**
   * Takes one tick of a schedule, atomically: when the tick is later than the last one handled,
   * it becomes the last one, and `run` (if any) is inserted in the same transaction. When another
   * process took the tick first (or a later one), nothing changes and `fired` is `false`.
   */
  fireSchedule(fire: ScheduleFire): Promise<FireOutcome>
}
