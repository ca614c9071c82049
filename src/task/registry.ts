/**
 * The task registry: the set of tasks an engine knows, by key.
 */
import { ConflictError, NotFoundError, TaskDefinitionError, describeValue } from '../errors.js'
import { isTask, type AnyTask } from './define.js'

/** A category and its tasks, as `categories()` lists them. */
export interface TaskCategory {
  readonly name: string
  /** The category's tasks, sorted by key. */
  readonly tasks: readonly AnyTask[]
}

/** Tasks by key. Keys are unique; listing order is by key. */
export class TaskRegistry {
  readonly #tasks = new Map<string, AnyTask>()
  #sorted: AnyTask[] | undefined

  /** Adds tasks. A duplicate key or a value that is not a task is an error naming it; nothing is added then. */
  register(...tasks: AnyTask[]): void {
    const batch = new Set<string>()
    for (const task of tasks) {
      if (!isTask(task)) throw new TaskDefinitionError(`register() takes tasks made by defineTask(), got ${describeValue(task)}`)
      if (this.#tasks.has(task.key) || batch.has(task.key)) {
        throw new ConflictError(`a task with key "${task.key}" is already registered`)
      }
      batch.add(task.key)
    }
    for (const task of tasks) this.#tasks.set(task.key, task)
    this.#sorted = undefined
  }

  /** Removes exactly the task with this key. Returns whether it was there. */
  remove(key: string): boolean {
    const removed = this.#tasks.delete(key)
    if (removed) this.#sorted = undefined
    return removed
  }

  /** The task with this key, or `undefined`. */
  get(key: string): AnyTask | undefined {
    return this.#tasks.get(key)
  }

  /** The task with this key; a {@link NotFoundError} naming the key otherwise. */
  require(key: string): AnyTask {
    const task = this.#tasks.get(key)
    if (task === undefined) throw new NotFoundError(`unknown task "${key}"`)
    return task
  }

  /** The registered task for a key, or this very task object when it is the one registered; a {@link NotFoundError} otherwise. */
  resolve(taskOrKey: AnyTask | string): AnyTask {
    if (typeof taskOrKey === 'string') return this.require(taskOrKey)
    if (this.#tasks.get(taskOrKey.key) !== taskOrKey) throw new NotFoundError(`task "${String(taskOrKey.key)}" is not registered on this engine`)
    return taskOrKey
  }

  /** Whether a task with this key is registered. */
  has(key: string): boolean {
    return this.#tasks.has(key)
  }

  /** Every task, sorted by key. */
  list(): readonly AnyTask[] {
    this.#sorted ??= [...this.#tasks.values()].sort((a, b) => compareKeys(a.key, b.key))
    return this.#sorted
  }

  /** The categories in use, sorted by name, each with its tasks. */
  categories(): TaskCategory[] {
    const byName = new Map<string, AnyTask[]>()
    for (const task of this.list()) {
      const group = byName.get(task.category)
      if (group === undefined) byName.set(task.category, [task])
      else group.push(task)
    }
    return [...byName.entries()].sort(([a], [b]) => compareKeys(a, b)).map(([name, tasks]) => ({ name, tasks }))
  }

  /** How many tasks are registered. */
  get size(): number {
    return this.#tasks.size
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
