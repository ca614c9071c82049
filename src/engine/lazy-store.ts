/**
 * The engine's store, opened on first durable use: the one given (`createEngine({ store })`), one
 * made by the given factory, or the default one `createEngine` opens when none is given (loaded
 * only then, so an engine that never runs anything durable, or one given a store, never loads the
 * default backend). After `close()`, the next durable call opens it again.
 */
import { ConflictError } from '../errors.js'
import type { Store } from '../store/types.js'

/**
 * How `createEngine` hands the engine its default store without widening the public
 * `EngineOptions.store` type: an opener under this key of the options object.
 */
export const OPEN_DEFAULT_STORE: unique symbol = Symbol('taskengine.openDefaultStore')

/** Opens the store used when none is given. */
export type DefaultStoreOpener = () => Promise<Store>

export class LazyStore {
  readonly #option: Store | (() => Store) | undefined
  readonly #openDefault: DefaultStoreOpener | undefined
  #store: Store | undefined
  #ready: Promise<Store> | undefined
  /** The default store being made (before it is ready). */
  #made: Promise<Store> | undefined

  constructor(option: Store | (() => Store) | undefined, openDefault: DefaultStoreOpener | undefined) {
    this.#option = option
    this.#openDefault = openDefault
  }

  /** The store, once opened (and not closed since). */
  get current(): Store | undefined {
    return this.#store
  }

  /** Opens the store on first use; resolves once it is ready. Throws a `ConflictError` when the engine has no store. */
  ready(): Promise<Store> {
    if (this.#ready === undefined) {
      const option = this.#option
      if (option !== undefined) {
        const store = typeof option === 'function' ? option() : option
        this.#store = store
        this.#ready = store.ready().then(() => store)
      } else if (this.#openDefault !== undefined) {
        const made = this.#openDefault()
        const ready: Promise<Store> = made.then(
          (store) => {
            // Closed while it was loading: close() waits for it and closes it.
            if (this.#ready === ready) this.#store = store
            return store.ready().then(() => store)
          },
          (error: unknown) => {
            // Not even made (the backend failed to load): the next call tries again.
            if (this.#ready === ready) this.#ready = undefined
            throw error
          },
        )
        this.#ready = ready
        this.#made = made
      } else {
        throw new ConflictError('this engine has no store: pass createEngine({ store }) for durable runs')
      }
    }
    return this.#ready
  }

  /** Closes the store if it was opened; the next {@link ready} opens it again. */
  async close(): Promise<void> {
    const store = this.#store
    const made = this.#made
    this.#store = undefined
    this.#ready = undefined
    this.#made = undefined
    if (store !== undefined) return store.close()
    // A default store still loading: wait for it, then close it (it failed to load: nothing to close).
    if (made !== undefined) await (await made.catch(() => undefined))?.close()
  }
}
