/**
 * The shape of `taskengine.config.{js,mjs,ts}`: what the CLI loads from the working directory.
 */
import type { QueueLimits } from './task/limits.js'
import type { AnyTask } from './task/define.js'
import type { Schedule } from './task/schedule.js'

/** What a config file exports as default. */
export interface TaskEngineConfig {
  /** The tasks to register. */
  readonly tasks?: readonly AnyTask[]
  /** Cron schedules to register (see `defineSchedule`). */
  readonly schedules?: readonly Schedule[]
  /** Limits per queue across every worker (see `EngineOptions.queues`), for `worker`, `serve` and `queues`. */
  readonly queues?: Readonly<Record<string, QueueLimits>>
}

/**
 * Identity function that gives a config file type checking.
 *
 * @example
 * // taskengine.config.ts
 * export default defineConfig({ tasks: [backup, report], schedules: [nightlyBackup] })
 */
export function defineConfig(config: TaskEngineConfig): TaskEngineConfig {
  return config
}
