/**
 * The engine: a task registry plus the ways to execute runs. This file holds the in-process
 * part (`run`, `runAll`) and the event subscription.
 */
import { availableParallelism } from 'node:os'
import { NotFoundError, ValidationError, coerceError, describeValue, type FieldIssue } from '../errors.js'
import type { RunResult } from '../task/context.js'
import { UNLIMITED_CONCURRENCY, checkConcurrency, type AnyTask, type Task } from '../task/define.js'
import { parseArgs, type ArgsInput } from '../task/fields.js'
import { TaskRegistry, type TaskCategory } from '../task/registry.js'
import { EventBus, deliver, type RunEvent, type RunEventFilter, type RunEventListener } from './events.js'
import { executeRun, type LogLimits, type RunSpec } from './execute.js'
import { newId } from './ids.js'
import { RunBatch } from './run-batch.js'

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** Tasks to register at once. */
  readonly tasks?: readonly AnyTask[]
  /** How long an `onSuccess`/`onFailure`/`onSettled` hook may take before it is logged as overrun. Default: 30 000 ms. */
  readonly hookTimeoutMs?: number
  /** Log lines one in-process run keeps in memory; past it the oldest are dropped and counted. Default: 10 000. */
  readonly maxLogLines?: number
  /** Characters kept of one log line. Default: 65 536. */
  readonly maxLogLineLength?: number
  /**
   * Receives errors the engine cannot hand to anyone else (a throwing event listener).
   * Default: print to stderr.
   */
  readonly onError?: (error: Error) => void
}

/** Options of one in-process run. */
export interface RunOptions {
  /** The run label. Default: `ad-hoc`. */
  readonly label?: string
  /** Time limit in milliseconds; overrides the task's `timeoutMs`. */
  readonly timeoutMs?: number
  /** Cancels the run from outside: it ends `cancelled` as soon as the signal fires. */
  readonly signal?: AbortSignal
  /** Receives every event of this run (started, log, progress, tags, then the final status) as it happens. */
  readonly onEvent?: RunEventListener
  /** Tags the run starts with. */
  readonly tags?: readonly string[]
}

/** Options of {@link Engine.runAll}. */
export interface RunAllOptions extends Omit<RunOptions, 'label'> {
  /** Overrides the task's `maxConcurrent` (same meaning: `0` = CPU count, `-1` = 128). */
  readonly concurrency?: number
}

/** Arguments for a known task: its fields' types, or text to be coerced. */
export type ArgsInputOf<A> = { readonly [K in keyof A]?: A[K] | string | readonly string[] | number | boolean | null }

/** The default label of a run. */
export const DEFAULT_LABEL = 'ad-hoc'

/** The task engine. Create it with {@link createEngine}. */
export class Engine {
  readonly #registry = new TaskRegistry()
  readonly #bus: EventBus
  readonly #hookTimeoutMs: number
  readonly #logLimits: LogLimits
  readonly #onError: (error: Error) => void

  constructor(options: EngineOptions = {}) {
    this.#onError = options.onError ?? ((error) => console.error('[taskengine]', error))
    this.#bus = new EventBus((error) => this.#onError(coerceError(error)))
    this.#hookTimeoutMs = positiveInt(options.hookTimeoutMs, 30_000, 'hookTimeoutMs')
    this.#logLimits = {
      maxLines: positiveInt(options.maxLogLines, 10_000, 'maxLogLines'),
      maxLineLength: positiveInt(options.maxLogLineLength, 65_536, 'maxLogLineLength'),
    }
    if (options.tasks !== undefined) this.register(...options.tasks)
  }

  /** Registers tasks. A duplicate or malformed key is an error naming it; nothing is registered then. */
  register(...tasks: AnyTask[]): this {
    this.#registry.register(...tasks)
    return this
  }

  /** Removes exactly the task with this key. Returns whether it was registered. */
  remove(key: string): boolean {
    return this.#registry.remove(key)
  }

  /** The task with this key, or `undefined`. */
  get(key: string): AnyTask | undefined {
    return this.#registry.get(key)
  }

  /** Every registered task, sorted by key. */
  list(): readonly AnyTask[] {
    return this.#registry.list()
  }

  /** The categories in use, sorted by name, each with its tasks. */
  categories(): TaskCategory[] {
    return this.#registry.categories()
  }

  /**
   * Executes a task now, in this process, and resolves to its result. Invalid arguments or an
   * unknown task reject with a `ValidationError` / `NotFoundError` before anything runs; a
   * failing handler never rejects: its error is in the result.
   *
   * @example
   * const result = await engine.run('backup', { format: 'tar' }, { label: 'nightly', timeoutMs: 60_000 })
   * if (result.status !== 'succeeded') console.error(result.error?.message)
   */
  run<A, R>(task: Task<A, R>, args?: ArgsInputOf<A>, options?: RunOptions): Promise<RunResult<R>>
  run(key: string, args?: ArgsInput, options?: RunOptions): Promise<RunResult>
  async run(taskOrKey: AnyTask | string, args?: ArgsInput, options: RunOptions = {}): Promise<RunResult> {
    const task = this.#resolve(taskOrKey)
    checkRunOptions(options)
    const parsed = parseArgs(task.fields, args)
    return executeRun(this.#spec(task, options.label ?? DEFAULT_LABEL, options), newId(), parsed)
  }

  /**
   * Executes a task once per argument object, at most `maxConcurrent` at a time (the task's, or
   * `options.concurrency`): `0` = available CPU parallelism, `-1` = 128. Every argument object
   * is validated first; if any is invalid this throws a `ValidationError` listing each bad
   * field as `[index].key` and nothing runs.
   *
   * `await` the batch for results in input order, or `for await` it for results in completion
   * order as they finish.
   *
   * @example
   * for await (const result of engine.runAll('backup', 'batch', [{ format: 'sql' }, { format: 'tar' }])) {
   *   console.log(result.args.format, result.status)
   * }
   */
  runAll<A, R>(task: Task<A, R>, label: string, argsList: readonly ArgsInputOf<A>[], options?: RunAllOptions): RunBatch<R>
  runAll(key: string, label: string, argsList: readonly ArgsInput[], options?: RunAllOptions): RunBatch
  runAll(taskOrKey: AnyTask | string, label: string, argsList: readonly ArgsInput[], options: RunAllOptions = {}): RunBatch {
    const task = this.#resolve(taskOrKey)
    checkRunOptions({ ...options, label })
    const list: unknown = argsList
    if (!Array.isArray(list)) throw new ValidationError(`runAll() takes an array of argument objects, got ${describeValue(argsList)}`)
    const concurrency = resolveConcurrency(options.concurrency ?? task.maxConcurrent, options.concurrency === undefined ? `task "${task.key}": maxConcurrent` : 'concurrency')
    const parsed: Record<string, unknown>[] = new Array<Record<string, unknown>>(argsList.length)
    let issues: FieldIssue[] | undefined
    for (let i = 0; i < argsList.length; i++) {
      try {
        parsed[i] = parseArgs(task.fields, argsList[i])
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error
        const batchIssues = (issues ??= [])
        for (const issue of error.fields) batchIssues.push({ ...issue, key: `[${i}].${issue.key}`, message: `[${i}].${issue.message}` })
        if (error.fields.length === 0) batchIssues.push({ key: `[${i}]`, expected: 'an object', received: describeValue(argsList[i]), message: `[${i}]: ${error.message}` })
      }
    }
    if (issues !== undefined) throw new ValidationError('invalid arguments in batch', issues)
    const spec = this.#spec(task, label, options)
    return new RunBatch(parsed.length, concurrency, (index) => executeRun(spec, newId(), parsed[index]!))
  }

  /**
   * Subscribes to run events of every run (or those matching `filter`). Runs started while
   * nobody listens emit nothing, so subscribe before starting the runs you want to watch.
   * Returns the function that unsubscribes.
   */
  subscribe(listener: RunEventListener, filter?: RunEventFilter): () => void {
    return this.#bus.subscribe(listener, filter)
  }

  #resolve(taskOrKey: AnyTask | string): AnyTask {
    if (typeof taskOrKey === 'string') return this.#registry.require(taskOrKey)
    const registered = this.#registry.get(taskOrKey.key)
    if (registered !== taskOrKey) throw new NotFoundError(`task "${String(taskOrKey.key)}" is not registered on this engine`)
    return registered
  }

  #spec(task: AnyTask, label: string, options: RunOptions): RunSpec {
    return {
      task,
      label,
      attempt: 1,
      tags: options.tags ?? [],
      timeoutMs: options.timeoutMs ?? task.timeoutMs,
      signal: options.signal,
      hookTimeoutMs: this.#hookTimeoutMs,
      logLimits: this.#logLimits,
      emit: this.#emitter(options.onEvent),
    }
  }

  /** One function that feeds a run's events to its own listener and the subscribers; none when nobody listens. */
  #emitter(onEvent: RunEventListener | undefined): ((event: RunEvent) => void) | undefined {
    const bus = this.#bus
    const report = (error: unknown): void => this.#onError(coerceError(error))
    if (onEvent === undefined) return bus.active ? (event) => bus.emit(event) : undefined
    return (event) => {
      deliver(onEvent, event, report)
      if (bus.active) bus.emit(event)
    }
  }
}

/** Creates an engine. */
export function createEngine(options?: EngineOptions): Engine {
  return new Engine(options)
}

/** The parallelism a `maxConcurrent` value means: `0` → available parallelism, `-1` → 128. */
export function resolveConcurrency(value: number, what = 'concurrency'): number {
  checkConcurrency(value, what, ValidationError)
  if (value === 0) return availableParallelism()
  if (value === -1) return UNLIMITED_CONCURRENCY
  return value
}

function checkRunOptions(options: RunOptions): void {
  if (typeof options !== 'object' || options === null) throw new ValidationError(`run options must be an object, got ${describeValue(options)}`)
  const { label, timeoutMs, signal, onEvent, tags } = options
  if (label !== undefined && (typeof label !== 'string' || label === '')) {
    throw new ValidationError(`label: expected a non-empty string, got ${describeValue(label)}`)
  }
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    throw new ValidationError(`timeoutMs: expected a positive number of milliseconds, got ${describeValue(timeoutMs)}`)
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ValidationError(`signal: expected an AbortSignal, got ${describeValue(signal)}`)
  if (onEvent !== undefined && typeof onEvent !== 'function') throw new ValidationError(`onEvent: expected a function, got ${describeValue(onEvent)}`)
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string' && t !== ''))) {
    throw new ValidationError(`tags: expected an array of non-empty strings, got ${describeValue(tags)}`)
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) throw new ValidationError(`${name}: expected a positive integer, got ${describeValue(value)}`)
  return value
}
