/**
 * A pool's `onFailure` and `onSettled` hooks (durable pools and `runAll` batches alike): they run
 * once, when the pool settles, `onFailure` hooks first (only if a run failed or was cancelled),
 * then `onSettled` hooks, each in registration order. A throwing hook is reported and the next
 * one still runs; a hook registered after the pool settled runs at once, after any still running.
 */
import { ValidationError, coerceError, describeValue } from '../../errors.js'
import type { PoolHook, PoolSettlement } from '../../task/context.js'

/** Which hook: `onFailure` or `onSettled`. */
export type PoolHookKind = 'onFailure' | 'onSettled'

/** Reports a hook that threw: `what` names it (`pool 0190… onSettled hook`). */
export type PoolHookReport = (what: string, error: Error) => void

export class PoolHooks<R> {
  readonly #where: string
  readonly #report: PoolHookReport
  readonly #hooks: { readonly kind: PoolHookKind; readonly hook: PoolHook<R> }[] = []
  #settlement: PoolSettlement<R> | undefined
  /** The hooks running (or run): later ones queue behind it, so order holds. */
  #chain: Promise<void> | undefined

  /** `where` names the pool in reports and errors (`pool 0190…`, `runAll batch "nightly"`). */
  constructor(where: string, report: PoolHookReport) {
    this.#where = where
    this.#report = report
  }

  /** Whether any hook is registered. */
  get size(): number {
    return this.#hooks.length
  }

  /** Registers a hook; after the pool settled it runs at once. Throws a `ValidationError` unless `hook` is a function. */
  add(kind: PoolHookKind, hook: PoolHook<R>): void {
    if (typeof hook !== 'function') throw new ValidationError(`${this.#where}: ${kind}() takes a function, got ${describeValue(hook)}`)
    const entry = { kind, hook }
    this.#hooks.push(entry)
    const settlement = this.#settlement
    if (settlement === undefined) return
    if (kind === 'onFailure' && !failedIn(settlement)) return
    this.#chain = (this.#chain ?? Promise.resolve()).then(() => this.#call(entry, settlement))
  }

  /** The pool settled: runs every hook registered so far, once (a second call waits for the first). */
  settle(settlement: PoolSettlement<R>): Promise<void> {
    if (this.#chain !== undefined) return this.#chain
    this.#settlement = settlement
    const failed = failedIn(settlement)
    const order = [...this.#hooks.filter((h) => h.kind === 'onFailure' && failed), ...this.#hooks.filter((h) => h.kind === 'onSettled')]
    this.#chain = (async () => {
      for (const entry of order) await this.#call(entry, settlement)
    })()
    return this.#chain
  }

  async #call(entry: { readonly kind: PoolHookKind; readonly hook: PoolHook<R> }, settlement: PoolSettlement<R>): Promise<void> {
    try {
      await entry.hook(settlement)
    } catch (error) {
      this.#report(`${this.#where} ${entry.kind} hook`, coerceError(error))
    }
  }
}

/** Whether a settled pool had a run that failed or was cancelled. */
function failedIn(settlement: PoolSettlement<unknown>): boolean {
  return settlement.failed.length > 0 || settlement.status.failed + settlement.status.cancelled > 0
}
