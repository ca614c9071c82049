/**
 * The composition root of the core entry: `createEngine` gives an engine a private in-memory
 * SQLite store unless it is given one, so durable features work with zero configuration.
 */
import { Engine, type EngineOptions } from './engine/engine.js'
import { sqliteStore } from './store/sqlite/store.js'

/**
 * Creates an engine. Without `store`, durable runs go to a private in-memory SQLite store,
 * created on first use (in-process runs never touch it).
 *
 * @example
 * const engine = createEngine({ tasks: [backup] })
 * const file = createEngine({ store: sqliteStore('./data/taskengine.db') })
 */
export function createEngine(options: EngineOptions = {}): Engine {
  return new Engine({ ...options, store: options.store ?? (() => sqliteStore(':memory:')) })
}
