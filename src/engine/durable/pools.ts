/**
 * The engine's side of pools: what a `PoolHandle` calls into (store, enqueue, cancel), the opener
 * handlers use (`ctx.pool()`), and the pool report `engine.getPool` gives. A handler that waits on
 * its pool re-reads the counts when a run of the pool tree settles in this process, or after the
 * poll interval (runs settling elsewhere).
 */
import type { PoolStatus } from '../../task/context.js'
import type { AnyTask } from '../../task/define.js'
import type { ArgsInput } from '../../task/fields.js'
import type { Pool, PoolCounts, Run, Store } from '../../store/types.js'
import type { EventBus } from '../events/bus.js'
import type { RunEvent } from '../events/run-events.js'
import type { PoolOpener } from '../execute/active-run.js'
import type { EnqueueOptions } from './enqueue.js'
import { PoolHandle, poolStatus, type PoolEngine } from './pool.js'

/** A pool with its aggregate status, as {@link Engine.getPool} reports it. */
export interface PoolReport {
  readonly pool: Pool
  readonly status: PoolStatus
  /** The pool's own runs (newest first, up to 1000). */
  readonly runs: readonly Run[]
  /** Pools nested directly below this one (opened by its runs). */
  readonly children: readonly Pool[]
}

/** What pools need from the engine. */
export interface PoolsHost {
  store(): Promise<Store>
  now(): number
  readonly bus: EventBus
  readonly pollIntervalMs: number
  enqueue(task: AnyTask | string, args: ArgsInput, options: EnqueueOptions): Promise<Run>
  enqueueMany(task: AnyTask | string, argsList: readonly ArgsInput[], options: EnqueueOptions): Promise<Run[]>
  cancelPool(id: string, reason: string): Promise<void>
  onError(error: Error): void
}

/** The most failed runs a pool's hooks receive. */
const MAX_FAILED_RUNS = 1000

/** Events after which a waiting pool looks at its counts again. */
const SETTLING = new Set<RunEvent['type']>(['succeeded', 'failed', 'cancelled', 'retrying', 'deleted'])

export class Pools {
  readonly #host: PoolsHost
  /** What every pool handle of this engine calls into. */
  readonly #engine: PoolEngine
  /** Opens a pool for a handler (`ctx.pool()`). */
  readonly open: PoolOpener

  constructor(host: PoolsHost) {
    this.#host = host
    this.#engine = {
      enqueue: (task, args, options) => host.enqueue(task, args, options),
      enqueueMany: (task, argsList, options) => host.enqueueMany(task, argsList, options),
      createPool: async (pool) => (await host.store()).createPool({ ...pool, now: host.now() }),
      closePool: async (id) => (await host.store()).closePool(id, host.now()),
      getPool: async (id) => (await host.store()).getPool(id),
      poolCounts: async (id): Promise<PoolCounts> => (await host.store()).poolCounts(id, { tree: true }),
      cancelPool: (id, reason) => host.cancelPool(id, reason),
      poolChanged: (id) => this.#changed(id),
      failedRuns: async (id) => {
        const store = await host.store()
        const failed: Run[] = []
        for (const poolId of await store.poolTree(id)) {
          if (failed.length >= MAX_FAILED_RUNS) break
          const page = await store.listRuns({ poolId, status: ['failed', 'cancelled'], pageSize: MAX_FAILED_RUNS - failed.length })
          failed.push(...page.data)
        }
        return failed
      },
      onError: (error) => host.onError(error),
      now: () => host.now(),
    }
    this.open = (options, parent) => new PoolHandle(this.#engine, options, parent)
  }

  /** Opens a pool outside any run (`engine.pool()`). */
  create(options: Parameters<PoolOpener>[0]): PoolHandle {
    return new PoolHandle(this.#engine, options, { runId: null, poolId: null, onWait: undefined, log: undefined })
  }

  /** A pool with its aggregate status (over the whole tree below it), its runs and the pools nested in it. */
  async report(id: string): Promise<PoolReport | undefined> {
    const store = await this.#host.store()
    const pool = await store.getPool(id)
    if (pool === undefined) return undefined
    const [counts, page] = await Promise.all([store.poolCounts(id, { tree: true }), store.listRuns({ poolId: id, pageSize: 1000 })])
    const children: Pool[] = []
    for (const run of page.data) children.push(...(await store.poolsOfRun(run.id)))
    return { pool, status: poolStatus(pool, counts, this.#host.now()), runs: page.data, children }
  }

  /** Resolves when a run of the pool tree settles here, or after the poll interval (runs elsewhere). */
  async #changed(id: string): Promise<void> {
    const host = this.#host
    const store = await host.store()
    const tree = new Set(await store.poolTree(id))
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, host.pollIntervalMs)
      const unsubscribe = host.bus.subscribe((event) => {
        if (event.poolId !== undefined && event.poolId !== null && tree.has(event.poolId) && SETTLING.has(event.type)) finish()
      })
      function finish(): void {
        clearTimeout(timer)
        unsubscribe()
        resolve()
      }
    })
  }
}
