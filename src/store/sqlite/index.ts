/**
 * taskengine/sqlite — the embedded SQLite store.
 */
export { SqliteStore, sqliteStore } from './store.js'
export type { SqliteStoreOptions } from './store.js'
