/**
 * taskengine/postgres — the shared PostgreSQL store, for engines on many processes and machines.
 */
export { PostgresStore, postgresStore } from './store.js'
export type { PostgresStoreOptions } from './store.js'
