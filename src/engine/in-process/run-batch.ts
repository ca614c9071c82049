/**
 * A batch of in-process runs executed with a concurrency limit. Await it for every result in
 * input order, or iterate it with `for await` to take results in completion order as they
 * finish. Both views see every result.
 *
 * A batch is the in-process pool: its `onFailure` and `onSettled` hooks run once every item has
 * finished, before the batch resolves (and before `for await` ends).
 */
import { coerceError } from '../../errors.js'
import type { PoolHook, PoolStatus, RunResult } from '../../task/context.js'
import { PoolHooks, type PoolHookReport } from '../execute/pool-hooks.js'
import { newId } from '../ids.js'

/** Starts one item (by input index) and resolves to its result; must not reject. */
export type BatchItemRunner<R> = (index: number) => Promise<RunResult<R>>

/** The running batch returned by `engine.runAll`. */
export class RunBatch<R = unknown> implements PromiseLike<RunResult<R>[]>, AsyncIterable<RunResult<R>> {
  readonly #byIndex: RunResult<R>[]
  readonly #byCompletion: RunResult<R>[] = []
  #wakeIterators: (() => void)[] = []
  #finished = false
  #failure: Error | undefined = undefined
  readonly #done: Promise<RunResult<R>[]>
  /** Made on the first hook: a batch without hooks pays nothing for them. */
  #hooks: PoolHooks<RunResult<R>> | undefined
  readonly #report: PoolHookReport
  readonly #openedAt = Date.now()
  /** The batch's id, as its hooks' status names it. */
  readonly id = newId()

  /** Starts `count` items, at most `concurrency` at a time. `report` receives a hook that threw. */
  constructor(count: number, concurrency: number, runItem: BatchItemRunner<R>, report: PoolHookReport = () => undefined) {
    this.#report = report
    this.#byIndex = new Array<RunResult<R>>(count)
    let next = 0
    const lane = async (): Promise<void> => {
      while (next < count) {
        const index = next++
        const result = await runItem(index)
        this.#byIndex[index] = result
        this.#byCompletion.push(result)
        if (this.#wakeIterators.length > 0) this.#wake()
      }
    }
    const lanes: Promise<void>[] = []
    for (let i = 0; i < Math.min(concurrency, count); i++) lanes.push(lane())
    this.#done = Promise.all(lanes).then(
      async () => {
        if (this.#hooks !== undefined) await this.#hooks.settle(this.#settlement())
        this.#finished = true
        this.#wake()
        return this.#byIndex
      },
      (error: unknown) => {
        // Only an engine bug gets here (item runners do not reject); fail every view loudly.
        this.#failure = coerceError(error)
        this.#finished = true
        this.#wake()
        throw error
      },
    )
    // Iterators report the failure themselves; a batch that is only iterated must not also
    // raise an unhandled rejection.
    this.#done.catch(() => undefined)
  }

  /**
   * Runs `hook` once every item finished, whatever the outcome; in registration order, after the
   * `onFailure` hooks, before the batch resolves. A hook registered later runs at once. A throw is
   * reported through the engine's `onError`; the next hook still runs. Returns the batch.
   */
  onSettled(hook: PoolHook<RunResult<R>>): this {
    this.#hooksOf().add('onSettled', hook)
    return this
  }

  /** Runs `hook` once every item finished, if any failed or was cancelled; before the `onSettled` hooks (see {@link onSettled}). */
  onFailure(hook: PoolHook<RunResult<R>>): this {
    this.#hooksOf().add('onFailure', hook)
    return this
  }

  #hooksOf(): PoolHooks<RunResult<R>> {
    this.#hooks ??= new PoolHooks(`runAll batch ${this.id}`, this.#report)
    // Registered after the batch finished: the hook runs at once, with the same settlement.
    if (this.#finished && this.#failure === undefined) void this.#hooks.settle(this.#settlement())
    return this.#hooks
  }

  /** The batch as its hooks see it: every item finished. */
  #settlement(): { status: PoolStatus; failed: RunResult<R>[] } {
    const results = this.#byCompletion
    let succeeded = 0
    let cancelled = 0
    const failed: RunResult<R>[] = []
    for (const result of results) {
      if (result.status === 'succeeded') succeeded++
      else {
        if (result.status === 'cancelled') cancelled++
        failed.push(result)
      }
    }
    const last = results.reduce((at, r) => Math.max(at, r.finishedAt.getTime()), this.#openedAt)
    const status: PoolStatus = {
      id: this.id,
      total: results.length,
      complete: results.length,
      succeeded,
      failed: failed.length - cancelled,
      cancelled,
      pending: 0,
      running: 0,
      waiting: 0,
      progress: 100,
      runtimeMs: last - this.#openedAt,
      closed: true,
      done: true,
    }
    return { status, failed }
  }

  /** How many items have finished so far. */
  get completed(): number {
    return this.#byCompletion.length
  }

  then<T1 = RunResult<R>[], T2 = never>(
    onFulfilled?: ((value: RunResult<R>[]) => T1 | PromiseLike<T1>) | null,
    onRejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.#done.then(onFulfilled, onRejected)
  }

  /** Results in completion order, each as soon as it finishes. */
  async *[Symbol.asyncIterator](): AsyncIterator<RunResult<R>> {
    let position = 0
    for (;;) {
      if (position < this.#byCompletion.length) {
        yield this.#byCompletion[position++]!
      } else if (this.#finished) {
        if (this.#failure !== undefined) throw this.#failure
        return
      } else {
        await new Promise<void>((resolve) => this.#wakeIterators.push(resolve))
      }
    }
  }

  #wake(): void {
    const waiting = this.#wakeIterators
    this.#wakeIterators = []
    for (const resolve of waiting) resolve()
  }
}
