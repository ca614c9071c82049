/**
 * The composition root of the core entry: `createEngine` gives an engine a private in-memory
 * SQLite store unless it is given one, so durable features work with zero configuration. The
 * SQLite backend (and with it the native better-sqlite3 addon) is loaded only when that default
 * store is opened: an engine given a store of its own (PostgreSQL, say), or one that only runs
 * in-process, never loads it.
 */
import { Engine, type EngineOptions } from './engine/engine.js'
import { OPEN_DEFAULT_STORE, type DefaultStoreOpener } from './engine/lazy-store.js'
import type { Store } from './store/types.js'

/** Opens the default store: an in-memory SQLite database, its backend loaded now. */
const openMemoryStore: DefaultStoreOpener = async (): Promise<Store> => {
  const { sqliteStore } = await import('./store/sqlite/index.js')
  return sqliteStore(':memory:')
}

/**
 * Creates an engine. Without `store`, durable runs go to a private in-memory SQLite store,
 * created on first use (in-process runs never touch it).
 *
 * @example
 * const engine = createEngine({ tasks: [backup] })
 * const file = createEngine({ store: sqliteStore('./data/taskengine.db') })
 */
export function createEngine(options: EngineOptions = {}): Engine {
  if (options.store !== undefined) return new Engine({ ...options })
  const withDefault: EngineOptions & { readonly [OPEN_DEFAULT_STORE]: DefaultStoreOpener } = { ...options, [OPEN_DEFAULT_STORE]: openMemoryStore }
  return new Engine(withDefault)
}
