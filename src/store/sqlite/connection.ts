/**
 * One SQLite file (or memory) through better-sqlite3: opening it with the pragmas the store
 * relies on, migrating it, the prepared-statement cache, IMMEDIATE write transactions, and the
 * in-process wake-up of workers. The operations (one file each beside this one) work through it.
 *
 * better-sqlite3 is synchronous, so every operation does its work at once. Write transactions are
 * IMMEDIATE: they take the write lock up front, so processes sharing one file queue on
 * `busy_timeout` instead of failing on a lock upgrade, and a claim is atomic across them.
 */
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { WakeListener } from '../contract/queue.js'
import { migrate } from './migrations/index.js'

/** Options of a SQLite connection; see `SqliteStoreOptions`. */
export interface SqliteConnectionOptions {
  readonly synchronous?: 'normal' | 'full'
  readonly busyTimeoutMs?: number
}

/** A wake-up that is always needed (see notifyIf). */
const ALWAYS = (): boolean => true

/** How often the file is synced by default (`SqliteStoreOptions.synchronous`). */
export const DEFAULT_SYNCHRONOUS = 'normal'
/** How long a write waits for another process's lock by default, in ms (`SqliteStoreOptions.busyTimeoutMs`). */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/** The open database, its statement cache and its wake-up listeners. */
export class SqliteConnection {
  /** The better-sqlite3 handle. */
  readonly db: Database.Database
  readonly #statements = new Map<string, Database.Statement>()
  readonly #wake = new Set<WakeListener>()

  constructor(path: string, options: SqliteConnectionOptions = {}) {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true })
    this.db = new Database(path)
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`)
    if (path !== ':memory:') this.db.pragma('journal_mode = WAL')
    this.db.pragma(`synchronous = ${(options.synchronous ?? DEFAULT_SYNCHRONOUS) === 'full' ? 'FULL' : 'NORMAL'}`)
    this.db.pragma('temp_store = MEMORY')
    this.db.pragma('cache_size = -32000')
    // Claims and completions rewrite the same pages again and again; checkpointing every 16 MB
    // of WAL instead of every 4 MB writes each page back once instead of several times.
    this.db.pragma('wal_autocheckpoint = 4000')
    this.db.pragma('journal_size_limit = 67108864')
    // Off by default in SQLite: without it, a token or session could name a user that does not
    // exist (PostgreSQL refuses those), and deleting a user would leave its credentials behind.
    this.db.pragma('foreign_keys = ON')
    migrate(this.db)
  }

  /** A statement for `sql`, prepared once and cached. */
  stmt(sql: string): Database.Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** A cached statement in raw mode (rows as arrays). */
  raw(sql: string): Database.Statement {
    const key = `raw:${sql}`
    let statement = this.#statements.get(key)
    if (statement === undefined) {
      statement = this.db.prepare(sql).raw(true)
      this.#statements.set(key, statement)
    }
    return statement
  }

  /** A cached statement under a key of the caller's, prepared by `prepare` the first time. */
  cached(key: string, prepare: () => Database.Statement): Database.Statement {
    let statement = this.#statements.get(key)
    if (statement === undefined) {
      statement = prepare()
      this.#statements.set(key, statement)
    }
    return statement
  }

  /** Runs `fn` in an IMMEDIATE transaction (the write lock taken up front). */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  /** Wakes this process's workers, after the current turn (the caller's transaction has committed). */
  notify(): void {
    this.notifyIf(ALWAYS)
  }

  /** Wakes this process's workers after the current turn if `needed()` says so then (it may look at what the rest of the transaction did). */
  notifyIf(needed: () => boolean): void {
    if (this.#wake.size === 0) return
    queueMicrotask(() => {
      if (!needed()) return
      for (const listener of this.#wake) listener()
    })
  }

  /** Adds a wake-up listener; returns the function that removes it. */
  onRunsAvailable(listener: WakeListener): () => void {
    this.#wake.add(listener)
    return () => {
      this.#wake.delete(listener)
    }
  }

  /** Closes the database. */
  close(): void {
    this.db.close()
  }
}
