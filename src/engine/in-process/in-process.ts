/**
 * In-process runs (`engine.run`, `engine.runAll`): options and arguments are checked, then one
 * `RunSpec` per call (a batch shares it between its items) and `executeRun` for each run. The
 * runs are tracked, so that `engine.close()` gives them the grace period and then ends them.
 */
import { setMaxListeners } from 'node:events'
import { ShutdownError, coerceError } from '../../errors.js'
import type { RunResult } from '../../task/context.js'
import { DEFAULT_MAX_CONCURRENT, type AnyTask } from '../../task/define.js'
import type { ArgsInput } from '../../task/fields.js'
import { parseTaskArgs } from '../../task/validate.js'
import { deliver, type EventBus } from '../events/bus.js'
import type { RunEvent, RunEventListener } from '../events/run-events.js'
import { executeRun, type LogLimits, type PoolOpener, type RunSpec } from '../execute/active-run.js'
import { RunTracker } from '../execute/run-tracker.js'
import { normalizeTags } from '../execute/tags.js'
import { newId } from '../ids.js'
import {
  DEFAULT_LABEL,
  RUN_ALL_OPTION_KEYS,
  RUN_OPTION_KEYS,
  optionIssue,
  parseBatch,
  resolveConcurrency,
  runOptionIssues,
  withOptionIssues,
  type RunAllOptions,
  type RunOptions,
} from '../options.js'
import type { Tracing } from '../tracing/tracing.js'
import { RunBatch } from './run-batch.js'
import type { RecordedRuns } from './recorded-runs.js'

/** What in-process runs need from the engine. */
export interface InProcessHost {
  readonly bus: EventBus
  readonly hookTimeoutMs: number
  readonly logLimits: LogLimits
  readonly maxArtifactBytes: number
  readonly openPool: PoolOpener
  readonly tracing: Tracing
  /** Where runs with `record: true` go (see `recorded-runs.ts`). */
  readonly recorded: RecordedRuns
  onError(error: Error): void
}

export class InProcessRuns {
  readonly #host: InProcessHost
  /** The runs executing now, ended by {@link close}. */
  readonly #tracker = new RunTracker()
  /** Specs of runs without options, by task key (see {@link #defaultSpec}). */
  readonly #defaults = new Map<string, { readonly spec: RunSpec; readonly listening: boolean }>()

  constructor(host: InProcessHost) {
    this.#host = host
  }

  /** Checks options and arguments, then executes one run (see `Engine.run`). Without options, the task's default spec is reused. */
  run(task: AnyTask, args: ArgsInput | undefined, options: RunOptions | undefined): Promise<RunResult> {
    if (options === undefined) return this.#execute(this.#defaultSpec(task), parseTaskArgs(task, args), undefined)
    const parsed = withOptionIssues(runOptionIssues(options, RUN_OPTION_KEYS), 'invalid run options', () => parseTaskArgs(task, args))
    const spec = this.#spec(task, options.label ?? task.defaults.label ?? DEFAULT_LABEL, options)
    if (options.record === true) return this.#record(spec, parsed, options)
    return this.#execute(spec, parsed, undefined)
  }

  /**
   * The spec of a run without options: built once per task and kept while it stays true (the
   * same task object, no subscriber came or went, the engine not shut down since).
   */
  #defaultSpec(task: AnyTask): RunSpec {
    const cached = this.#defaults.get(task.key)
    if (cached !== undefined && cached.spec.task === task && cached.listening === this.#host.bus.active && cached.spec.epoch === this.#tracker.epoch) return cached.spec
    const spec = this.#spec(task, task.defaults.label ?? DEFAULT_LABEL, {})
    this.#defaults.set(task.key, { spec, listening: this.#host.bus.active })
    return spec
  }

  /** Executes one run and stores it as it goes (`record: true`), traced when tracing is on. */
  #record(spec: RunSpec, args: Record<string, unknown>, options: RunOptions): Promise<RunResult> {
    const tracing = this.#host.tracing
    const parent = tracing.activeContext()
    return this.#host.recorded.run(spec, args, options, (id) => tracing.inProcess(spec.task.key, id, parent))
  }

  /** Executes one run, traced when tracing is on (under `parent`, else the active span). */
  #execute(spec: RunSpec, args: Record<string, unknown>, parent: unknown): Promise<RunResult> {
    const id = newId()
    return executeRun(spec, id, args, this.#host.tracing.inProcess(spec.task.key, id, parent))
  }

  /** Checks options and every argument object, then starts the batch (see `Engine.runAll`). */
  runAll(task: AnyTask, label: string, argsList: readonly ArgsInput[], options: RunAllOptions): RunBatch {
    const issues = runOptionIssues(options, RUN_ALL_OPTION_KEYS)
    if (typeof label !== 'string' || label === '') issues.unshift(optionIssue('label', 'a non-empty string', label, 'label'))
    const parsed = withOptionIssues(issues, 'invalid run options', () => parseBatch(task, argsList))
    const concurrency = resolveConcurrency(
      options.concurrency ?? task.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
      options.concurrency === undefined ? `task "${task.key}": maxConcurrent` : 'concurrency',
    )
    // The batch's runs listen to a signal of the batch's own: the caller's gets one listener, not
    // one per run executing (Node warns of a leak past ten).
    const spec = this.#spec(task, label, options.signal === undefined ? options : { ...options, signal: batchSignal(options.signal) })
    // Every item's span goes under the caller's span of this call, not under the lane's last run.
    const tracing = this.#host.tracing
    const parent = tracing.activeContext()
    const report = (what: string, error: Error): void => this.#host.onError(new Error(`${what} failed: ${error.message}`, { cause: error }))
    // Not tracing now: the batch's runs pay nothing for it.
    if (parent === undefined) return new RunBatch(parsed.length, concurrency, (index) => executeRun(spec, newId(), parsed[index]!), report)
    return new RunBatch(parsed.length, concurrency, (index) => this.#execute(spec, parsed[index]!, parent), report)
  }

  /** Waits up to `graceMs` for the runs executing, then ends the rest with a `ShutdownError`. */
  async close(graceMs: number): Promise<void> {
    const runs = this.#tracker
    if (runs.size > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([runs.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
      clearTimeout(timer)
    }
    runs.shutdown(new ShutdownError('engine shutting down'))
    // Handlers that stop when their signal fires settle within this turn; others are not waited for.
    if (runs.size > 0) await new Promise<void>((resolve) => setImmediate(resolve))
    // Recorded runs store their end before the store closes.
    await this.#host.recorded.close()
  }

  #spec(task: AnyTask, label: string, options: RunOptions): RunSpec {
    const host = this.#host
    return {
      task,
      label,
      attempt: 1,
      tags: normalizeTags(options.tags ?? task.defaults.tags ?? []),
      timeoutMs: options.timeoutMs ?? task.timeoutMs,
      signal: options.signal,
      interruptible: false,
      hookTimeoutMs: host.hookTimeoutMs,
      logLimits: host.logLimits,
      emit: this.#emitter(options.onEvent),
      emitFinal: true,
      retainLogs: true,
      logSeqStart: 0,
      sink: undefined,
      poolId: null,
      durable: false,
      maxArtifactBytes: host.maxArtifactBytes,
      openPool: host.openPool,
      tracker: this.#tracker,
      epoch: this.#tracker.epoch,
    }
  }

  /** One function that feeds a run's events to its own listener and the subscribers; none when nobody listens. */
  #emitter(onEvent: RunEventListener | undefined): ((event: RunEvent) => void) | undefined {
    const bus = this.#host.bus
    const report = (error: unknown): void => this.#host.onError(coerceError(error))
    if (onEvent === undefined) return bus.active ? (event) => bus.emit(event) : undefined
    return (event) => {
      deliver(onEvent, event, report)
      if (bus.active) bus.emit(event)
    }
  }
}

/**
 * A signal that follows `outer` (aborts when it does, with its reason) and takes any number of
 * listeners. `AbortSignal.any` holds `outer` to it weakly: nothing is left on `outer` once the
 * batch is gone.
 */
function batchSignal(outer: AbortSignal): AbortSignal {
  const signal = AbortSignal.any([outer])
  setMaxListeners(0, signal)
  return signal
}
