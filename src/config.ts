/**
 * The shape of `taskengine.config.{js,mjs,ts}`: what the CLI loads from the working directory.
 */
import type { UsersOptions } from './engine/access/users.js'
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
  /**
   * The built-in users' roles and session lifetimes (see `EngineOptions.users`), for every
   * command that opens the store: `serve` checks permissions with these roles, and
   * `taskengine users add|set-role` accepts only their names.
   *
   * @example
   * users: { roles: { viewer: ['runs:read'], oncall: ['runs:read', 'runs:cancel', 'runs:retry'], admin: ['*'] } }
   */
  readonly users?: UsersOptions
  /**
   * Fails pending runs no live worker served for this long (see `EngineOptions.unservedAfterMs`),
   * for `worker` and `serve`.
   * @default off
   * @example unservedAfterMs: 15 * 60_000
   */
  readonly unservedAfterMs?: number
  /**
   * Origins whose pages may show the embeddable views (`/admin/embed/runs/:id`) in a frame, for
   * `serve` (see `ServerOptions.allowedFrameAncestors`; `--allowed-frame-ancestors` wins). A bad
   * entry stops `serve` at start with a message naming it.
   * @default [] (no page may be framed)
   *
   * @example
   * allowedFrameAncestors: ['https://app.example.com']
   */
  readonly allowedFrameAncestors?: readonly string[]
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
