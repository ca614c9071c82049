/**
 * Executes one attempt of a run in this process: builds the handler's context, enforces the
 * time limit and cancellation, classifies the outcome, runs the hooks and assembles the result.
 *
 * Invariants:
 * - The returned promise never rejects because of the handler or a hook.
 * - Once the signal fires (cancel, timeout) the result settles at once, even if the handler
 *   ignores its signal; anything the abandoned handler does afterwards is ignored (the run is
 *   sealed).
 */
import { format } from 'node:util'
import { CancelledError, ShutdownError, TimeoutError, ValidationError, coerceError, describeValue } from '../../errors.js'
import type { AnyTask } from '../../task/define.js'
import { storedArgs } from '../../task/fields.js'
import type {
  LogEntry,
  LogFunction,
  LogLevel,
  PoolOptions,
  Progress,
  ProgressUpdate,
  RunArtifact,
  RunContext,
  RunError,
  RunPool,
  RunResult,
  RunStatus,
} from '../../task/context.js'
import type { RunEvent } from '../events/run-events.js'
import type { AttemptTrace } from '../tracing/trace-context.js'
import { MAX_MEDIA_TYPE_LENGTH, isMediaType } from '../media-type.js'
import { mergeProgress } from './progress.js'
import { mergePartialResult, settledData } from './partial-result.js'
import { addSortedTags } from './tags.js'
import { cancelReason, toRunError } from './run-error.js'
import type { RunTracker, TrackedRun } from './run-tracker.js'

/** Limits on what one in-process run keeps in memory. */
export interface LogLimits {
  /** Lines kept; past it the oldest are dropped and counted in `droppedLogs`. */
  readonly maxLines: number
  /** Characters kept of one line; the rest is cut with a marker. */
  readonly maxLineLength: number
}

/**
 * Where a durable run's output goes as it happens (the worker's write buffer). In-process runs
 * have none: their output stays on the result.
 */
export interface RunSink {
  log(entry: LogEntry): void
  /** Progress or tags changed; both are passed so one write saves both. */
  state(progress: Progress | undefined, tags: readonly string[]): void
  /** The partial result changed (`ctx.setResult`): the merged object so far. */
  result(partial: Readonly<Record<string, unknown>>): void
  artifact(name: string, data: Buffer, contentType: string): Promise<void>
  /** The handler started (`true`) or stopped (`false`) waiting on a pool. */
  waiting(waiting: boolean): void
}

/** Opens a pool for a handler; `onWait` is told when the handler waits on it, `log` writes an error line on the run (`false`: the run has ended). */
export type PoolOpener = (
  options: PoolOptions,
  parent: { readonly runId: string | null; readonly poolId: string | null; readonly onWait: ((waiting: boolean) => void) | undefined; readonly log?: ((message: string) => boolean) | undefined },
) => RunPool

/**
 * How to execute runs of one task: everything but the run's id and arguments, so a batch
 * shares one spec between all its runs.
 */
export interface RunSpec {
  readonly task: AnyTask
  readonly label: string
  readonly attempt: number
  readonly tags: readonly string[]
  readonly timeoutMs: number | undefined
  readonly signal: AbortSignal | undefined
  /** Race the handler so that `abort()` settles the run at once, even without a signal or time limit (durable runs). */
  readonly interruptible: boolean
  readonly hookTimeoutMs: number
  readonly logLimits: LogLimits
  /** Receives every event, or `undefined` when nobody listens (then none are built). */
  readonly emit: ((event: RunEvent) => void) | undefined
  /** Emit the final status event (durable runs emit it themselves once stored). */
  readonly emitFinal: boolean
  /** Keep log lines on the result (in-process runs) rather than only in the sink. */
  readonly retainLogs: boolean
  /** Log lines already stored for the run (earlier attempts); numbering continues after them. */
  readonly logSeqStart: number
  readonly sink: RunSink | undefined
  /** The pool the run belongs to (durable runs). */
  readonly poolId: string | null
  /** Whether the run is stored (its id can be a pool's parent). */
  readonly durable: boolean
  readonly maxArtifactBytes: number
  readonly openPool: PoolOpener
  /** Where in-process runs are tracked so the engine can end them when it closes. */
  readonly tracker: RunTracker | undefined
  /** The tracker's epoch when the spec was made: a run of an older epoch (a batch that outlived a close) never starts. */
  readonly epoch: number
}

const NO_LOGS: readonly LogEntry[] = Object.freeze([])
const NO_TAGS: readonly string[] = Object.freeze([])
const NO_ARTIFACTS: readonly RunArtifact[] = Object.freeze([])

/** A result while it is assembled. */
type MutableResult = { -readonly [K in keyof RunResult]: RunResult[K] }

/**
 * Runs the task's handler once with validated `args` and resolves to its result. Never rejects.
 * With `trace`, the run (its handler and hooks) executes with the attempt's span active, its log
 * lines and progress become span events, and the span ends with the outcome.
 */
export function executeRun<R>(spec: RunSpec, id: string, args: Record<string, unknown>, trace?: AttemptTrace): Promise<RunResult<R>> {
  if (trace === undefined) return new ActiveRun(spec, id, args).execute() as Promise<RunResult<R>>
  const active = new ActiveRun(spec, id, args, trace)
  return trace.within(() => active.execute()).then((result) => {
    trace.end(result.status, result.error, result.status === 'failed')
    return result as RunResult<R>
  })
}

// Printable characters only (no control characters), no path separators.
const ARTIFACT_NAME = /^[^/\\]{1,200}$/
const hasControl = (text: string): boolean => [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)

/** The state of one executing run; it is also the handler's context. */
export class ActiveRun implements RunContext {
  readonly #req: RunSpec
  readonly #id: string
  readonly #args: Record<string, unknown>
  #logs: LogEntry[] | undefined
  #seq = 0
  #dropped = 0
  #tags: string[] | undefined
  #progress: Progress | undefined
  #controller: AbortController | undefined
  #abortReason: Error | undefined
  #interrupt: ((reason: Error) => void) | undefined
  #sealed = false
  #log: LogFunction | undefined
  #thrown: Error | undefined
  #artifacts: RunArtifact[] | undefined
  /** The partial result so far (`setResult`); `undefined` until the handler sets one. */
  #partial: Readonly<Record<string, unknown>> | undefined
  /** When the attempt times out (epoch ms), while a time limit is armed; moved by `extendTimeout`. */
  #deadline: number | undefined
  #timer: NodeJS.Timeout | undefined
  #startedAt = 0
  readonly #trace: AttemptTrace | undefined

  /** `trace`: the attempt's span, which receives the run's log lines and progress as events. */
  constructor(spec: RunSpec, id: string, args: Record<string, unknown>, trace?: AttemptTrace) {
    this.#req = spec
    this.#id = id
    this.#args = args
    this.#trace = trace
  }

  get args(): Record<string, unknown> {
    return this.#args
  }
  get runId(): string {
    return this.#id
  }
  get task(): string {
    return this.#req.task.key
  }
  get label(): string {
    return this.#req.label
  }
  get attempt(): number {
    return this.#req.attempt
  }

  // Created on first use: most handlers never look at it, and an AbortController per run is
  // the largest fixed cost of a no-op run.
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason)
    }
    return this.#controller.signal
  }

  get log(): LogFunction {
    if (this.#log === undefined) {
      const write = (level: LogLevel, parts: unknown[]): void => {
        this.#write(level, parts)
      }
      const log = ((...parts: unknown[]) => write('info', parts)) as LogFunction
      log.debug = (...parts) => write('debug', parts)
      log.info = (...parts) => write('info', parts)
      log.warn = (...parts) => write('warn', parts)
      log.error = (...parts) => write('error', parts)
      this.#log = log
    }
    return this.#log
  }

  /** What the handler threw (or the abort reason), once the run settled; `undefined` when it returned. */
  get thrown(): Error | undefined {
    return this.#thrown
  }

  progress(update: ProgressUpdate): void {
    if (this.#sealed) return
    this.#progress = mergeProgress(this.#progress, update)
    this.#req.sink?.state(this.#progress, this.#tags ?? this.#req.tags)
    this.#trace?.progress(this.#progress)
    const emit = this.#req.emit
    if (emit !== undefined) emit({ type: 'progress', runId: this.#id, task: this.#req.task.key, poolId: this.#req.poolId, time: new Date(), progress: this.#progress })
  }

  async artifact(name: string, data: string | Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    if (typeof name !== 'string' || !ARTIFACT_NAME.test(name) || hasControl(name)) {
      throw new ValidationError(`artifact name: expected 1–200 characters without "/", "\\" or control characters, got ${describeValue(name)}`)
    }
    if (!isMediaType(contentType)) {
      throw new ValidationError(`artifact contentType: expected a media type such as "text/plain" or "text/csv; charset=utf-8" (at most ${MAX_MEDIA_TYPE_LENGTH} characters), got ${describeValue(contentType)}`)
    }
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new ValidationError(`artifact data: expected a string or bytes, got ${describeValue(data)}`)
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    if (bytes.length > this.#req.maxArtifactBytes) {
      throw new ValidationError(`artifact "${name}" is ${bytes.length} bytes; the limit is ${this.#req.maxArtifactBytes} (maxArtifactBytes)`)
    }
    if (this.#sealed) return
    const sink = this.#req.sink
    if (sink !== undefined) {
      await sink.artifact(name, Buffer.from(bytes), contentType)
      return
    }
    const list = (this.#artifacts ??= [])
    const at = list.findIndex((a) => a.name === name)
    const artifact: RunArtifact = { name, contentType, size: bytes.length, data: Buffer.from(bytes) }
    if (at === -1) list.push(artifact)
    else list[at] = artifact
  }

  pool(options: PoolOptions = {}): RunPool {
    const sink = this.#req.sink
    return this.#req.openPool(options, {
      runId: this.#req.durable ? this.#id : null,
      poolId: this.#req.poolId,
      onWait: sink === undefined ? undefined : (waiting) => sink.waiting(waiting),
      // A run that ended before its pool settled has no log to write on any more.
      log: (message) => {
        if (this.#sealed) return false
        this.#write('error', [message])
        return true
      },
    })
  }

  addTags(...tags: string[]): void {
    if (this.#sealed) return
    const current = (this.#tags ??= [...this.#req.tags])
    if (!addSortedTags(current, tags)) return
    this.#req.sink?.state(this.#progress, current)
    const emit = this.#req.emit
    if (emit !== undefined) emit({ type: 'tags', runId: this.#id, task: this.#req.task.key, poolId: this.#req.poolId, time: new Date(), tags: [...current] })
  }

  extendTimeout(ms: number): Date | undefined {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new ValidationError(`extendTimeout(): expected a number of milliseconds >= 0, got ${describeValue(ms)}`)
    }
    let deadline = this.#deadline
    if (deadline === undefined) return undefined
    const next = Date.now() + ms
    // Extend-only, and only while the limit is armed (not once the run settled or was stopped).
    if (next > deadline && this.#timer !== undefined && this.#abortReason === undefined) {
      deadline = this.#deadline = next
      clearTimeout(this.#timer)
      this.#timer = setTimeout(() => this.#timedOut(), ms)
    }
    return new Date(deadline)
  }

  setResult(partial: Readonly<Record<string, unknown>>): void {
    const merged = mergePartialResult(this.#partial, partial)
    if (this.#sealed) return
    this.#partial = merged
    this.#req.sink?.result(merged)
    const emit = this.#req.emit
    if (emit !== undefined) emit({ type: 'result', runId: this.#id, task: this.#req.task.key, poolId: this.#req.poolId, time: new Date(), data: merged })
  }

  /**
   * Runs the attempt: the handler, then the hooks. Not an `async` function: a run without hooks
   * (the common case) settles through one `then` on the handler's promise, without an async
   * frame and the promises an `await` makes, which is most of a no-op run's cost.
   */
  execute(): Promise<RunResult> {
    const req = this.#req
    const startedAt = Date.now()
    this.#startedAt = startedAt
    const tracker = req.tracker
    // Queued before the engine closed: it never starts (no started event, nothing counted).
    const stale = tracker !== undefined && tracker.epoch !== req.epoch
    if (req.emit !== undefined && !stale) {
      req.emit({ type: 'started', runId: this.#id, task: req.task.key, poolId: req.poolId, time: new Date(startedAt), label: req.label, attempt: req.attempt })
    }
    if (req.signal?.aborted === true || stale) {
      const reason = stale ? new ShutdownError('engine shutting down') : cancelReason(req.signal?.reason)
      this.#abortReason = reason
      this.#thrown = reason
      return Promise.resolve(this.#settle('cancelled', undefined, toRunError(reason), false, undefined))
    }
    // Hooks belong to the run: it stays tracked (and graced on close) until they are done.
    const tracked = tracker?.add(this)
    let invoked: unknown
    try {
      invoked = this.#invoke()
    } catch (thrown) {
      return Promise.resolve(this.#failed(thrown, tracked))
    }
    return Promise.resolve(invoked).then(
      (data) => this.#settle('succeeded', data, undefined, true, tracked),
      (thrown: unknown) => this.#failed(thrown, tracked),
    )
  }

  /** The handler threw or rejected (or the run was aborted: the abort reason wins). */
  #failed(thrown: unknown, tracked: TrackedRun | undefined): RunResult | Promise<RunResult> {
    const err = this.#abortReason ?? coerceError(thrown)
    this.#thrown = err
    return this.#settle(err instanceof CancelledError ? 'cancelled' : 'failed', undefined, toRunError(err), true, tracked)
  }

  /** Builds the result; runs the task's hooks first when it has any. `ran`: the handler was called. */
  #settle(status: RunStatus, data: unknown, error: RunError | undefined, ran: boolean, tracked: TrackedRun | undefined): RunResult | Promise<RunResult> {
    // Cheap when the handler never set a partial result: `data` is returned as is.
    if (this.#partial !== undefined) data = settledData(this.#partial, data, status)
    const finishedAt = Date.now()
    const result: MutableResult = {
      id: this.#id,
      task: this.#req.task.key,
      label: this.#req.label,
      // As stored: an int64's bigint as its decimal string, so a result always turns into JSON.
      args: storedArgs(this.#args),
      status,
      data,
      error,
      logs: NO_LOGS,
      droppedLogs: 0,
      tags: NO_TAGS,
      progress: undefined,
      artifacts: NO_ARTIFACTS,
      startedAt: new Date(this.#startedAt),
      finishedAt: new Date(finishedAt),
      durationMs: finishedAt - this.#startedAt,
    }
    const { task } = this.#req
    const hooked =
      (task.onSuccess !== undefined && status === 'succeeded') ||
      (task.onFailure !== undefined && status === 'failed') ||
      (task.onCancel !== undefined && status === 'cancelled' && ran) ||
      task.onSettled !== undefined
    if (hooked) return this.#runHooks(result, ran, tracked)
    return this.#seal(result, tracked)
  }

  /** Runs the task's hooks for the outcome on `result`, then seals it. */
  async #runHooks(result: MutableResult, ran: boolean, tracked: TrackedRun | undefined): Promise<RunResult> {
    const { task } = this.#req
    const { status, data, error } = result
    if (task.onSuccess !== undefined && status === 'succeeded') await this.#hook('onSuccess', () => task.onSuccess!(this, data))
    if (task.onFailure !== undefined && status === 'failed') await this.#hook('onFailure', () => task.onFailure!(this, error!))
    if (task.onCancel !== undefined && status === 'cancelled' && ran) await this.#hook('onCancel', () => task.onCancel!(this, error!))
    if (task.onSettled !== undefined) {
      this.#fill(result)
      await this.#hook('onSettled', () => task.onSettled!(this, result))
    }
    return this.#seal(result, tracked)
  }

  /** Ends the run: nothing the handler does from now on counts; the final event; untracked. */
  #seal(result: MutableResult, tracked: TrackedRun | undefined): RunResult {
    const req = this.#req
    this.#sealed = true
    this.#fill(result)
    if (req.emitFinal && req.emit !== undefined) req.emit({ type: result.status, runId: this.#id, task: req.task.key, poolId: req.poolId, time: result.finishedAt, error: result.error ?? null, result })
    if (tracked !== undefined) req.tracker!.delete(tracked)
    return result
  }

  /** Copies what the handler accumulated onto the result. */
  #fill(result: { logs: readonly LogEntry[]; droppedLogs: number; tags: readonly string[]; progress: Progress | undefined; artifacts: readonly RunArtifact[] }): void {
    result.logs = this.#logs ?? NO_LOGS
    result.droppedLogs = this.#dropped
    result.tags = this.#tags ?? this.#req.tags
    result.progress = this.#progress
    result.artifacts = this.#artifacts ?? NO_ARTIFACTS
  }

  /** Calls the handler; with a time limit or an outside signal, races it against them. */
  #invoke(): unknown {
    const { task, timeoutMs, signal } = this.#req
    if (timeoutMs === undefined && signal === undefined && !this.#req.interruptible) return task.run(this)
    return new Promise((resolve, reject) => {
      this.#interrupt = reject
      if (timeoutMs !== undefined) {
        this.#deadline = this.#startedAt + timeoutMs
        this.#timer = setTimeout(() => this.#timedOut(), timeoutMs)
      }
      const onAbort = (): void => this.#abort(cancelReason(signal?.reason))
      signal?.addEventListener('abort', onAbort, { once: true })
      const cleanup = (): void => {
        if (this.#timer !== undefined) {
          clearTimeout(this.#timer)
          this.#timer = undefined
        }
        signal?.removeEventListener('abort', onAbort)
      }
      try {
        Promise.resolve(task.run(this)).then(
          (value) => {
            cleanup()
            resolve(value)
          },
          (thrown: unknown) => {
            cleanup()
            reject(coerceError(thrown))
          },
        )
      } catch (thrown) {
        cleanup()
        reject(coerceError(thrown))
      }
    })
  }

  /** The time limit passed: the error names the whole limit, extensions included. */
  #timedOut(): void {
    this.#timer = undefined
    this.#abort(new TimeoutError((this.#deadline ?? Date.now()) - this.#startedAt))
  }

  /**
   * Stops the run: its signal fires with `reason` and the result settles at once (a
   * `CancelledError` → cancelled; anything else → failed). The first reason wins.
   */
  abort(reason: Error): void {
    this.#abort(reason)
  }

  #abort(reason: Error): void {
    if (this.#abortReason !== undefined) return
    this.#abortReason = reason
    this.#controller?.abort(reason)
    this.#interrupt?.(reason)
  }

  /** Runs a hook; a throw, rejection or overrun is logged on the run, never lost and never thrown. */
  async #hook(name: string, call: () => unknown): Promise<void> {
    const limit = this.#req.hookTimeoutMs
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        Promise.resolve().then(call),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(limit)), limit)
        }),
      ])
    } catch (thrown) {
      const err = coerceError(thrown)
      const what = err instanceof TimeoutError ? `did not finish within ${limit} ms` : `failed: ${err.stack ?? err.message}`
      this.#write('error', [`${name} hook ${what}`])
    } finally {
      clearTimeout(timer)
    }
  }

  #write(level: LogLevel, parts: unknown[]): void {
    if (this.#sealed) return
    let message = parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : format(...parts)
    const { maxLineLength } = this.#req.logLimits
    if (message.length > maxLineLength) message = `${message.slice(0, maxLineLength)}… [${message.length - maxLineLength} characters cut]`
    this.#append(level, message)
  }

  /** Adds a line, already formatted and cut, to the run's log (the sink, the trace, the result, the listeners). */
  #append(level: LogLevel, message: string): void {
    const { maxLines } = this.#req.logLimits
    const entry: LogEntry = { seq: this.#req.logSeqStart + ++this.#seq, time: new Date(), level, message }
    this.#req.sink?.log(entry)
    this.#trace?.log(entry)
    if (this.#req.retainLogs) {
      const logs = (this.#logs ??= [])
      logs.push(entry)
      if (logs.length > maxLines) {
        // Drop in chunks so a chatty handler does not pay a shift per line.
        const drop = Math.max(1, Math.floor(maxLines / 10))
        logs.splice(0, drop)
        this.#dropped += drop
      }
    }
    const emit = this.#req.emit
    if (emit !== undefined) emit({ type: 'log', runId: this.#id, task: this.#req.task.key, poolId: this.#req.poolId, time: entry.time, entry })
  }
}
