/**
 * Steering durable runs: cancel, retry, delete.
 *
 * - Cancel (and the delete of a running or waiting run) reaches the run and every run in the pools
 *   below it: pending runs end `cancelled` in the store's statement; running and waiting ones get
 *   a cancel request. Runs held by this process are aborted at once; for the others a `cancel`
 *   signal goes out where the store can push (PostgreSQL), else their worker hears of it at its
 *   next heartbeat.
 * - Retry puts a failed or cancelled run back to pending with a fresh attempt budget.
 */
import { CancelledError, ConflictError, NotFoundError } from '../../errors.js'
import type { CancelOutcome, Run, RunState, Store } from '../../store/types.js'
import type { RunEvent } from '../events/run-events.js'

/** What steering needs from the engine. */
export interface ControlHost {
  store(): Promise<Store>
  now(): number
  /** The worker of this process, if one runs. */
  worker(): { has(runId: string): boolean; abort(runId: string, reason: Error): void } | undefined
  /** Emits an event (to subscribers here and observers elsewhere). */
  emit(event: RunEvent): void
}

/** Which runs a cancel reaches. */
interface Selection {
  readonly ids?: readonly string[]
  readonly poolIds?: readonly string[]
}

export class RunControl {
  readonly #host: ControlHost

  constructor(host: ControlHost) {
    this.#host = host
  }

  /** Cancels a pending, running or waiting run and the runs of the pools below it (see `Engine.cancel`). */
  async cancel(id: string, reason: string, by: string | null = null): Promise<Run> {
    const store = await this.#host.store()
    const run = await store.getRun(id)
    if (run === undefined) throw new NotFoundError(`unknown run "${id}"`)
    if (run.status !== 'pending' && run.status !== 'running' && run.status !== 'waiting') {
      throw new ConflictError(`run ${id} ${statusPhrase(run.status)}; only pending, running or waiting runs can be cancelled`)
    }
    const poolIds = await this.#descendantPools(store, id)
    await this.cancelSelection(store, { ids: [id], poolIds }, reason, by)
    return (await store.getRun(id, { includeDeleted: true }))!
  }

  /**
   * Failed or cancelled → pending again (see `Engine.retry`). A run that executed in-process is
   * not retried: a worker would execute it where its caller never asked for it (run it again).
   */
  async retry(id: string): Promise<Run> {
    const host = this.#host
    const store = await host.store()
    const run = await store.retryRun(id, host.now())
    if (run === undefined) {
      const current = await store.getRun(id)
      if (current === undefined) throw new NotFoundError(`unknown run "${id}"`)
      if (current.inProcess) {
        throw new ConflictError(`run ${id} executed in-process (started from ${current.startedFrom ?? 'code'}); it cannot be retried on a worker: run its task again instead`)
      }
      throw new ConflictError(`run ${id} ${statusPhrase(current.status)}; only failed or cancelled runs can be retried`)
    }
    host.emit({ type: 'retried', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(host.now()), run })
    return run
  }

  /** Soft-deletes a run; a running one is cancelled first, and so are the pools below it (see `Engine.delete`). */
  async delete(id: string): Promise<Run> {
    const host = this.#host
    const store = await host.store()
    const run = await store.deleteRun(id, host.now())
    if (run === undefined) throw new NotFoundError(`unknown run "${id}"`)
    if (run.status === 'running' || run.status === 'waiting') {
      const worker = host.worker()
      if (worker?.has(id) === true) worker.abort(id, new CancelledError('cancelled: deleted'))
      else if (store.signal !== undefined) await store.signal({ type: 'cancel', ids: [id], reason: 'deleted' })
    }
    const poolIds = await this.#descendantPools(store, id)
    if (poolIds.length > 0) await this.cancelSelection(store, { poolIds }, 'parent run deleted')
    host.emit({ type: 'deleted', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(host.now()) })
    return run
  }

  /** Cancels every run of a pool tree (a pool's `cancel()`). */
  async cancelPool(poolId: string, reason: string): Promise<void> {
    const store = await this.#host.store()
    await this.cancelSelection(store, { poolIds: await store.poolTree(poolId) }, reason)
  }

  /** Cancels the selected runs: pending ones at once, running ones by request (aborted here at once, elsewhere by signal or heartbeat). */
  async cancelSelection(store: Store, selection: Selection, reason: string, by: string | null = null): Promise<CancelOutcome> {
    const host = this.#host
    const outcome = await store.cancelRuns(selection, reason, host.now(), by)
    for (const run of outcome.requested) host.worker()?.abort(run.id, new CancelledError(`cancelled: ${reason}`))
    // Runs executing in other processes hear of it at once where the store can push.
    const elsewhere = outcome.requested.filter((run) => host.worker()?.has(run.id) !== true).map((run) => run.id)
    if (elsewhere.length > 0 && store.signal !== undefined) await store.signal({ type: 'cancel', ids: elsewhere, reason })
    for (const run of outcome.cancelled) {
      host.emit({ type: 'cancelled', runId: run.id, task: run.task, poolId: run.poolId, time: new Date(host.now()), error: run.error, run })
    }
    return outcome
  }

  /**
   * Cancels a batch of runs (a bulk job's) as {@link cancel} does each, in one statement: returns
   * how many were cancelled or asked to stop; the others were final or asked before. The pools
   * below runs asked to stop are cancelled too (pending runs have opened none).
   */
  async cancelMany(ids: readonly string[], reason: string, by: string | null = null): Promise<number> {
    const store = await this.#host.store()
    const outcome = await this.cancelSelection(store, { ids }, reason, by)
    const poolIds = (await Promise.all(outcome.requested.map((run) => this.#descendantPools(store, run.id)))).flat()
    if (poolIds.length > 0) await this.cancelSelection(store, { poolIds }, reason, by)
    return outcome.cancelled.length + outcome.requested.length
  }

  /** The pools opened by a run, and every pool below them. */
  async #descendantPools(store: Store, runId: string): Promise<string[]> {
    const pools: string[] = []
    for (const pool of await store.poolsOfRun(runId)) pools.push(...(await store.poolTree(pool.id)))
    return pools
  }
}

/** A run's status in a sentence: `has already succeeded`, `is already cancelled`, `is running`. */
export function statusPhrase(status: RunState): string {
  switch (status) {
    case 'succeeded':
    case 'failed':
      return `has already ${status}`
    case 'cancelled':
      return 'is already cancelled'
    case 'waiting':
      return 'is waiting on its child runs'
    default:
      return `is ${status}`
  }
}
