/** What the conformance suite is told about a backend, and what each part of it gets. */
import type { Store } from '../types.js'

/** A transaction a caller holds open on the backend's database; see {@link StoreConformanceOptions.transactionalClient}. */
export interface CallerTransaction {
  /** The connection to pass as `insertRuns(runs, { client })`. */
  readonly client: unknown
  /** Commits the transaction (and gives the connection back). */
  commit(): Promise<void>
  /** Rolls the transaction back (and gives the connection back). */
  rollback(): Promise<void>
}

/**
 * The optional features of a backend, declared: the suite checks that a declared feature
 * works and that an undeclared one is absent (a backend has all of a feature or none of it).
 */
export interface StoreConformanceOptions {
  /**
   * The backend has the signal bus (`signal`, `onSignal`, `signalsListening`).
   * @default false
   */
  readonly signals?: boolean
  /**
   * The backend elects a maintenance leader (`lead`).
   * @default false
   */
  readonly leader?: boolean
  /**
   * The backend inserts through a caller's transaction (`insertRuns(runs, { client })`): opens a
   * transaction on the database of `store` and hands over its connection. Absent: the backend has
   * no such connections and `insertRuns` must reject a `client`.
   *
   * @example
   * transactionalClient: async (store) => {
   *   const client = await (store as PostgresStore).pool.connect()
   *   await client.query('BEGIN')
   *   return { client, commit: async () => { await client.query('COMMIT'); client.release() }, rollback: async () => { await client.query('ROLLBACK'); client.release() } }
   * }
   */
  readonly transactionalClient?: (store: Store) => Promise<CallerTransaction>
  /**
   * Calls made together overlap: the backend's calls wait on I/O over connections of their own
   * (a PostgreSQL pool), so claims the suite starts at once race each other, and its "one claimer
   * only" tests prove the claim atomic. A backend whose calls do all their work before they return
   * (better-sqlite3 is synchronous) cannot overlap two calls in one thread: for it those tests show
   * only that claims made in turn never hand a run out twice, and the claim's atomicity needs a test
   * with threads or processes of its own (taskengine's SQLite tests claim from one file in three
   * threads). The tests run either way; this says which of the two they prove, in their names.
   * @default false
   */
  readonly concurrentCalls?: boolean
  /**
   * Stores that keep their data where other stores can open it (a file, a schema): each call
   * makes a new, empty place and returns a function that opens another store on it. With it, the
   * suite checks that what one store wrote another reads, also after a close; that stores
   * claiming from one place never share a run (racing each other where {@link concurrentCalls});
   * and, for the signal bus and leader election, that they reach across stores. Leave it out for
   * stores that live in memory only.
   */
  readonly durable?: () => () => Promise<Store>
}

/** What each part of the suite gets: the running test's store, and the backend's declarations. */
export interface SuiteContext {
  /** The running test's store: fresh, empty and ready (the suite closes it after the test). */
  readonly store: Store
  /** What the backend declared. */
  readonly options: StoreConformanceOptions
}
