/**
 * Bulk jobs: one cancel, retry or delete over every run matching a filter. A job is stored
 * first (its selection fixed by the newest matching id), then worked through by this engine in
 * batches of {@link BULK_BATCH} runs, keyset by id, each batch's progress saved under the job's
 * lease. Each run goes through the same steering as one at a time (`control.ts`): a cancel
 * reaches running runs on other workers and the pools below them. A run whose state no longer
 * allows the action (or that no longer matches) is skipped and counted. A job left `running` by
 * an engine that stopped (its lease let go) or died (its lease ran out) is picked up again from
 * its cursor by {@link BulkJobs.resume}.
 */
import { ConflictError, NotFoundError, ValidationError, coerceError, describeValue } from '../../errors.js'
import { BULK_ACTIONS, type BulkAction, type BulkJob, type Run, type RunFilter, type Store } from '../../store/types.js'
import { newId } from '../ids.js'
import type { RunControl } from './control.js'

/** Runs per batch (one selection, one progress save). */
export const BULK_BATCH = 500
/** How long a job stays held without a saved batch before another engine may take it. */
export const BULK_LEASE_MS = 15_000

/** What bulk jobs need from the engine. */
export interface BulkJobsHost {
  store(): Promise<Store>
  now(): number
  readonly control: RunControl
  onError(error: Error): void
  /** Runs per batch. Default {@link BULK_BATCH}. */
  readonly batchSize?: number
  /** Called after each saved batch (tests hold a job here). */
  readonly afterBatch?: (job: BulkJob) => Promise<void> | void
}

/** What a bulk job would do now: how many runs match, and the newest of them. */
export interface BulkPreview {
  readonly action: BulkAction
  /** Runs matching now. */
  readonly count: number
  /** Up to 10 of them, newest first. */
  readonly sample: readonly Run[]
}

/** Filter keys a bulk job takes (paging, sorting and cursors are the job's own). */
const PAGING_KEYS = ['page', 'pageSize', 'sort', 'before', 'count', 'countLimit', 'scanLimit'] as const

/** Bulk jobs of one engine. */
export class BulkJobs {
  readonly #host: BulkJobsHost
  /** This engine, as the owner of the jobs it holds. */
  readonly #owner = `engine-${newId()}`
  readonly #working = new Map<string, Promise<void>>()
  /** Who hears of each change this engine saves ({@link watch}). */
  readonly #watchers = new Set<(job: BulkJob) => void>()
  #stopping = false
  #timer: NodeJS.Timeout | undefined

  constructor(host: BulkJobsHost) {
    this.#host = host
  }

  /** How many runs `action` over `filter` would reach now, with a sample. Changes nothing. */
  async preview(action: BulkAction, filter: RunFilter): Promise<BulkPreview> {
    checkBulk(action, filter)
    const store = await this.#host.store()
    const [bound, sample] = await Promise.all([store.bulkBound(filter), store.listRuns({ ...filter, pageSize: 10, count: false })])
    return { action, count: bound.count, sample: sample.data }
  }

  /**
   * Stores a job over the runs matching `filter` now (runs enqueued later are left out) and
   * starts working through it here; returns the job as stored.
   */
  async start(action: BulkAction, filter: RunFilter, createdBy: string | null = null): Promise<BulkJob> {
    checkBulk(action, filter)
    const store = await this.#host.store()
    const bound = await store.bulkBound(filter)
    this.#stopping = false
    const job = await store.insertBulkJob({ id: newId(), action, filter: filterJson(filter), upTo: bound.upTo, total: bound.count, createdBy, now: this.#host.now() })
    this.#work(job.id)
    return job
  }

  /**
   * Calls `listener` with the job as saved each time this engine changes one: a batch saved, a
   * job ended or cancelled. Jobs worked by other engines sharing the store are not heard here
   * (read them with {@link get}). Returns the function that stops listening.
   *
   * @example
   * const unwatch = engine.bulk.watch((job) => console.log(job.id, job.state, job.done))
   */
  watch(listener: (job: BulkJob) => void): () => void {
    this.#watchers.add(listener)
    return () => void this.#watchers.delete(listener)
  }

  /** Whether this engine is working through the job now (its changes reach {@link watch} as they are saved). */
  working(id: string): boolean {
    return this.#working.has(id)
  }

  async get(id: string): Promise<BulkJob | undefined> {
    return (await this.#host.store()).getBulkJob(id)
  }

  /** The newest jobs first (at most `limit`, default 20). */
  async list(limit = 20): Promise<BulkJob[]> {
    return (await this.#host.store()).listBulkJobs(limit)
  }

  /** Stops a running job after its current batch (runs already handled stay as they are). */
  async cancel(id: string): Promise<BulkJob> {
    const job = await (await this.#host.store()).cancelBulkJob(id, this.#host.now())
    if (job === undefined) throw new NotFoundError(`unknown bulk job "${id}"`)
    this.#changed(job)
    return job
  }

  /**
   * Picks up jobs left `running` by an engine that stopped or died, now and then every few
   * seconds until {@link stop}. A server calls it when it starts.
   */
  async resume(): Promise<void> {
    this.#stopping = false
    await this.#adoptOrphans()
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#adoptOrphans(), BULK_LEASE_MS / 3)
      this.#timer.unref()
    }
  }

  /** Lets go of the jobs held here after their current batch (another engine resumes them at once). */
  async stop(): Promise<void> {
    this.#stopping = true
    clearInterval(this.#timer)
    this.#timer = undefined
    await Promise.all(this.#working.values())
  }

  async #adoptOrphans(): Promise<void> {
    try {
      const store = await this.#host.store()
      for (const id of await store.orphanBulkJobs(this.#host.now())) if (!this.#working.has(id)) this.#work(id)
    } catch (error) {
      this.#host.onError(coerceError(error))
    }
  }

  #work(id: string): void {
    if (this.#working.has(id)) return
    const done = this.#workThrough(id)
      .catch((error: unknown) => this.#host.onError(coerceError(error)))
      .finally(() => this.#working.delete(id))
    this.#working.set(id, done)
  }

  async #workThrough(id: string): Promise<void> {
    const host = this.#host
    const store = await host.store()
    let job = await store.claimBulkJob(id, this.#owner, host.now(), BULK_LEASE_MS)
    if (job === undefined) return
    const filter = filterFromJson(job.filter)
    const batchSize = host.batchSize ?? BULK_BATCH
    while (job !== undefined) {
      if (this.#stopping) return store.releaseBulkJob(id, this.#owner, host.now())
      // Cancelled (or taken) since the last save: apply no further batch.
      const fresh = await store.getBulkJob(id)
      if (fresh?.state !== 'running' || fresh.owner !== this.#owner) return
      const current: BulkJob = fresh
      try {
        const ids = current.upTo === null ? [] : await store.bulkSelection(filter, current.upTo, current.cursor, batchSize)
        if (ids.length === 0) {
          // Runs that stopped matching were never selected: they count as skipped.
          const skipped = Math.max(current.skipped, current.total - current.done)
          job = await store.saveBulkProgress(id, this.#owner, { cursor: current.cursor, done: current.done, skipped, state: 'finished', total: current.done + skipped }, host.now(), BULK_LEASE_MS)
          if (job !== undefined) this.#changed(job)
          return
        }
        const done = await this.#apply(current, ids)
        job = await store.saveBulkProgress(id, this.#owner, { cursor: ids.at(-1)!, done: current.done + done, skipped: current.skipped + ids.length - done }, host.now(), BULK_LEASE_MS)
      } catch (error) {
        const cause = coerceError(error)
        const failed = await store.saveBulkProgress(id, this.#owner, { cursor: current.cursor, done: current.done, skipped: current.skipped, state: 'failed', error: cause.message }, host.now(), BULK_LEASE_MS)
        if (failed !== undefined) this.#changed(failed)
        throw cause
      }
      if (job !== undefined) {
        this.#changed(job)
        await host.afterBatch?.(job)
      }
      // Let other work in (API requests, the worker) between batches.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Tells the watchers; one that throws is reported and does not stop the job. */
  #changed(job: BulkJob): void {
    for (const listener of this.#watchers) {
      try {
        listener(job)
      } catch (error) {
        this.#host.onError(coerceError(error))
      }
    }
  }

  /** Applies the job's action to a batch; returns how many runs it changed. */
  async #apply(job: BulkJob, ids: readonly string[]): Promise<number> {
    const control = this.#host.control
    if (job.action === 'cancel') return control.cancelMany(ids, `cancelled by ${job.createdBy ?? 'request'} (bulk job ${job.id})`, job.createdBy)
    let done = 0
    for (const id of ids) {
      try {
        if (job.action === 'retry') await control.retry(id)
        else await control.delete(id)
        done++
      } catch (error) {
        if (!(error instanceof ConflictError || error instanceof NotFoundError)) throw error
      }
    }
    return done
  }
}

/** Refuses an unknown action or a filter with paging keys. */
function checkBulk(action: BulkAction, filter: RunFilter): void {
  if (!BULK_ACTIONS.includes(action)) throw new ValidationError(`action: expected ${BULK_ACTIONS.join(', ')}, got ${describeValue(action)}`)
  for (const key of PAGING_KEYS) if (filter[key] !== undefined) throw new ValidationError(`filter.${key}: a bulk job walks every matching run; leave out ${key}`)
}

/** A filter as stored with its job (times as ISO 8601 text). */
export function filterJson(filter: RunFilter): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(filter)) if (value !== undefined) out[key] = value instanceof Date ? value.toISOString() : value
  return out
}

/** A stored filter as the store reads it again. */
export function filterFromJson(json: Readonly<Record<string, unknown>>): RunFilter {
  const out: Record<string, unknown> = { ...json }
  for (const key of ['from', 'to']) if (typeof out[key] === 'string') out[key] = new Date(out[key])
  return out
}
