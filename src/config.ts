/**
 * The shape of `taskengine.config.{js,mjs,ts}`: what the CLI loads from the working directory.
 */
import type { AnyTask } from './task/define.js'

/** What a config file exports as default. */
export interface TaskEngineConfig {
  /** The tasks to register. */
  readonly tasks?: readonly AnyTask[]
}

/**
 * Identity function that gives a config file type checking.
 *
 * @example
 * // taskengine.config.ts
 * export default defineConfig({ tasks: [backup, report] })
 */
export function defineConfig(config: TaskEngineConfig): TaskEngineConfig {
  return config
}
