/**
 * The store's connections to PostgreSQL: the pool, migration before first use, named (prepared
 * once per connection) statements, transactions on one checked-out connection, and the wake-ups of
 * this process's workers (in-process at once, and by LISTEN for the NOTIFYs of others). The
 * operations (one file each beside this one) work through it.
 *
 * Any error from `pg` (connection lost, server restarting) rejects the operation's promise; the
 * engine's write buffer retries. Connections that break are destroyed, never reused.
 */
import { createHash, randomUUID } from 'node:crypto'
import pg from 'pg'
import { ConflictError, coerceError } from '../../errors.js'
import type { WakeListener } from '../contract/queue.js'
import type { SqlDialect } from '../sql/dialect.js'
import { postgresDialect } from './dialect.js'
import { ChannelListener } from './listener.js'
import { migrate } from './migrations/index.js'

/** A connection or pool to send one statement to. */
export type Queryable = pg.Pool | pg.ClientBase

const identity = (text: string): string => text
/**
 * How the store reads column values, given with every query (the pool's global parsers stay as
 * the application set them). JSON columns come back as text, for the row mapping to parse: pg
 * would parse them itself, and a stored JSON string such as `"12"` would reach it as the text
 * `12` and be parsed again, into a number. BIGINT comes back as a number: every BIGINT column
 * holds epoch milliseconds or a safe integer the engine validated.
 */
export const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) => {
    // Type oids: 114 json, 3802 jsonb, 20 int8 (fixed in every PostgreSQL).
    if (oid === 114 || oid === 3802) return identity
    if (oid === 20) return Number
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown
  }) as pg.CustomTypesConfig['getTypeParser'],
}

/** The store's tables and functions, schema-qualified and quoted. */
export interface Tables {
  readonly runs: string
  readonly logs: string
  readonly artifacts: string
  readonly pools: string
  readonly workers: string
  /** When workers whose rows went were last seen, per task and queue (migration 15). */
  readonly workersSeen: string
  readonly schedules: string
  readonly settings: string
  /** Throttle windows (migration 5). */
  readonly throttles: string
  /** Starts under rate limits (migration 5). */
  readonly rateStarts: string
  /** When each group of a grouped task was last served (migration 5). */
  readonly flowGroups: string
  /** `claim_runs_by_tid` (migration 18: `claim_runs_traced` of migration 9 finding its locked rows by ctid). */
  readonly claimRuns: string
  /** `claim_candidates` (migration 1). */
  readonly claimCandidates: string
  /** `claim_candidates_ungrouped` (migration 5). */
  readonly claimCandidatesUngrouped: string
  /** `claim_runs_limited_traced` (migration 9: `claim_runs_limited` of migration 5 with the trace context). */
  readonly claimRunsLimited: string
  /** Finished runs per minute, task and queue (migration 7). */
  readonly rollups: string
  /** The rollups' watermark (migration 7). */
  readonly rollupState: string
  /** Finished runs per hour, task and queue (migration 7). */
  readonly rollupsHourly: string
  /** Bulk jobs (migration 6). */
  readonly bulkJobs: string
  /** Users (migration 12). */
  readonly users: string
  /** Users' API tokens (migration 12). */
  readonly userTokens: string
  /** Sign-in sessions (migration 12). */
  readonly sessions: string
  /** The audit trail (migration 12). */
  readonly auditLog: string
}

/** What a connection needs to know. */
export interface PostgresConnectionOptions {
  readonly pool: pg.Pool
  /** Whether `close()` ends the pool (the store created it). */
  readonly ownsPool: boolean
  /** A validated schema name. */
  readonly schema: string
  /** Receives connection errors the store survives. */
  readonly onError: (error: Error) => void
  /** Whether a claim alone commits without waiting for its WAL flush (`PostgresStoreOptions.synchronous` `'normal'`). */
  readonly asyncClaims: boolean
}

/** The pool, statements, transactions and wake-ups of one store; see the module comment. */
export class PostgresConnection {
  /** The schema holding the tables; also the NOTIFY channel of wake-ups. */
  readonly schema: string
  readonly pool: pg.Pool
  readonly tables: Tables
  /** The dialect of the statements both SQL backends share. */
  readonly dialect: SqlDialect
  /** Payload of this store's own NOTIFYs: its listener skips them, having woken locally already. */
  readonly instance = randomUUID()
  readonly onError: (error: Error) => void
  /** Whether a claim alone commits without waiting for its WAL flush (see claim-runs.ts). */
  readonly asyncClaims: boolean
  readonly #ownsPool: boolean
  readonly #names = new Map<string, string>()
  readonly #wake = new Set<WakeListener>()
  #listener: ChannelListener | undefined
  #migration: Promise<void> | undefined
  #migrated = false
  #closed = false

  constructor(options: PostgresConnectionOptions) {
    this.schema = options.schema
    this.pool = options.pool
    this.#ownsPool = options.ownsPool
    this.onError = options.onError
    this.asyncClaims = options.asyncClaims
    const s = `"${options.schema}"`
    this.tables = {
      runs: `${s}.runs`,
      logs: `${s}.logs`,
      artifacts: `${s}.artifacts`,
      pools: `${s}.pools`,
      workers: `${s}.workers`,
      workersSeen: `${s}.workers_seen`,
      schedules: `${s}.schedules`,
      settings: `${s}.settings`,
      throttles: `${s}.throttles`,
      rateStarts: `${s}.rate_starts`,
      flowGroups: `${s}.flow_groups`,
      claimRuns: `${s}.claim_runs_by_tid`,
      claimCandidates: `${s}.claim_candidates`,
      claimCandidatesUngrouped: `${s}.claim_candidates_ungrouped`,
      claimRunsLimited: `${s}.claim_runs_limited_traced`,
      rollups: `${s}.run_rollups`,
      rollupState: `${s}.rollup_state`,
      rollupsHourly: `${s}.run_rollups_hourly`,
      bulkJobs: `${s}.bulk_jobs`,
      users: `${s}.users`,
      userTokens: `${s}.user_tokens`,
      sessions: `${s}.sessions`,
      auditLog: `${s}.audit_log`,
    }
    this.dialect = postgresDialect(this.tables.runs)
    // Start migrating now; callers see a failure through ready() (or the first operation they call).
    this.whenReady().catch(() => undefined)
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** Migrates once; a failed migration (database down) is tried again by the next caller. */
  whenReady(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError())
    this.#migration ??= this.withClient((client) => migrate(client, this.schema)).then(
      () => {
        this.#migrated = true
      },
      (error: unknown) => {
        this.#migration = undefined
        throw new Error(`migrating schema ${this.schema} failed: ${coerceError(error).message}`, { cause: error })
      },
    )
    return this.#migration
  }

  /** The pool, once migrated and while open. */
  async db(): Promise<pg.Pool> {
    if (this.#closed) throw this.#closedError()
    if (!this.#migrated) await this.whenReady()
    return this.pool
  }

  #closedError(): ConflictError {
    return new ConflictError(`the postgres store (schema ${this.schema}) is closed`)
  }

  /** A named (prepared once per connection) statement for fixed SQL. */
  named(text: string, values: unknown[]): pg.QueryConfig {
    let name = this.#names.get(text)
    if (name === undefined) {
      name = `taskengine_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`
      this.#names.set(text, name)
    }
    return { name, text, values, types: TYPES }
  }

  /** Sends fixed SQL as a named statement; resolves to its rows. */
  async query<R extends pg.QueryResultRow>(db: Queryable, text: string, values: unknown[]): Promise<R[]> {
    return (await db.query<R>(this.named(text, values))).rows
  }

  /** Like {@link query}, with rows as arrays. */
  async queryArrays<R extends unknown[]>(db: Queryable, text: string, values: unknown[]): Promise<R[]> {
    return (await db.query<R>({ ...this.named(text, values), rowMode: 'array' })).rows
  }

  /** Runs `fn` on one checked-out connection; a connection that broke is destroyed, not reused. */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    // A checked-out client has no 'error' listener of the pool's: without ours, a connection
    // dropping mid-transaction would crash the process.
    const onError = (error: Error): void => {
      broken = error
    }
    client.on('error', onError)
    try {
      return await fn(client)
    } catch (error) {
      // A statement error leaves the connection usable (and in a transaction, ROLLBACK has run);
      // anything else may mean a lost connection, so the connection is destroyed.
      if (broken === undefined && !isStatementError(error)) broken = coerceError(error)
      throw error
    } finally {
      client.off('error', onError)
      client.release(broken)
    }
  }

  /** BEGIN, `fn`, COMMIT on one connection; `fn` awaits each statement before sending the next. */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      try {
        await client.query('BEGIN')
        const value = await fn(client)
        await client.query('COMMIT')
        return value
      } catch (error) {
        // ROLLBACK ends the transaction (a failure here means the connection is gone, and it gets destroyed).
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          throw new Error(`${coerceError(error).message} (and ROLLBACK failed: ${coerceError(rollbackError).message})`, { cause: error })
        })
        throw error
      }
    })
  }

  /** Wakes this process's listeners (other processes hear the NOTIFY). */
  notify(): void {
    if (this.#wake.size === 0) return
    queueMicrotask(() => {
      for (const listener of this.#wake) listener()
    })
  }

  /** Adds a wake-up listener, LISTENing for other processes' wake-ups while there is one; returns the function that removes it. */
  onRunsAvailable(listener: WakeListener): () => void {
    if (this.#closed) return () => undefined
    this.#wake.add(listener)
    if (this.#listener === undefined) {
      this.#listener = new ChannelListener({
        pool: this.pool,
        channel: this.schema,
        onNotify: (payload) => {
          if (payload !== this.instance) this.notify()
        },
        // Notifications sent while not listening were missed: let workers look for themselves.
        onListening: () => this.notify(),
        onError: this.onError,
      })
      this.#listener.start()
    }
    return () => {
      this.#wake.delete(listener)
      if (this.#wake.size === 0 && this.#listener !== undefined) {
        this.#listener.close()
        this.#listener = undefined
      }
    }
  }

  /** Resolves once wake-ups are LISTENed for (after the first {@link onRunsAvailable}). */
  async listening(): Promise<void> {
    await this.#listener?.listening()
  }

  /** Marks the connection closed and stops listening; {@link end} then ends the pool. */
  close(): void {
    this.#closed = true
    this.#wake.clear()
    this.#listener?.close()
    this.#listener = undefined
  }

  /** Waits for a migration in progress (it holds a connection), then ends the pool if the store created it. */
  async end(): Promise<void> {
    await this.#migration?.catch(() => undefined)
    if (this.#ownsPool) await this.pool.end()
  }
}

/** Whether `error` came from the server about a statement (the connection is still usable). */
function isStatementError(error: unknown): boolean {
  return error instanceof pg.DatabaseError && !/^(08|57P)/.test(error.code ?? '') && error.severity !== 'FATAL' && error.severity !== 'PANIC'
}
