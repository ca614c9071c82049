/**
 * Where the CLI's tasks come from, in order: `--tasks <module>` (or `TASKENGINE_TASKS`), a
 * `taskengine.config.{ts,mts,js,mjs}` in the working directory, else the built-in examples.
 */
import { existsSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { exampleSchedules, exampleTasks } from '../examples/tasks.js'
import { TaskDefinitionError, coerceError } from '../errors.js'
import type { UsersOptions } from '../engine/access/users.js'
import type { QueueLimits } from '../task/limits.js'
import { isTask, type AnyTask } from '../task/define.js'
import { isSchedule, type Schedule } from '../task/schedule.js'

/** Config file names looked for in the working directory, first match wins. */
export const CONFIG_FILES = ['taskengine.config.ts', 'taskengine.config.mts', 'taskengine.config.js', 'taskengine.config.mjs']

/** The tasks (and cron schedules) and where they were found. */
export interface LoadedTasks {
  readonly tasks: readonly AnyTask[]
  readonly schedules: readonly Schedule[]
  /** Queue limits across workers from a config object's `queues` (checked by the engine). */
  readonly queues?: Readonly<Record<string, QueueLimits>>
  /** The built-in users' roles and sessions from a config object's `users` (checked by the engine). */
  readonly users?: UsersOptions
  /** A config object's `unservedAfterMs` (checked by the engine). */
  readonly unservedAfterMs?: number
  /** Origins that may frame the embeds, from a config object's `allowedFrameAncestors` (checked by the server). */
  readonly allowedFrameAncestors?: readonly string[]
  /** `examples`, or the path of the module or config file. */
  readonly source: string
}

/** Loads tasks from the module given, else the config file in `cwd`, else the examples. */
export async function loadTasks(options: { readonly module?: string | undefined; readonly cwd: string }): Promise<LoadedTasks> {
  if (options.module !== undefined && options.module !== '') {
    const path = resolve(options.cwd, options.module)
    if (!existsSync(path)) throw new TaskDefinitionError(`tasks module not found: ${path}`)
    return { ...contentsOf(await importModule(path), path), source: path }
  }
  for (const name of CONFIG_FILES) {
    const path = resolve(options.cwd, name)
    if (existsSync(path)) return { ...contentsOf(await importModule(path), path), source: path }
  }
  return { tasks: exampleTasks, schedules: exampleSchedules, source: 'examples' }
}

/** Imports JavaScript natively and TypeScript through jiti (Node 20 cannot load `.ts` itself). */
async function importModule(path: string): Promise<Record<string, unknown>> {
  try {
    if (['.ts', '.mts', '.cts', '.tsx'].includes(extname(path))) {
      const { createJiti } = await import('jiti')
      const jiti = createJiti(import.meta.url, { interopDefault: false })
      return await jiti.import<Record<string, unknown>>(path)
    }
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>
  } catch (error) {
    const cause = coerceError(error)
    throw new TaskDefinitionError(`could not load ${path}: ${cause.message}`)
  }
}

/**
 * Collects the tasks and schedules a module exports: a config object as default export
 * (`{ tasks: [...], schedules: [...], queues, users, unservedAfterMs, allowedFrameAncestors }`), tasks, schedules or arrays of them as default or named
 * exports. Each once, in export order.
 */
export function contentsOf(module: Record<string, unknown>, path: string): Omit<LoadedTasks, 'source'> & { tasks: AnyTask[]; schedules: Schedule[] } {
  const tasks = new Set<AnyTask>()
  const schedules = new Set<Schedule>()
  const take = (value: unknown): void => {
    if (isTask(value)) tasks.add(value)
    else if (isSchedule(value)) schedules.add(value)
    else if (Array.isArray(value)) for (const item of value) take(item)
  }
  const fallback = module.default
  const settings: Record<string, unknown> = {}
  if (typeof fallback === 'object' && fallback !== null && !Array.isArray(fallback) && !isTask(fallback) && !isSchedule(fallback) && ('tasks' in fallback || 'schedules' in fallback)) {
    const config = fallback as Record<string, unknown>
    take(config.tasks)
    take(config.schedules)
    for (const key of CONFIG_SETTINGS) if (config[key] !== undefined) settings[key] = config[key]
  } else {
    take(fallback)
  }
  for (const [name, value] of Object.entries(module)) if (name !== 'default') take(value)
  if (tasks.size === 0) {
    throw new TaskDefinitionError(`${path} exports no tasks: export tasks made by defineTask() (named, as an array, or as default { tasks: [...] })`)
  }
  // The settings are checked where they are used (the engine, the server), so they pass through as given.
  return { ...(settings as Omit<LoadedTasks, 'source' | 'tasks' | 'schedules'>), tasks: [...tasks], schedules: [...schedules] }
}

/** The keys of a config object, beside `tasks` and `schedules`, that the commands read. */
const CONFIG_SETTINGS = ['queues', 'users', 'unservedAfterMs', 'allowedFrameAncestors'] as const satisfies readonly (keyof LoadedTasks)[]

/** The tasks a module exports (see {@link contentsOf}). */
export function tasksOf(module: Record<string, unknown>, path: string): AnyTask[] {
  return contentsOf(module, path).tasks
}
