/**
 * Pools: groups of durable runs with an aggregate status (the seeds' nested task pools).
 *
 * A pool is created in the store when opened; runs join it through `add`. `wait()` closes it and
 * resolves when every run in it and in the pools below it has finished. Waiting from inside a
 * handler tells the worker (through `onWait`), which lends the handler's slot to other runs, so
 * a parent waiting on its children completes even at concurrency 1.
 *
 * Hooks (`onFailure`, `onSettled`) belong to the handle: they run once, in this process, when the
 * handle sees the pool settle — in `wait()`, or in a watch that `close()` starts when hooks are
 * registered (see `PoolHooks`).
 */
import { coerceError } from '../../errors.js'
import { checkOptionKeys, optionKeys } from '../../options.js'
import type { PoolHook, PoolOptions, PoolStatus, QueuedRun, RunPool } from '../../task/context.js'
import type { AnyTask } from '../../task/define.js'
import type { ArgsInput } from '../../task/fields.js'
import type { Pool, PoolCounts, Run } from '../../store/types.js'
import type { EnqueueOptions } from './enqueue.js'
import { newId } from '../ids.js'
import { PoolHooks } from '../execute/pool-hooks.js'

/** What a pool needs from the engine. */
export interface PoolEngine {
  enqueue(task: AnyTask | string, args: ArgsInput, options: EnqueueOptions): Promise<Run>
  enqueueMany(task: AnyTask | string, argsList: readonly ArgsInput[], options: EnqueueOptions): Promise<Run[]>
  createPool(pool: { id: string; parentRunId: string | null; parentPoolId: string | null; label: string | null }): Promise<Pool>
  closePool(id: string): Promise<void>
  getPool(id: string): Promise<Pool | undefined>
  poolCounts(id: string): Promise<PoolCounts>
  cancelPool(id: string, reason: string): Promise<void>
  /** Resolves at the next sign of change in the pool tree (a run in it finished), or after the poll interval. */
  poolChanged(id: string): Promise<void>
  /** The runs of the pool tree that failed or were cancelled (up to 1000), for its hooks. */
  failedRuns(id: string): Promise<Run[]>
  /** Reports a pool hook that threw, or a watch that failed, when no run opened the pool. */
  onError(error: Error): void
  now(): number
}

/** Who opened a pool: a run (its id, its own pool, how to tell the worker it waits, its log) or nobody. */
export interface PoolParent {
  readonly runId: string | null
  readonly poolId: string | null
  readonly onWait: ((waiting: boolean) => void) | undefined
  /** Writes an error line on the opening run's log (hook failures go there); `false` when the run has ended. */
  readonly log?: ((message: string) => boolean) | undefined
}

/** Computes a pool's aggregate status from its counts. */
export function poolStatus(pool: Pool, counts: PoolCounts, now: number): PoolStatus {
  const complete = counts.succeeded + counts.failed + counts.cancelled
  const active = counts.pending + counts.running + counts.waiting
  const closed = pool.closedAt !== null
  const done = closed && active === 0
  const progress = counts.total === 0 ? (done ? 100 : 0) : Math.min(100, (complete * 100 + counts.progressSum) / counts.total)
  const end = done ? (counts.lastFinishedAt?.getTime() ?? now) : now
  return {
    id: pool.id,
    total: counts.total,
    complete,
    succeeded: counts.succeeded,
    failed: counts.failed,
    cancelled: counts.cancelled,
    pending: counts.pending,
    running: counts.running,
    waiting: counts.waiting,
    progress,
    runtimeMs: Math.max(0, end - pool.createdAt.getTime()),
    closed,
    done,
  }
}

const POOL_OPTION_KEYS = optionKeys<PoolOptions>({ label: true })

/** A pool handle: what `engine.pool()` and `ctx.pool()` return. */
export class PoolHandle implements RunPool {
  readonly id: string
  readonly #engine: PoolEngine
  readonly #parentRunId: string | null
  readonly #onWait: ((waiting: boolean) => void) | undefined
  readonly #created: Promise<Pool>
  readonly #hooks: PoolHooks<Run>
  /** Watches the pool until it settles, then runs its hooks (started by `wait()`, or by `close()` when hooks exist). */
  #settling: Promise<PoolStatus> | undefined
  /** The status this handle saw the pool settle with. */
  #settled: PoolStatus | undefined
  /** The hooks' run (once): the failed runs read, then every hook. */
  #hooksRun: Promise<void> | undefined

  constructor(engine: PoolEngine, options: PoolOptions, parent: PoolParent) {
    checkOptionKeys(options, POOL_OPTION_KEYS, 'pool')
    this.id = newId()
    this.#engine = engine
    this.#parentRunId = parent.runId
    this.#onWait = parent.onWait
    const log = parent.log
    this.#hooks = new PoolHooks(`pool ${this.id}`, (what, error) => {
      if (log?.(`${what} failed: ${error.stack ?? error.message}`) !== true) engine.onError(new Error(`${what} failed: ${error.message}`, { cause: error }))
    })
    this.#created = engine.createPool({ id: this.id, parentRunId: parent.runId, parentPoolId: parent.poolId, label: options.label ?? null })
    // Every method awaits creation and reports its failure; do not also raise an unhandled rejection.
    this.#created.catch(() => undefined)
  }

  /** The run that opened the pool, if any. */
  get parentRunId(): string | null {
    return this.#parentRunId
  }

  async add(task: string | AnyTask | { readonly key: string }, args?: Readonly<Record<string, unknown>>, options: EnqueueOptions = {}): Promise<Run & QueuedRun> {
    await this.#created
    return this.#engine.enqueue(taskRef(task), args, this.#joined(options))
  }

  async addMany(task: string | AnyTask | { readonly key: string }, argsList: readonly Readonly<Record<string, unknown>>[], options: EnqueueOptions = {}): Promise<Run[]> {
    await this.#created
    return this.#engine.enqueueMany(taskRef(task), argsList, this.#joined(options))
  }

  async close(): Promise<void> {
    await this.#created
    await this.#engine.closePool(this.id)
    // With hooks, someone must see the pool settle: this handle watches it.
    if (this.#hooks.size > 0 && this.#settling === undefined) {
      this.#settling = this.#settle()
      this.#settling.catch((error: unknown) => this.#engine.onError(new Error(`pool ${this.id}: watching it for its hooks failed: ${coerceError(error).message}`, { cause: error })))
    }
  }

  onSettled(hook: PoolHook<Run>): this {
    this.#hooks.add('onSettled', hook)
    this.#lateHook()
    return this
  }

  onFailure(hook: PoolHook<Run>): this {
    this.#hooks.add('onFailure', hook)
    this.#lateHook()
    return this
  }

  /** A hook added after the pool settled runs at once (through the hooks' one run, if it has not happened yet). */
  #lateHook(): void {
    if (this.#settled === undefined) return
    this.#runHooks(this.#settled).catch((error: unknown) => this.#engine.onError(new Error(`pool ${this.id}: running its hooks failed: ${coerceError(error).message}`, { cause: error })))
  }

  /** Runs the hooks once: reads the failed runs (only if there are any), then calls every hook registered so far. */
  #runHooks(status: PoolStatus): Promise<void> {
    this.#hooksRun ??= (async () => {
      const failed = status.failed + status.cancelled === 0 ? [] : await this.#engine.failedRuns(this.id)
      await this.#hooks.settle({ status, failed })
    })()
    return this.#hooksRun
  }

  async status(): Promise<PoolStatus> {
    const pool = await this.#created
    const [current, counts] = await Promise.all([this.#engine.getPool(this.id), this.#engine.poolCounts(this.id)])
    return poolStatus(current ?? pool, counts, this.#engine.now())
  }

  async wait(): Promise<PoolStatus> {
    await this.close()
    this.#onWait?.(true)
    try {
      // Every waiter shares one watch (which also runs the hooks); a failed watch is not kept.
      const settling = (this.#settling ??= this.#settle())
      try {
        return await settling
      } catch (error) {
        if (this.#settling === settling) this.#settling = undefined
        throw error
      }
    } finally {
      this.#onWait?.(false)
    }
  }

  /** Resolves once the pool is done, after its hooks ran. */
  async #settle(): Promise<PoolStatus> {
    for (;;) {
      const status = await this.status()
      if (status.done) {
        // Without hooks nothing more is read: a pool's wait costs what it did.
        if (this.#hooks.size > 0) await this.#runHooks(status)
        this.#settled = status
        return status
      }
      await this.#engine.poolChanged(this.id)
    }
  }

  async cancel(reason = 'pool cancelled'): Promise<void> {
    await this.#created
    await this.#engine.cancelPool(this.id, reason)
  }

  #joined(options: EnqueueOptions): EnqueueOptions {
    return { ...options, poolId: this.id, ...(this.#parentRunId === null ? {} : { parentId: this.#parentRunId }) }
  }
}

function taskRef(task: string | AnyTask | { readonly key: string }): string | AnyTask {
  if (typeof task === 'string') return task
  if (typeof task === 'object' && task !== null && typeof task.key === 'string') return task.key
  throw coerceError(new TypeError('pool.add() takes a task key or a task'))
}
