/**
 * What a handler sees (the run context) and what a run ends with (the result). Types only:
 * the engine implements them.
 */

import type { ErrorCode } from '../errors.js'

/** Log severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** The log levels, lowest first. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/** One log line of a run. */
export interface LogEntry {
  /** Position in the run's log, from 1; a cursor for incremental reads. */
  readonly seq: number
  readonly time: Date
  readonly level: LogLevel
  readonly message: string
}

/**
 * How far a run has come. `percent` (0–100) is derived from `step`/`steps` when not given.
 * `dest` is where to send a user when done (a URL or path).
 */
export interface Progress {
  readonly percent?: number
  readonly step?: number
  readonly steps?: number
  readonly message?: string
  readonly dest?: string
}

/** A progress report from a handler; merged into the previous one. */
export type ProgressUpdate = Progress

/**
 * Writes a log line on the run. Call it directly for `info`, or use a level:
 * `ctx.log('copied', n, 'rows')`, `ctx.log.warn('slow disk')`. Several arguments are joined as
 * `console.log` would.
 */
export interface LogFunction {
  (...message: unknown[]): void
  debug(...message: unknown[]): void
  info(...message: unknown[]): void
  warn(...message: unknown[]): void
  error(...message: unknown[]): void
}

/** A run as a pool reports it after adding it. */
export interface QueuedRun {
  readonly id: string
  readonly task: string
  readonly status: string
}

/** Aggregate status of a pool (with every pool nested below it). */
export interface PoolStatus {
  readonly id: string
  /** Runs added so far. */
  readonly total: number
  /** Finished runs: succeeded + failed + cancelled. */
  readonly complete: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
  readonly pending: number
  readonly running: number
  readonly waiting: number
  /** 0–100: finished runs count fully, unfinished ones by their own progress. */
  readonly progress: number
  /** Time since the pool opened (until its last run finished, once done). */
  readonly runtimeMs: number
  /** All runs have been added (`close()` or `wait()` was called). */
  readonly closed: boolean
  /** Closed and every run finished. */
  readonly done: boolean
}

/**
 * What a pool's `onSettled` and `onFailure` hooks receive once it settled (closed, and every run
 * in it and below it finished). `R` is a run as the pool knows it: a stored run for durable pools,
 * a {@link RunResult} for `runAll` batches.
 */
export interface PoolSettlement<R = unknown> {
  /** The aggregate status as it settled. */
  readonly status: PoolStatus
  /** The runs that failed or were cancelled (durable pools: in the whole tree, up to 1000). */
  readonly failed: readonly R[]
}

/** A pool hook; its return value is awaited. A throw or rejection is logged, and the next hook still runs. */
export type PoolHook<R = unknown> = (settlement: PoolSettlement<R>) => void | Promise<void>

/** Options of a pool. */
export interface PoolOptions {
  /** A label shown with the pool. */
  readonly label?: string
}

/** Options of a run added to a pool (the enqueue options). */
export type PoolAddOptions = Readonly<Record<string, unknown>>

/**
 * A group of durable runs with an aggregate status. A handler opens one with `ctx.pool()`, adds
 * runs, and waits; while it waits its worker slot is lent out, so a parent waiting on its
 * children never deadlocks the worker.
 */
export interface RunPool {
  readonly id: string
  /** Enqueues a run of `task` into the pool. */
  add(task: string | { readonly key: string }, args?: Readonly<Record<string, unknown>>, options?: PoolAddOptions): Promise<QueuedRun>
  /** Enqueues one run per argument object into the pool. */
  addMany(task: string | { readonly key: string }, argsList: readonly Readonly<Record<string, unknown>>[], options?: PoolAddOptions): Promise<QueuedRun[]>
  /** Marks that every run has been added. */
  close(): Promise<void>
  /** Closes the pool and resolves once every run in it (and in pools below it) has finished. */
  wait(): Promise<PoolStatus>
  /** The aggregate status now. */
  status(): Promise<PoolStatus>
  /** Cancels every unfinished run in the pool and below it. */
  cancel(reason?: string): Promise<void>
  /**
   * Runs `hook` once the pool settles, whatever its outcome (the seeds' pool cleanups); hooks run
   * in registration order, after every `onFailure` hook. See {@link RunPool.onFailure} for where
   * and when. Returns the pool, for chaining.
   */
  onSettled(hook: PoolHook): this
  /**
   * Runs `hook` once the pool settles if any run in it (or below it) failed or was cancelled (the
   * seeds' error cleanups); in registration order, before the `onSettled` hooks. Hooks run in the
   * process that holds this handle, once, when this handle sees the pool settle: its `wait()`
   * resolves after them, and a pool only closed (`close()`) is watched until it settles. A hook
   * registered after that runs at once. A throwing hook is logged (on the run that opened the
   * pool, else through the engine's `onError`); the next hook still runs.
   */
  onFailure(hook: PoolHook): this
}

/** The handler's view of its run. */
export interface RunContext<A = Record<string, unknown>> {
  /** The arguments, coerced and validated by the task's fields. */
  readonly args: A
  /** The run's id. */
  readonly runId: string
  /** The task key. */
  readonly task: string
  /** The run label (default `ad-hoc`). */
  readonly label: string
  /** The attempt number, from 1. In-process runs have one attempt. */
  readonly attempt: number
  /**
   * Fires when the run should stop: cancelled (`CancelledError`), timed out (`TimeoutError`), its
   * durable run lost to another worker (`LeaseLostError`), or the engine shutting down
   * (`ShutdownError`, after the grace period of `engine.stop()` / `engine.close()`). Pass it to
   * anything that accepts a signal.
   */
  readonly signal: AbortSignal
  /** Writes a log line (see {@link LogFunction}). */
  readonly log: LogFunction
  /** Reports progress; merged into the previous report and streamed to watchers. */
  progress(update: ProgressUpdate): void
  /** Adds tags to the run's result (kept sorted and without duplicates). */
  addTags(...tags: string[]): void
  /**
   * Extends the time limit of this attempt (the seeds' `SetTimeout`), extend-only: the deadline
   * becomes the later of the current one and `ms` from now, so a shorter value changes nothing.
   * A run without a time limit keeps none. Returns the deadline now in force (`undefined`: no
   * time limit). Throws a `ValidationError` unless `ms` is a finite number >= 0.
   *
   * @example
   * for (const file of files) { ctx.extendTimeout(30_000); await copy(file) } // 30 s per file
   */
  extendTimeout(ms: number): Date | undefined
  /**
   * Merges the object's keys into the run's partial result while it runs: stored (durable runs,
   * throttled like progress), streamed to watchers as a `result` event and shown live on the run
   * page. What the handler returns merges over it: a returned object's keys win, any other
   * returned value replaces it, and `undefined` keeps the partial result as the data. A failed
   * or cancelled run keeps its partial result as its data; a new attempt starts from an empty one.
   * Throws a `ValidationError` unless `partial` is a plain object.
   *
   * @example
   * ctx.setResult({ copied: 10 }); ctx.setResult({ skipped: 2 }) // result so far: { copied: 10, skipped: 2 }
   */
  setResult(partial: Readonly<Record<string, unknown>>): void
  /**
   * Stores a file for the run, readable back by name (durable runs: in the store; in-process
   * runs: on the result). Size-limited (`maxArtifactBytes`, default 10 MiB). Same name replaces.
   * A durable run's artifact is written only while its attempt still holds the run: when the run
   * was rescued, retried or deleted meanwhile, nothing is stored, the call rejects with a
   * `LeaseLostError` and the handler's signal fires with it.
   */
  artifact(name: string, data: string | Uint8Array, contentType?: string): Promise<void>
  /** Opens a pool of child runs whose parent is this run. */
  pool(options?: PoolOptions): RunPool
}

/** A file a run stored. */
export interface RunArtifact {
  readonly name: string
  readonly contentType: string
  readonly size: number
  /** The bytes (in-process runs keep them on the result). */
  readonly data: Buffer
}

/** The outcome of a finished run. */
export type RunStatus = 'succeeded' | 'failed' | 'cancelled'

/** An error as recorded on a run: plain data, safe to serialize. */
export interface RunError {
  readonly message: string
  /**
   * A stable code: one of the catalog's (`ERR_TIMEOUT`, `ERR_CANCELLED`, `ERR_SHUTDOWN`,
   * `ERR_WORKER_LOST`, `ERR_EXPIRED` … see `ERROR_CATALOG`), else the thrown error's own string
   * `code`, else `ERR_HANDLER`.
   */
  readonly code: ErrorCode | (string & {})
  /** The error's class name. */
  readonly name: string
  readonly stack?: string
}

/** What a run ends with. */
export interface RunResult<T = unknown> {
  readonly id: string
  readonly task: string
  readonly label: string
  /** The arguments after coercion and defaults. */
  readonly args: Readonly<Record<string, unknown>>
  readonly status: RunStatus
  /**
   * The handler's return value, when it succeeded (merged over its partial result, see
   * {@link RunContext.setResult}); a failed or cancelled run's partial result, if it set one.
   */
  readonly data: T | undefined
  /** Why it failed or was cancelled. */
  readonly error: RunError | undefined
  readonly logs: readonly LogEntry[]
  /** Log lines dropped because the run logged more than the in-memory limit (oldest first). */
  readonly droppedLogs: number
  readonly tags: readonly string[]
  readonly progress: Progress | undefined
  /** Files the run stored with `ctx.artifact` (in-process runs). */
  readonly artifacts: readonly RunArtifact[]
  readonly startedAt: Date
  readonly finishedAt: Date
  readonly durationMs: number
}
