/**
 * A batch of in-process runs executed with a concurrency limit. Await it for every result in
 * input order, or iterate it with `for await` to take results in completion order as they
 * finish. Both views see every result.
 */
import { coerceError } from '../../errors.js'
import type { RunResult } from '../../task/context.js'

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

  /** Starts `count` items, at most `concurrency` at a time. */
  constructor(count: number, concurrency: number, runItem: BatchItemRunner<R>) {
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
      () => {
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
