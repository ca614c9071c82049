/**
 * The shared store: PostgreSQL through `pg`, for engines on many processes and machines.
 *
 * Same tables, columns and semantics as the SQLite store (see `../sqlite/store.ts`), every table
 * in one schema. What differs is how concurrency is handled:
 * - Claims lock pending runs with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on
 *   each other and never take the same run.
 * - Every fenced write is an UPDATE whose WHERE names the lease token: PostgreSQL re-checks it on
 *   the row's newest version after waiting for its lock, so a stale worker writes nothing even
 *   when it races a rescue.
 * - One-statement operations go through the pool (autocommit); multi-statement ones take one
 *   connection for a BEGIN…COMMIT. Batches (inserts, completions, logs, leases) are one statement
 *   each, with the rows sent as parallel arrays and expanded by `unnest`.
 * - Inserts and retries NOTIFY the store's channel (named after the schema) in their own
 *   transaction; a dedicated connection LISTENs and wakes workers, see `listener.ts`.
 *
 * Any error from `pg` (connection lost, server restarting) rejects the method's promise; the
 * engine's write buffer retries. Connections that break are destroyed, never reused.
 */
import { createHash, randomUUID } from 'node:crypto'
import pg from 'pg'
import { ConflictError, ValidationError, coerceError, describeValue } from '../../errors.js'
import type { LogEntry } from '../../task/context.js'
import { ClaimPlan, limitsBind } from '../claim-plan.js'
import { EXPIRED_COLUMNS, bucketsFrom, countsFrom, toClaimedRun, toExpiredRun, type ClaimRow, type ExpiredRow } from '../shared.js'
import { runFromNew, runsFromNew } from '../new-run.js'
import {
  EXPIRED_ERROR,
  attemptJson,
  cancelledError,
  toArtifact,
  toLogEntry,
  toPool,
  toRun,
  toWorker,
  type ArtifactRow,
  type LogRow,
  type PoolRow,
  type RunRow,
  type WorkerRow,
} from '../rows.js'
import type {
  Artifact,
  ArtifactContent,
  ArtifactWrite,
  CancelOutcome,
  ClaimRequest,
  ClaimedRun,
  ExpiredRun,
  FireOutcome,
  BatchOutcome,
  InsertOptions,
  InsertOutcome,
  Lease,
  NewRun,
  Pool,
  PoolCounts,
  RenewOutcome,
  RescueWrite,
  Run,
  RunFilter,
  RunPage,
  RunState,
  ScheduleFire,
  ScheduleInit,
  ScheduleState,
  Store,
  StoreSignal,
  StoreStats,
  ThroughputBucket,
  WakeListener,
  WorkerInfo,
  WriteBatch,
} from '../types.js'
import { RUN_STATES } from '../types.js'
import { insertStatement } from './insert.js'
import { ChannelListener } from './listener.js'
import { migrate } from './migrations.js'

/** Options of {@link postgresStore}. Give `connectionString` or `pool`. */
export interface PostgresStoreOptions {
  /**
   * Where to connect, e.g. `postgres://user:pass@db.example.com:5432/app`. The store creates
   * (and on `close()` ends) its own pool.
   */
  readonly connectionString?: string
  /**
   * A pool of the application's own, shared with the store. The store never ends it; give it an
   * `'error'` handler (idle connections that drop emit errors on the pool).
   *
   * @example
   * const pool = new pg.Pool({ connectionString })
   * pool.on('error', (error) => log.warn(error))
   * const store = postgresStore({ pool })
   */
  readonly pool?: pg.Pool
  /**
   * The schema holding every table, created if missing; also the name of the NOTIFY channel.
   * A lower-case identifier (letters, digits, `_`, at most 63 bytes). Default: `taskengine`.
   */
  readonly schema?: string
  /** Connections in the pool the store creates (ignored with `pool`). Default: 10. */
  readonly max?: number
  /**
   * How long opening a connection may take before it fails, in ms (ignored with `pool`): a
   * server that never answers (a dropped or unroutable address) is reported instead of waiting
   * for the operating system to give up. Default: 10 000.
   */
  readonly connectTimeoutMs?: number
  /**
   * Called with connection errors the store survives: an idle pooled connection dropped, the
   * LISTEN connection lost (it reconnects). Default: a one-line `console.warn`.
   */
  readonly onError?: (error: Error) => void
}

/** A connection or pool to send one statement to. */
type Queryable = pg.Pool | pg.ClientBase

const identity = (text: string): string => text
/**
 * How the store reads column values, given with every query (the pool's global parsers stay as
 * the application set them). JSON columns come back as text, for rows.ts to parse: pg would
 * parse them itself, and a stored JSON string such as `"12"` would reach rows.ts as the text
 * `12` and be parsed again, into a number. BIGINT comes back as a number: every BIGINT column
 * holds epoch milliseconds or a safe integer the engine validated.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) => {
    // Type oids: 114 json, 3802 jsonb, 20 int8 (fixed in every PostgreSQL).
    if (oid === 114 || oid === 3802) return identity
    if (oid === 20) return Number
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown
  }) as pg.CustomTypesConfig['getTypeParser'],
}


/** A fenced write's key: which run, under which token. */
interface Fenced {
  readonly id: string
  readonly token: string
}

/** One statement of a batch write and what to do with its rows. */
interface Step {
  readonly text: string
  readonly values: unknown[]
  readonly done: (rows: Record<string, unknown>[]) => void
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/
// Columns are named, never `*`: statements are prepared once per connection, and a prepared
// `SELECT *` fails ("cached plan must not change result type") once a later migration adds a
// column while older processes still run.
/** The columns of {@link RunRow}. */
const RUN_COLUMNS = `id, task, label, queue, priority, status, args, tags, category, created_by, unique_key, parent_id, pool_id, schedule_id, fire_key,
  attempt, attempt_base, max_attempts, backoff, timeout_ms, run_at, not_after, created_at, enqueued_at, started_at, finished_at, updated_at,
  worker_id, lease_expires_at, cancel_requested_at, cancel_reason, progress, data, error, attempts, log_count, deleted_at`
const POOL_COLUMNS = 'id, parent_run_id, root_id, label, created_at, closed_at'
const WORKER_COLUMNS = 'id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer'
const ACTIVE = `('pending', 'running', 'waiting')`
const CLAIM_RETURNING = 'r.id, r.task, r.label, r.queue, r.pool_id, r.args, r.tags, r.attempt, r.attempt_base, r.max_attempts, r.backoff, r.timeout_ms, r.log_count'
const CANCELLED_ERROR_JSON = JSON.stringify(cancelledError(null))
/** SQL appending a JSON object (text) to the `attempts` array without parsing the array. */
const appendAttempt = (attempts: string, value: string): string =>
  `(CASE WHEN ${attempts}::text = '[]' THEN '[' || ${value} || ']' ELSE left(${attempts}::text, -1) || ',' || ${value} || ']' END)::json`
/** The run's current attempt as a stored attempt object (SQL text), for when it must join the list. */
const CURRENT_ATTEMPT_JSON = `json_build_object('number', attempt, 'workerId', worker_id, 'startedAt', started_at, 'finishedAt', finished_at, 'outcome', status, 'error', error)::text`
/** The key of a fenced write. */
const keyOf = (write: Fenced): string => `${write.id}\u0000${write.token}`

/**
 * Opens a PostgreSQL store. Migrations start at once; `ready()` resolves when they are applied.
 *
 * @example
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL, schema: 'jobs' })
 * await store.ready()
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(options)
}

/** The PostgreSQL implementation of {@link Store}. */
export class PostgresStore implements Store {
  readonly kind = 'postgres'
  /** The schema holding the tables; also the NOTIFY channel. */
  readonly schema: string
  /** Write batches a worker keeps in flight: each on its own connection, so the server works on several at once. */
  readonly parallelWrites = 2
  readonly #pool: pg.Pool
  readonly #ownsPool: boolean
  readonly #onError: (error: Error) => void
  readonly #t: { runs: string; logs: string; artifacts: string; pools: string; workers: string; schedules: string; settings: string; claimRuns: string; claimCandidates: string }
  readonly #wake = new Set<WakeListener>()
  /** Payload of this store's own NOTIFYs: its listener skips them, having woken locally already. */
  readonly #instance = randomUUID()
  readonly #names = new Map<string, string>()
  #listener: ChannelListener | undefined
  /** Signal listeners by kind, each kind on its own channel (workers need cancels, not everyone's events). */
  readonly #signals = new Map<SignalChannel, { listener: ChannelListener; receivers: Set<(message: StoreSignal) => void> }>()
  /** The connection holding the maintenance lock while this process leads. */
  #leader: pg.PoolClient | undefined
  #leading: Promise<boolean> | undefined
  #migration: Promise<void> | undefined
  #migrated = false
  #closed = false

  constructor(options: PostgresStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new ValidationError(`postgresStore: expected an options object, got ${describeValue(options)}`)
    const schema = options.schema ?? 'taskengine'
    if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || Buffer.byteLength(schema) > 63) {
      throw new ValidationError(`schema: expected a lower-case identifier (letters, digits, _; at most 63 bytes), got ${describeValue(schema)}`)
    }
    if (options.max !== undefined && (!Number.isSafeInteger(options.max) || options.max < 1)) {
      throw new ValidationError(`max: expected an integer from 1 and up, got ${describeValue(options.max)}`)
    }
    if (options.connectTimeoutMs !== undefined && (!Number.isSafeInteger(options.connectTimeoutMs) || options.connectTimeoutMs < 1)) {
      throw new ValidationError(`connectTimeoutMs: expected an integer number of milliseconds from 1 and up, got ${describeValue(options.connectTimeoutMs)}`)
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new ValidationError(`onError: expected a function, got ${describeValue(options.onError)}`)
    this.schema = schema
    this.#onError = options.onError ?? ((error) => console.warn(`taskengine postgres store (schema ${schema}): ${error.message}`))
    if (options.pool !== undefined) {
      if (options.connectionString !== undefined) throw new ValidationError('postgresStore: give `connectionString` or `pool`, not both')
      if (typeof options.pool !== 'object' || options.pool === null || typeof (options.pool as Partial<pg.Pool>).connect !== 'function') {
        throw new ValidationError(`pool: expected a pg.Pool, got ${describeValue(options.pool)}`)
      }
      this.#pool = options.pool
      this.#ownsPool = false
    } else {
      if (typeof options.connectionString !== 'string' || options.connectionString === '') {
        throw new ValidationError(`connectionString: expected a postgres:// URL (or give \`pool\`), got ${describeValue(options.connectionString)}`)
      }
      this.#pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.max ?? 10,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
        application_name: 'taskengine',
      })
      // An idle connection that drops is removed by the pool; without a handler its error would
      // crash the process.
      this.#pool.on('error', (error) => this.#onError(new Error(`idle connection lost: ${error.message}`, { cause: error })))
      this.#ownsPool = true
    }
    const s = `"${schema}"`
    this.#t = {
      runs: `${s}.runs`,
      logs: `${s}.logs`,
      artifacts: `${s}.artifacts`,
      pools: `${s}.pools`,
      workers: `${s}.workers`,
      schedules: `${s}.schedules`,
      settings: `${s}.settings`,
      claimRuns: `${s}.claim_runs_counted`,
      claimCandidates: `${s}.claim_candidates`,
    }
    // Start migrating now; callers see a failure through ready() (or the first method they call).
    this.#whenReady().catch(() => undefined)
  }

  /** The pool the store queries through (its own, or the one it was given). */
  get pool(): pg.Pool {
    return this.#pool
  }

  async ready(): Promise<void> {
    await this.#whenReady()
  }

  /** Resolves once this store LISTENs for wake-ups (after the first {@link onRunsAvailable}). */
  async listening(): Promise<void> {
    await this.#listener?.listening()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#wake.clear()
    this.#listener?.close()
    this.#listener = undefined
    for (const { listener } of this.#signals.values()) listener.close()
    this.#signals.clear()
    const leader = this.#leader
    this.#leader = undefined
    // Ending the connection releases the advisory lock: another process takes over at once.
    leader?.release(true)
    // A migration in progress holds a connection; let it finish before ending the pool.
    await this.#migration?.catch(() => undefined)
    if (this.#ownsPool) await this.#pool.end()
  }

  /** Migrates once; a failed migration (database down) is tried again by the next caller. */
  #whenReady(): Promise<void> {
    if (this.#closed) return Promise.reject(new ConflictError(`the postgres store (schema ${this.schema}) is closed`))
    this.#migration ??= this.#withClient((client) => migrate(client, this.schema)).then(
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
  async #db(): Promise<pg.Pool> {
    if (this.#closed) throw new ConflictError(`the postgres store (schema ${this.schema}) is closed`)
    if (!this.#migrated) await this.#whenReady()
    return this.#pool
  }

  /** A named (prepared once per connection) statement for fixed SQL. */
  #named(text: string, values: unknown[]): pg.QueryConfig {
    let name = this.#names.get(text)
    if (name === undefined) {
      name = `taskengine_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`
      this.#names.set(text, name)
    }
    return { name, text, values, types: TYPES }
  }

  async #query<R extends pg.QueryResultRow>(db: Queryable, text: string, values: unknown[]): Promise<R[]> {
    return (await db.query<R>(this.#named(text, values))).rows
  }

  async #queryArrays<R extends unknown[]>(db: Queryable, text: string, values: unknown[]): Promise<R[]> {
    return (await db.query<R>({ ...this.#named(text, values), rowMode: 'array' })).rows
  }

  /** Runs `fn` on one checked-out connection; a connection that broke is destroyed, not reused. */
  async #withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
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
  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#withClient(async (client) => {
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
  #notify(): void {
    if (this.#wake.size === 0) return
    queueMicrotask(() => {
      for (const listener of this.#wake) listener()
    })
  }

  onRunsAvailable(listener: WakeListener): () => void {
    if (this.#closed) return () => undefined
    this.#wake.add(listener)
    if (this.#listener === undefined) {
      this.#listener = new ChannelListener({
        pool: this.#pool,
        channel: this.schema,
        onNotify: (payload) => {
          if (payload !== this.#instance) this.#notify()
        },
        // Notifications sent while not listening were missed: let workers look for themselves.
        onListening: () => this.#notify(),
        onError: this.#onError,
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

  async signal(message: StoreSignal): Promise<void> {
    const db = await this.#db()
    const channel = `${this.schema}_${signalChannel(message.type)}`
    for (const payload of signalPayloads(message)) await this.#query(db, 'SELECT pg_notify($1, $2)', [channel, payload])
  }

  onSignal(type: StoreSignal['type'], receive: (message: StoreSignal) => void): () => void {
    if (this.#closed) return () => undefined
    const channel = signalChannel(type)
    let entry = this.#signals.get(channel)
    if (entry === undefined) {
      const receivers = new Set<(message: StoreSignal) => void>()
      const listener = new ChannelListener({
        pool: this.#pool,
        channel: `${this.schema}_${channel}`,
        onNotify: (payload) => {
          let message: StoreSignal
          try {
            message = JSON.parse(payload) as StoreSignal
          } catch {
            return
          }
          for (const r of receivers) r(message)
        },
        onListening: () => undefined,
        onError: this.#onError,
      })
      entry = { listener, receivers }
      this.#signals.set(channel, entry)
      listener.start()
    }
    // One connection listens per channel; each receiver hears only its kind.
    const receiver = (message: StoreSignal): void => {
      if (message.type === type) receive(message)
    }
    entry.receivers.add(receiver)
    const { listener, receivers } = entry
    return () => {
      receivers.delete(receiver)
      if (receivers.size === 0 && this.#signals.get(channel)?.listener === listener) {
        listener.close()
        this.#signals.delete(channel)
      }
    }
  }

  /** Resolves once signals of this kind are listened for (tests, orderly start-up). */
  async signalsListening(type: StoreSignal['type']): Promise<void> {
    await this.#signals.get(signalChannel(type))?.listener.listening()
  }

  lead(): Promise<boolean> {
    // Callers at the same moment share one answer (and one query on the leader's connection).
    this.#leading ??= this.#lead().finally(() => (this.#leading = undefined))
    return this.#leading
  }

  async #lead(): Promise<boolean> {
    if (this.#closed) return false
    const held = this.#leader
    if (held !== undefined) {
      // The lock lives as long as its connection: make sure that is still there.
      try {
        await held.query('SELECT 1')
        return true
      } catch (error) {
        if (this.#leader === held) {
          this.#leader = undefined
          held.release(true)
        }
        this.#onError(new Error(`maintenance leadership lost: ${coerceError(error).message}`, { cause: error }))
      }
    }
    await this.#db()
    const client = await this.#pool.connect()
    const onError = (error: Error): void => {
      // The lock went with the connection; another process may lead now.
      if (this.#leader !== client) return
      this.#leader = undefined
      client.release(true)
      this.#onError(new Error(`maintenance leadership lost: ${error.message}`, { cause: error }))
    }
    client.on('error', onError)
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int4, hashtext($2)) AS locked', [LEADER_LOCK_CLASS, this.schema])
      if (rows[0]?.locked === true && !this.#closed) {
        this.#leader = client
        return true
      }
      client.off('error', onError)
      client.release()
      return false
    } catch (error) {
      client.off('error', onError)
      client.release(true)
      throw error
    }
  }

  async insertRuns(runs: readonly NewRun[], options: InsertOptions = {}): Promise<InsertOutcome[]> {
    const client = options.client
    if (client !== undefined && (typeof client !== 'object' || client === null || typeof (client as { query?: unknown }).query !== 'function')) {
      throw new ValidationError(`client: expected a pg client (pg.Client, or a PoolClient from pool.connect()) inside your transaction, got ${describeValue(client)}`)
    }
    const pool = await this.#db()
    if (runs.length === 0) return []
    // Through the caller's client the insert is part of their transaction: the NOTIFY fires when
    // they commit, and this store's listener must hear it too (empty payload), since it cannot
    // wake its workers itself at the right moment.
    const db = (client as pg.ClientBase | undefined) ?? pool
    const payload = client === undefined ? this.#instance : ''
    const hasUnique = runs.some((r) => r.uniqueKey !== null || (r.fireKey ?? null) !== null)
    const { text, values } = insertStatement(this.#t.runs, runs, { returnIds: hasUnique, channel: this.schema, payload })
    const rows = await this.#query<{ id: string | null }>(db, text, values)
    if (!hasUnique) {
      if (client === undefined) this.#notify()
      return runsFromNew(runs).map((run) => ({ run, created: true }))
    }
    const inserted = new Set(rows.map((r) => r.id))
    const skipped = runs.filter((r) => !inserted.has(r.id))
    const lost = [...new Set(skipped.map((r) => r.uniqueKey).filter((k) => k !== null))]
    const lostTicks = [...new Set(skipped.map((r) => r.fireKey ?? null).filter((k) => k !== null))]
    const holders = new Map<string | null, RunRow>()
    const tickHolders = new Map<string | null, RunRow>()
    if (lost.length > 0) {
      for (const row of await this.#query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${this.#t.runs} WHERE unique_key = ANY($1::text[]) AND status IN ${ACTIVE}`, [lost])) {
        holders.set(row.unique_key, row)
      }
    }
    if (lostTicks.length > 0) {
      for (const row of await this.#query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${this.#t.runs} WHERE fire_key = ANY($1::text[])`, [lostTicks])) tickHolders.set(row.fire_key, row)
    }
    const outcomes = runs.map((r) => {
      if (inserted.has(r.id)) return { run: runFromNew(r), created: true }
      const holder = tickHolders.get(r.fireKey ?? null) ?? holders.get(r.uniqueKey)
      if (holder === undefined) throw new ConflictError(`run ${r.id} was not inserted and no run holds its fire key or unique key ${describeValue(r.uniqueKey)}`)
      return { run: toRun(holder), created: false }
    })
    if (inserted.size > 0 && client === undefined) this.#notify()
    return outcomes
  }

  async findReusable(task: string, argsHash: string, since: number): Promise<Run | undefined> {
    const db = await this.#db()
    const [row] = await this.#query<RunRow>(
      db,
      `SELECT ${RUN_COLUMNS} FROM ${this.#t.runs} WHERE task = $1 AND args_hash = $2 AND status = 'succeeded' AND finished_at >= $3 AND deleted_at IS NULL
       ORDER BY finished_at DESC LIMIT 1`,
      [task, argsHash, since],
    )
    return row === undefined ? undefined : toRun(row)
  }

  async claimRuns(request: ClaimRequest): Promise<ClaimedRun[]> {
    if (request.limit <= 0 || request.tasks.length === 0) return []
    const db = await this.#db()
    if (!limitsBind(request)) return this.#claimFast(db, request, randomUUID())
    return this.#transaction((client) => this.#claimLimited(client, request, randomUUID()))
  }

  /** A claim no limit binds: one statement (see claim_runs in migrations.ts). */
  async #claimFast(db: Queryable, request: ClaimRequest, token: string): Promise<ClaimedRun[]> {
    const rows = await this.#queryArrays<ClaimRow>(db, `SELECT id, task, label, queue, pool_id, args, tags, attempt, attempt_base, max_attempts, backoff, timeout_ms, log_count FROM ${this.#t.claimRuns}($1, $2, $3, $4, $5, $6, $7)`, [
      request.now,
      request.tasks,
      request.queues ?? null,
      request.limit,
      request.workerId,
      token,
      request.leaseUntil,
    ])
    return rows.map((row) => toClaimedRun(row, token))
  }

  /** A claim under binding limits: {@link ClaimPlan} rounds inside the caller's transaction. */
  async #claimLimited(client: pg.ClientBase, request: ClaimRequest, token: string): Promise<ClaimedRun[]> {
    const select = `SELECT id, task, queue FROM ${this.#t.claimCandidates}($1, $2, $3, $4, $5, $6)`
    // The same start rule as claim_runs_counted (migration 4).
    const take = `UPDATE ${this.#t.runs} r SET status = 'running', attempt = r.attempt + 1,
        started_at = CASE WHEN r.attempt + 1 - r.attempt_base < r.max_attempts THEN $2::int8 END, updated_at = $2, worker_id = $3,
        lease_token = $4, lease_expires_at = $5
      WHERE r.id = ANY($1::text[]) AND r.status = 'pending'
      RETURNING ${CLAIM_RETURNING}`
    const plan = new ClaimPlan(request)
    const claimed: ClaimedRun[] = []
    for (let round = plan.next(); round !== undefined; round = plan.next()) {
      // Rows locked here but not accepted stay locked (skipped by other claimers) until commit.
      const candidates = await this.#query<{ id: string; task: string; queue: string }>(client, select, [
        request.now,
        request.tasks,
        request.queues ?? null,
        round.fullTasks,
        round.fullQueues,
        round.count,
      ])
      const accepted = plan.accept(candidates)
      if (accepted.length === 0) continue
      const rows = await this.#queryArrays<ClaimRow>(client, take, [accepted.map((c) => c.id), request.now, request.workerId, token, request.leaseUntil])
      for (const row of rows) claimed.push(toClaimedRun(row, token))
    }
    return claimed
  }

  async writeBatch(batch: WriteBatch): Promise<BatchOutcome> {
    const db = await this.#db()
    const t = this.#t
    const now = Date.now()
    const steps: Step[] = []
    // Keys (run, token) whose write took effect.
    const held = new Set<string>()
    const collect = (rows: Record<string, unknown>[]): void => {
      for (const row of rows) held.add(`${row.id as string}\u0000${row.token as string}`)
    }
    let woke = false
    // Writes that may put runs back to pending wake the workers (here and, by NOTIFY, elsewhere).
    const collectWaking = (rows: Record<string, unknown>[]): void => {
      collect(rows)
      if (rows.some((r) => r.status === 'pending')) woke = true
    }

    if (batch.logs.length > 0) {
      // The run rows are updated (locked) first and the lines inserted only for runs whose token
      // held under that lock, so a rescue racing this batch cannot let a stale line in.
      const logs = batch.logs
      steps.push({
        text: `WITH l AS MATERIALIZED (
            SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int8[], $5::text[], $6::text[]) AS l(run_id, token, seq, time, level, message)
          ), held AS (
            UPDATE ${t.runs} r SET log_count = greatest(r.log_count, m.top)
            FROM (SELECT run_id, token, max(seq) AS top FROM l GROUP BY run_id, token) m
            WHERE r.id = m.run_id AND r.lease_token = m.token
            RETURNING m.run_id, m.token
          )
          INSERT INTO ${t.logs} (run_id, seq, time, level, message)
          SELECT l.run_id, l.seq, l.time, l.level, l.message FROM l JOIN held h ON h.run_id = l.run_id AND h.token = l.token
          ON CONFLICT DO NOTHING`,
        values: [
          logs.map((l) => l.runId),
          logs.map((l) => l.token),
          logs.map((l) => l.seq),
          logs.map((l) => l.time),
          logs.map((l) => l.level),
          logs.map((l) => withoutNul(l.message)),
        ],
        done: () => undefined,
      })
    }
    const logCounts = batch.logCounts ?? []
    if (logCounts.length > 0) {
      steps.push({
        text: `UPDATE ${t.runs} r SET log_count = greatest(r.log_count, c.count)
          FROM (SELECT id, token, max(count) AS count FROM unnest($1::text[], $2::text[], $3::int4[]) AS u(id, token, count) GROUP BY id, token) c
          WHERE r.id = c.id AND r.lease_token = c.token`,
        values: [logCounts.map((c) => c.id), logCounts.map((c) => c.token), logCounts.map((c) => c.count)],
        done: () => undefined,
      })
    }
    // Several writes to one run under one token: the last one wins, as if applied in order.
    const progress = lastPerKey(batch.progress).sort(byId)
    if (progress.length > 0) {
      steps.push({
        text: `UPDATE ${t.runs} r SET progress = p.progress::json, tags = p.tags::json, updated_at = $5
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS p(id, token, progress, tags)
          WHERE r.id = p.id AND r.lease_token = p.token
          RETURNING p.id, p.token`,
        values: [progress.map((p) => p.id), progress.map((p) => p.token), progress.map((p) => JSON.stringify(p.progress)), progress.map((p) => JSON.stringify(p.tags)), now],
        done: collect,
      })
    }
    const holds = lastPerKey(batch.holds ?? []).sort(byId)
    if (holds.length > 0) {
      steps.push({
        text: `UPDATE ${t.runs} r SET started_at = NULL
          FROM unnest($1::text[], $2::text[]) AS h(id, token)
          WHERE r.id = h.id AND r.lease_token = h.token
          RETURNING h.id, h.token`,
        values: [holds.map((h) => h.id), holds.map((h) => h.token)],
        done: collect,
      })
    }
    const starts = lastPerKey(batch.starts ?? []).sort(byId)
    if (starts.length > 0) {
      steps.push({
        text: `UPDATE ${t.runs} r SET started_at = s.started_at
          FROM unnest($1::text[], $2::text[], $3::int8[]) AS s(id, token, started_at)
          WHERE r.id = s.id AND r.lease_token = s.token
          RETURNING s.id, s.token`,
        values: [starts.map((st) => st.id), starts.map((st) => st.token), starts.map((st) => st.startedAt)],
        done: collect,
      })
    }
    const waits = lastPerKey(batch.waits).sort(byId)
    if (waits.length > 0) {
      steps.push({
        text: `UPDATE ${t.runs} r SET status = CASE WHEN w.waiting THEN 'waiting' ELSE 'running' END, updated_at = $4
          FROM unnest($1::text[], $2::text[], $3::bool[]) AS w(id, token, waiting)
          WHERE r.id = w.id AND r.lease_token = w.token AND r.status IN ('running', 'waiting')
          RETURNING w.id, w.token`,
        values: [waits.map((w) => w.id), waits.map((w) => w.token), waits.map((w) => w.waiting), now],
        done: collect,
      })
    }
    // A completion ends the token: a second one under the same token is fenced, as in order.
    const completions = firstPerKey(batch.completions).sort(byId)
    const finals = completions.filter((c) => c.status !== 'pending')
    const retries = completions.filter((c) => c.status === 'pending')
    if (finals.length > 0) {
      // Final outcomes leave the attempt list alone: the last attempt is read from the run's own
      // columns (see rows.ts), which keeps the hot path free of JSON work.
      steps.push({
        text: `UPDATE ${t.runs} r SET status = c.status, started_at = c.started_at, finished_at = c.finished_at, updated_at = c.finished_at, data = c.data::json,
            error = c.error::json, progress = c.progress::json, tags = c.tags::json, lease_token = NULL, lease_expires_at = NULL
          FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[])
            AS c(id, token, status, finished_at, data, error, progress, tags, started_at)
          WHERE r.id = c.id AND r.lease_token = c.token
          RETURNING c.id, c.token`,
        values: [
          finals.map((c) => c.id),
          finals.map((c) => c.token),
          finals.map((c) => c.status),
          finals.map((c) => c.finishedAt),
          finals.map((c) => c.data ?? null),
          finals.map((c) => jsonOrNull(c.error)),
          finals.map((c) => jsonOrNull(c.progress)),
          finals.map((c) => tagsJson(c.tags)),
          finals.map((c) => c.attempt.startedAt.getTime()),
        ],
        done: collect,
      })
    }
    if (retries.length > 0) {
      // A cancel requested elsewhere wins over a retry the worker decided before it heard of it.
      steps.push({
        text: `WITH up AS (
            UPDATE ${t.runs} r SET
              status = CASE WHEN r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
              finished_at = CASE WHEN r.cancel_requested_at IS NOT NULL THEN c.finished_at END,
              error = CASE WHEN r.cancel_requested_at IS NOT NULL THEN $10::json ELSE c.error::json END,
              run_at = c.run_at, started_at = c.started_at, progress = c.progress::json, tags = c.tags::json,
              attempts = ${appendAttempt('r.attempts', 'c.attempt')},
              attempt_base = r.attempt_base + c.refund,
              lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = c.finished_at
            FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int4[], $13::int8[])
              AS c(id, token, finished_at, run_at, error, progress, tags, attempt, refund, started_at)
            WHERE r.id = c.id AND r.lease_token = c.token
            RETURNING c.id, c.token, r.status
          ), wake AS MATERIALIZED (SELECT pg_notify($11, $12) FROM up WHERE status = 'pending' LIMIT 1)
          SELECT up.id, up.token, up.status FROM up LEFT JOIN wake ON true`,
        values: [
          retries.map((c) => c.id),
          retries.map((c) => c.token),
          retries.map((c) => c.finishedAt),
          retries.map((c) => c.runAt ?? c.finishedAt),
          retries.map((c) => jsonOrNull(c.error)),
          retries.map((c) => jsonOrNull(c.progress)),
          retries.map((c) => tagsJson(c.tags)),
          retries.map((c) => attemptJson(c.attempt)),
          retries.map((c) => (c.refundAttempt === true ? 1 : 0)),
          CANCELLED_ERROR_JSON,
          this.schema,
          this.#instance,
          retries.map((c) => c.attempt.startedAt.getTime()),
        ],
        done: collectWaking,
      })
    }

    const releases = firstPerKey(batch.releases ?? []).sort(byId)
    if (releases.length > 0) {
      // As if never claimed: the attempt number goes back and the history stays as it was.
      steps.push({
        text: `WITH up AS (
            UPDATE ${t.runs} r SET
              status = CASE WHEN x.cancel OR r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
              finished_at = CASE WHEN x.cancel OR r.cancel_requested_at IS NOT NULL THEN x.at END,
              error = CASE WHEN x.cancel THEN x.error::json WHEN r.cancel_requested_at IS NOT NULL THEN $6::json ELSE r.error END,
              attempt = r.attempt - 1, started_at = NULL, lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = x.at
            FROM unnest($1::text[], $2::text[], $3::bool[], $4::int8[], $5::text[]) AS x(id, token, cancel, at, error)
            WHERE r.id = x.id AND r.lease_token = x.token
            RETURNING x.id, x.token, r.status
          ), wake AS MATERIALIZED (SELECT pg_notify($7, $8) FROM up WHERE status = 'pending' LIMIT 1)
          SELECT up.id, up.token, up.status FROM up LEFT JOIN wake ON true`,
        values: [
          releases.map((r) => r.id),
          releases.map((r) => r.token),
          releases.map((r) => r.status === 'cancelled'),
          releases.map((r) => r.at),
          releases.map((r) => (r.error === null ? CANCELLED_ERROR_JSON : JSON.stringify(r.error))),
          CANCELLED_ERROR_JSON,
          this.schema,
          this.#instance,
        ],
        done: collectWaking,
      })
    }

    if (steps.length > 1) {
      // Each statement locks its rows in id order, but one after another they would not: a
      // heartbeat renewing the same runs (in id order, on another connection) could then hold
      // a row the second statement needs while waiting for one the first took. Taking every
      // row of the batch first, in id order, keeps one order for all.
      const ids = new Set<string>()
      for (const l of batch.logs) ids.add(l.runId)
      for (const list of [logCounts, progress, holds, starts, waits, completions, releases]) for (const write of list) ids.add(write.id)
      steps.unshift({ text: `SELECT 1 FROM ${t.runs} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, values: [[...ids].sort()], done: () => undefined })
    }
    const claim = batch.claim !== undefined && batch.claim.limit > 0 && batch.claim.tasks.length > 0 ? batch.claim : undefined
    let claimed: ClaimedRun[] | undefined
    if (steps.length + (claim === undefined ? 0 : 1) === 1) {
      // One statement is a transaction of its own.
      const step = steps[0]
      if (step !== undefined) step.done(await this.#query(db, step.text, step.values))
      else if (claim !== undefined) claimed = await this.#claimRuns(db, claim)
    } else if (steps.length > 0 || claim !== undefined) {
      claimed = await this.#transaction(async (client) => {
        // One after another: pg (from 9.0) refuses queries queued on a busy connection.
        for (const step of steps) step.done(await this.#query(client, step.text, step.values))
        return claim === undefined ? undefined : limitsBind(claim) ? this.#claimLimited(client, claim, randomUUID()) : this.#claimFast(client, claim, randomUUID())
      })
    }
    if (woke) this.#notify()

    const fenced = new Set<string>()
    for (const write of [...batch.progress, ...batch.waits, ...(batch.holds ?? []), ...(batch.starts ?? [])]) if (!held.has(keyOf(write))) fenced.add(write.id)
    const seen = new Set<string>()
    for (const c of [...batch.completions, ...(batch.releases ?? [])]) {
      const key = keyOf(c)
      if (seen.has(key) || !held.has(key)) fenced.add(c.id)
      seen.add(key)
    }
    if (batch.claim !== undefined) claimed ??= []
    return claimed === undefined ? { fenced: [...fenced] } : { fenced: [...fenced], claimed }
  }

  /** A claim outside a transaction of the caller's. */
  async #claimRuns(db: pg.Pool, request: ClaimRequest): Promise<ClaimedRun[]> {
    if (!limitsBind(request)) return this.#claimFast(db, request, randomUUID())
    return this.#transaction((client) => this.#claimLimited(client, request, randomUUID()))
  }

  async renewLeases(_workerId: string, leases: readonly Lease[], leaseUntil: number): Promise<RenewOutcome> {
    const cancelRequested: { id: string; reason: string | null }[] = []
    const lost: string[] = []
    if (leases.length === 0) return { cancelRequested, lost }
    const db = await this.#db()
    const unique = lastPerKey(leases).sort(byId)
    const rows = await this.#query<{ id: string; token: string; cancel_requested_at: number | null; cancel_reason: string | null }>(
      db,
      `UPDATE ${this.#t.runs} r SET lease_expires_at = $3
       FROM unnest($1::text[], $2::text[]) AS l(id, token)
       WHERE r.id = l.id AND r.lease_token = l.token AND r.status IN ('running', 'waiting')
       RETURNING l.id, l.token, r.cancel_requested_at, r.cancel_reason`,
      [unique.map((l) => l.id), unique.map((l) => l.token), leaseUntil],
    )
    const renewed = new Map(rows.map((row) => [keyOf(row), row]))
    for (const lease of leases) {
      const row = renewed.get(keyOf(lease))
      if (row === undefined) lost.push(lease.id)
      else if (row.cancel_requested_at !== null) cancelRequested.push({ id: lease.id, reason: row.cancel_reason })
    }
    return { cancelRequested, lost }
  }

  async expiredLeases(now: number, limit: number): Promise<ExpiredRun[]> {
    const db = await this.#db()
    const rows = await this.#query<ExpiredRow>(
      db,
      `SELECT ${EXPIRED_COLUMNS} FROM ${this.#t.runs} WHERE status IN ('running', 'waiting') AND lease_expires_at < $1 ORDER BY lease_expires_at LIMIT $2`,
      [now, limit],
    )
    return rows.map(toExpiredRun)
  }

  async rescueRuns(writes: readonly RescueWrite[]): Promise<Run[]> {
    if (writes.length === 0) return []
    const db = await this.#db()
    const sorted = firstPerKey(writes).sort(byId)
    // A counted attempt joins the history; one that never reached its handler is taken back, as
    // if never claimed. A cancel requested since the rescuer read the run wins over `pending`.
    const rows = await this.#query<RunRow>(
      db,
      `WITH up AS (
         UPDATE ${this.#t.runs} r SET
           status = CASE WHEN w.status = 'pending' AND r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE w.status END,
           error = CASE WHEN w.status = 'pending' AND r.cancel_requested_at IS NOT NULL THEN $9::json
                        WHEN w.status = 'pending' AND w.attempt IS NULL THEN r.error ELSE w.error::json END,
           finished_at = CASE WHEN w.status = 'pending' AND r.cancel_requested_at IS NULL THEN NULL ELSE w.at END,
           run_at = CASE WHEN w.status = 'pending' AND w.attempt IS NOT NULL THEN w.run_at ELSE r.run_at END,
           attempt = CASE WHEN w.attempt IS NULL THEN r.attempt - 1 ELSE r.attempt END,
           started_at = CASE WHEN w.attempt IS NULL THEN NULL ELSE r.started_at END,
           attempts = CASE WHEN w.attempt IS NULL THEN r.attempts ELSE ${appendAttempt('r.attempts', 'w.attempt')} END,
           lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = w.at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::int8[]) AS w(id, token, status, run_at, error, attempt, at)
         WHERE r.id = w.id AND r.lease_token = w.token AND r.status IN ('running', 'waiting')
         RETURNING r.*
       ), wake AS MATERIALIZED (SELECT pg_notify($8, $10) FROM up WHERE status = 'pending' LIMIT 1)
       SELECT ${RUN_COLUMNS} FROM up LEFT JOIN wake ON true`,
      [
        sorted.map((w) => w.id),
        sorted.map((w) => w.token),
        sorted.map((w) => w.status),
        sorted.map((w) => w.runAt ?? w.at),
        sorted.map((w) => jsonOrNull(w.error)),
        sorted.map((w) => (w.attempt === null ? null : attemptJson(w.attempt))),
        sorted.map((w) => w.at),
        this.schema,
        JSON.stringify(cancelledError('worker lost while cancelling')),
        this.#instance,
      ],
    )
    const runs = rows.map(toRun)
    if (runs.some((r) => r.status === 'pending')) this.#notify()
    return runs
  }

  async expireOverdue(now: number): Promise<Run[]> {
    const db = await this.#db()
    const rows = await this.#query<RunRow>(
      db,
      `UPDATE ${this.#t.runs} SET status = 'cancelled', finished_at = $1, updated_at = $1, error = $2::json, cancel_reason = 'expired'
       WHERE status = 'pending' AND not_after IS NOT NULL AND not_after <= $1 RETURNING ${RUN_COLUMNS}`,
      [now, JSON.stringify(EXPIRED_ERROR)],
    )
    return rows.map(toRun)
  }

  async getRun(id: string, options: { readonly includeDeleted?: boolean } = {}): Promise<Run | undefined> {
    const db = await this.#db()
    const [row] = await this.#query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${this.#t.runs} WHERE id = $1`, [id])
    if (row === undefined || (row.deleted_at !== null && options.includeDeleted !== true)) return undefined
    return toRun(row)
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    const db = await this.#db()
    const where: string[] = []
    const values: unknown[] = []
    const param = (value: unknown): string => {
      values.push(value)
      return `$${values.length}`
    }
    if (filter.includeDeleted !== true) where.push('deleted_at IS NULL')
    if (filter.status !== undefined) where.push(`status = ANY(${param(typeof filter.status === 'string' ? [filter.status] : filter.status)}::text[])`)
    for (const [key, column] of [
      ['task', 'task'],
      ['queue', 'queue'],
      ['label', 'label'],
      ['poolId', 'pool_id'],
      ['parentId', 'parent_id'],
      ['scheduleId', 'schedule_id'],
      ['createdBy', 'created_by'],
      ['category', 'category'],
    ] as const) {
      const value = filter[key]
      if (value !== undefined) where.push(`${column} = ${param(value)}`)
    }
    if (filter.tag !== undefined) {
      // Tags are a JSON array of strings written by JSON.stringify. `,"tag",` found in the array
      // text with its brackets turned into commas is an element equal to the tag (a quote inside a
      // string is always escaped, so `,"` only starts an element). Unlike a JSON function, this
      // never trips over a `\u0000` escape in some other run's tags.
      where.push(`strpos(',' || btrim(tags::text, '[]') || ',', ${param(`,${JSON.stringify(filter.tag)},`)}) > 0`)
    }
    if (filter.from !== undefined) where.push(`created_at >= ${param(filter.from.getTime())}`)
    if (filter.to !== undefined) where.push(`created_at < ${param(filter.to.getTime())}`)
    if (filter.search !== undefined && filter.search !== '') {
      const search = param(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      where.push(`(id ILIKE ${search} OR task ILIKE ${search} OR label ILIKE ${search} OR args::text ILIKE ${search})`)
    }
    const counted = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    const countValues = [...values]
    // Ids are UUIDv7, so id order is creation order.
    if (filter.before !== undefined) where.push(`id < ${param(filter.before)}`)
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    const page = Math.max(1, Math.floor(filter.page ?? 1))
    const pageSize = Math.min(1000, Math.max(1, Math.floor(filter.pageSize ?? 50)))
    const [count, rows] = await Promise.all([
      filter.count === false ? undefined : db.query<{ n: number }>({ text: `SELECT count(*) AS n FROM ${this.#t.runs} ${counted}`, values: countValues, types: TYPES }),
      db.query<RunRow>({ text: `SELECT ${RUN_COLUMNS} FROM ${this.#t.runs} ${clause} ORDER BY id DESC LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`, values, types: TYPES }),
    ])
    return { data: rows.rows.map(toRun), total: count === undefined ? -1 : Number(count.rows[0]?.n ?? 0), page, pageSize }
  }

  async getLogs(runId: string, after: number, limit: number): Promise<LogEntry[]> {
    const db = await this.#db()
    const rows = await this.#query<LogRow>(db, `SELECT seq, time, level, message FROM ${this.#t.logs} WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [runId, after, limit])
    return rows.map(toLogEntry)
  }

  async cancelRuns(selection: { readonly ids?: readonly string[]; readonly poolIds?: readonly string[] }, reason: string, now: number): Promise<CancelOutcome> {
    const db = await this.#db()
    // One statement: a run that changes state meanwhile (claimed, retried) is re-checked on its
    // newest version after its lock, and ends cancelled or asked to cancel by what it is then.
    const rows = await this.#query<RunRow>(
      db,
      `UPDATE ${this.#t.runs} SET
         status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
         finished_at = CASE WHEN status = 'pending' THEN $3 ELSE finished_at END,
         error = CASE WHEN status = 'pending' THEN $5::json ELSE error END,
         cancel_requested_at = $3, cancel_reason = $4, updated_at = $3
       WHERE (id = ANY($1::text[]) OR pool_id = ANY($2::text[]))
         AND (status = 'pending' OR (status IN ('running', 'waiting') AND cancel_requested_at IS NULL))
       RETURNING ${RUN_COLUMNS}`,
      [selection.ids ?? [], selection.poolIds ?? [], now, reason, JSON.stringify(cancelledError(reason))],
    )
    const cancelled: Run[] = []
    const requested: Run[] = []
    for (const row of rows) (row.status === 'cancelled' ? cancelled : requested).push(toRun(row))
    return { cancelled, requested }
  }

  async retryRun(id: string, now: number): Promise<Run | undefined> {
    const db = await this.#db()
    try {
      const [row] = await this.#query<RunRow>(
        db,
        `WITH up AS (
           UPDATE ${this.#t.runs} SET status = 'pending', attempt_base = attempt, run_at = $2, enqueued_at = $2, updated_at = $2,
             attempts = CASE WHEN started_at IS NOT NULL AND json_array_length(attempts) < attempt THEN ${appendAttempt('attempts', CURRENT_ATTEMPT_JSON)} ELSE attempts END,
             finished_at = NULL, error = NULL, data = NULL, progress = NULL, cancel_requested_at = NULL, cancel_reason = NULL,
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
           WHERE id = $1 AND status IN ('failed', 'cancelled') AND deleted_at IS NULL
           RETURNING ${RUN_COLUMNS}
         ), wake AS MATERIALIZED (SELECT pg_notify($3, $4) FROM up)
         SELECT up.* FROM up LEFT JOIN wake ON true`,
        [id, now, this.schema, this.#instance],
      )
      if (row !== undefined) this.#notify()
      return row === undefined ? undefined : toRun(row)
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === '23505') {
        // ConflictError takes no cause; the constraint is the whole story here.
        throw new ConflictError(`cannot retry run ${id}: another active run holds its unique key (${error.constraint ?? 'runs_unique_active'})`)
      }
      throw error
    }
  }

  async deleteRun(id: string, now: number): Promise<Run | undefined> {
    const db = await this.#db()
    const [row] = await this.#query<RunRow>(
      db,
      `UPDATE ${this.#t.runs} SET deleted_at = $2, updated_at = $2,
         finished_at = CASE WHEN status = 'pending' THEN $2 ELSE finished_at END,
         error = CASE WHEN status = 'pending' THEN $3::json ELSE error END,
         cancel_requested_at = CASE WHEN status IN ${ACTIVE} THEN coalesce(cancel_requested_at, $2) ELSE cancel_requested_at END,
         cancel_reason = CASE WHEN status IN ${ACTIVE} THEN coalesce(cancel_reason, 'deleted') ELSE cancel_reason END,
         status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${RUN_COLUMNS}`,
      [id, now, JSON.stringify(cancelledError('deleted'))],
    )
    return row === undefined ? undefined : toRun(row)
  }

  async putArtifact(artifact: ArtifactWrite): Promise<boolean> {
    const db = await this.#db()
    // FOR SHARE waits for a rescue or completion racing this write and re-checks the token on
    // the row's newest version: a stale worker stores nothing.
    const rows = await this.#query(
      db,
      `INSERT INTO ${this.#t.artifacts} (run_id, name, content_type, size, data, created_at)
       SELECT $1, $2, $3, $4, $5, $6 FROM ${this.#t.runs} WHERE id = $1 AND lease_token = $7 FOR SHARE
       ON CONFLICT (run_id, name) DO UPDATE SET content_type = excluded.content_type, size = excluded.size, data = excluded.data, created_at = excluded.created_at
       RETURNING run_id`,
      [artifact.runId, artifact.name, artifact.contentType, artifact.data.length, artifact.data, artifact.now, artifact.token],
    )
    return rows.length > 0
  }

  async getArtifact(runId: string, name: string): Promise<ArtifactContent | undefined> {
    const db = await this.#db()
    const [row] = await this.#query<ArtifactRow & { data: Buffer }>(db, `SELECT run_id, name, content_type, size, created_at, data FROM ${this.#t.artifacts} WHERE run_id = $1 AND name = $2`, [runId, name])
    return row === undefined ? undefined : { ...toArtifact(row), data: row.data }
  }

  async listArtifacts(runId: string): Promise<Artifact[]> {
    const db = await this.#db()
    const rows = await this.#query<ArtifactRow>(db, `SELECT run_id, name, content_type, size, created_at FROM ${this.#t.artifacts} WHERE run_id = $1 ORDER BY name`, [runId])
    return rows.map(toArtifact)
  }

  async createPool(pool: { readonly id: string; readonly parentRunId: string | null; readonly parentPoolId: string | null; readonly label: string | null; readonly now: number }): Promise<Pool> {
    const db = await this.#db()
    const [row] = await this.#query<PoolRow>(
      db,
      `INSERT INTO ${this.#t.pools} (id, parent_run_id, parent_pool_id, root_id, label, created_at)
       VALUES ($1, $2, $3::text, coalesce((SELECT root_id FROM ${this.#t.pools} WHERE id = $3::text), $1), $4, $5) RETURNING ${POOL_COLUMNS}`,
      [pool.id, pool.parentRunId, pool.parentPoolId, pool.label, pool.now],
    )
    return toPool(row!)
  }

  async closePool(id: string, now: number): Promise<void> {
    const db = await this.#db()
    await this.#query(db, `UPDATE ${this.#t.pools} SET closed_at = coalesce(closed_at, $1) WHERE id = $2`, [now, id])
  }

  async getPool(id: string): Promise<Pool | undefined> {
    const db = await this.#db()
    const [row] = await this.#query<PoolRow>(db, `SELECT ${POOL_COLUMNS} FROM ${this.#t.pools} WHERE id = $1`, [id])
    return row === undefined ? undefined : toPool(row)
  }

  async poolsOfRun(runId: string): Promise<Pool[]> {
    const db = await this.#db()
    const rows = await this.#query<PoolRow>(db, `SELECT ${POOL_COLUMNS} FROM ${this.#t.pools} WHERE parent_run_id = $1 ORDER BY created_at`, [runId])
    return rows.map(toPool)
  }

  #treeSql(param: string): string {
    return `WITH RECURSIVE tree(id) AS (
      SELECT id FROM ${this.#t.pools} WHERE id = ${param} UNION SELECT p.id FROM ${this.#t.pools} p JOIN tree t ON p.parent_pool_id = t.id
    )`
  }

  async poolTree(id: string): Promise<string[]> {
    const db = await this.#db()
    const rows = await this.#query<{ id: string }>(db, `${this.#treeSql('$1')} SELECT id FROM tree`, [id])
    return rows.map((r) => r.id)
  }

  async poolCounts(id: string, options: { readonly tree?: boolean } = {}): Promise<PoolCounts> {
    const db = await this.#db()
    const tree = options.tree === true
    // A progress snapshot holding a `\u0000` escape makes JSON functions fail: count it as 0.
    const rows = await this.#query<{ status: string; n: number; progress: number | null; first: number | null; last: number | null }>(
      db,
      `${tree ? this.#treeSql('$1') : ''}
       SELECT status, count(*) AS n,
         sum(CASE WHEN progress IS NULL OR strpos(progress::text, '\\u0000') > 0 THEN 0 ELSE coalesce((progress->>'percent')::float8, 0) END) AS progress,
         min(created_at) AS first, max(finished_at) AS last
       FROM ${this.#t.runs} WHERE ${tree ? 'pool_id IN (SELECT id FROM tree)' : 'pool_id = $1'} AND deleted_at IS NULL GROUP BY status`,
      [id],
    )
    return countsFrom(rows)
  }

  async stats(now: number): Promise<StoreStats> {
    const db = await this.#db()
    const t = this.#t
    // Index reads instead of a scan of every run: pending runs (never deleted: deleting a pending
    // run cancels it), running and waiting ones, and an index-only scan of the finished ones.
    const [pending, running, finished] = await Promise.all([
      this.#query<{ queue: string; n: number; oldest: number | null; next: number | null }>(
        db,
        `SELECT queue, count(*) AS n, min(CASE WHEN run_at <= $1 THEN run_at END) AS oldest, min(run_at) AS next FROM ${t.runs} WHERE status = 'pending' GROUP BY queue`,
        [now],
      ),
      this.#query<{ queue: string; status: 'running' | 'waiting'; live: boolean; n: number }>(
        db,
        `SELECT queue, status, deleted_at IS NULL AS live, count(*) AS n FROM ${t.runs} WHERE status IN ('running', 'waiting') GROUP BY queue, status, live`,
        [],
      ),
      this.#query<{ succeeded: number; failed: number; cancelled: number }>(
        db,
        `SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded, count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled
         FROM ${t.runs} WHERE finished_at IS NOT NULL AND deleted_at IS NULL`,
        [],
      ),
    ])
    const statuses = Object.fromEntries(RUN_STATES.map((state) => [state, 0])) as Record<RunState, number>
    const queues = new Map<string, { queue: string; pending: number; running: number; oldestPendingAt: Date | null; nextDueAt: Date | null }>()
    const entry = (queue: string): { queue: string; pending: number; running: number; oldestPendingAt: Date | null; nextDueAt: Date | null } => {
      let q = queues.get(queue)
      if (q === undefined) queues.set(queue, (q = { queue, pending: 0, running: 0, oldestPendingAt: null, nextDueAt: null }))
      return q
    }
    for (const row of pending) {
      const q = entry(row.queue)
      q.pending = row.n
      q.oldestPendingAt = row.oldest === null ? null : new Date(row.oldest)
      q.nextDueAt = row.next === null ? null : new Date(row.next)
      statuses.pending += row.n
    }
    for (const row of running) {
      entry(row.queue).running += row.n
      if (row.live) statuses[row.status] += row.n
    }
    statuses.succeeded = Number(finished[0]?.succeeded ?? 0)
    statuses.failed = Number(finished[0]?.failed ?? 0)
    statuses.cancelled = Number(finished[0]?.cancelled ?? 0)
    return { statuses, queues: [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1)) }
  }

  async throughput(since: number, until: number, bucketMs: number): Promise<ThroughputBucket[]> {
    const db = await this.#db()
    // An index-only range scan of runs_finished, hashed per bucket. BIGINT division truncates,
    // which is floor here: finished_at >= since.
    const rows = await this.#query<{ b: number; succeeded: number; failed: number; cancelled: number }>(
      db,
      `SELECT (finished_at - $1::int8) / $3::int8 AS b, count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status = 'failed') AS failed, count(*) FILTER (WHERE status = 'cancelled') AS cancelled
       FROM ${this.#t.runs} WHERE finished_at >= $1::int8 AND finished_at < $2::int8 AND deleted_at IS NULL GROUP BY b`,
      [since, until, bucketMs],
    )
    const counts = rows.flatMap((row) =>
      (['succeeded', 'failed', 'cancelled'] as const).filter((status) => Number(row[status]) > 0).map((status) => ({ b: row.b, status, n: row[status] })),
    )
    return bucketsFrom(counts, since, until, bucketMs)
  }

  async saveWorker(worker: Omit<WorkerInfo, 'startedAt' | 'heartbeatAt'> & { readonly startedAt: number; readonly heartbeatAt: number }): Promise<void> {
    const db = await this.#db()
    await this.#query(
      db,
      `INSERT INTO ${this.#t.workers} (id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer)
       VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8::json, $9, $10, $11)
       ON CONFLICT (id) DO UPDATE SET concurrency = excluded.concurrency, busy = excluded.busy, queues = excluded.queues,
         tasks = excluded.tasks, running = excluded.running, heartbeat_at = excluded.heartbeat_at, observer = excluded.observer`,
      [
        worker.id,
        worker.host,
        worker.pid,
        worker.concurrency,
        worker.busy,
        worker.queues === null ? null : JSON.stringify(worker.queues),
        JSON.stringify(worker.tasks),
        JSON.stringify(worker.running),
        worker.startedAt,
        worker.heartbeatAt,
        worker.observer,
      ],
    )
  }

  async removeWorker(id: string): Promise<void> {
    const db = await this.#db()
    await this.#query(db, `DELETE FROM ${this.#t.workers} WHERE id = $1`, [id])
  }

  async listWorkers(since: number): Promise<WorkerInfo[]> {
    const db = await this.#db()
    const rows = await this.#query<WorkerRow>(db, `SELECT ${WORKER_COLUMNS} FROM ${this.#t.workers} WHERE heartbeat_at >= $1 ORDER BY started_at`, [since])
    return rows.map(toWorker)
  }

  async initSchedule(init: ScheduleInit): Promise<ScheduleState> {
    const db = await this.#db()
    const t = this.#t.schedules
    const [row] = await this.#query<ScheduleRow>(
      db,
      `WITH ins AS (
         INSERT INTO ${t} (id, enabled, last_tick_at, next_tick_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (id) DO NOTHING RETURNING ${SCHEDULE_COLUMNS}
       )
       SELECT * FROM ins UNION ALL SELECT ${SCHEDULE_COLUMNS} FROM ${t} WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [init.id, init.enabled, init.since, init.nextTickAt, init.now],
    )
    return toScheduleState(row!)
  }

  async listSchedules(): Promise<ScheduleState[]> {
    const db = await this.#db()
    return (await this.#query<ScheduleRow>(db, `SELECT ${SCHEDULE_COLUMNS} FROM ${this.#t.schedules} ORDER BY id`, [])).map(toScheduleState)
  }

  async setScheduleEnabled(id: string, enabled: boolean, now: number): Promise<ScheduleState | undefined> {
    const db = await this.#db()
    const [row] = await this.#query<ScheduleRow>(
      db,
      `UPDATE ${this.#t.schedules} SET enabled = $2, updated_at = $3,
         last_tick_at = CASE WHEN $2 AND NOT enabled THEN greatest(coalesce(last_tick_at, 0), $3) ELSE last_tick_at END
       WHERE id = $1 RETURNING ${SCHEDULE_COLUMNS}`,
      [id, enabled, now],
    )
    return row === undefined ? undefined : toScheduleState(row)
  }

  async fireSchedule(fire: ScheduleFire): Promise<FireOutcome> {
    await this.#db()
    const run = fire.run
    const outcome = await this.#transaction(async (client) => {
      // The row lock orders processes taking the same tick: the second sees the first's tick.
      const { rowCount } = await client.query({
        text: `UPDATE ${this.#t.schedules} SET last_tick_at = $2, next_tick_at = $3, updated_at = $4, last_run_id = coalesce($5, last_run_id)
          WHERE id = $1 AND (last_tick_at IS NULL OR last_tick_at < $2)`,
        values: [fire.id, fire.tickAt, fire.nextTickAt, fire.now, run?.id ?? null],
      })
      if (rowCount === 0) return { fired: false }
      if (run === null) return { fired: true }
      const [insert] = await this.insertRuns([run], { client })
      return { fired: true, insert: insert! }
    })
    if (outcome.insert?.created === true) this.#notify()
    return outcome
  }

  async getSettings(): Promise<Record<string, unknown>> {
    const db = await this.#db()
    const rows = await this.#query<{ key: string; value: string }>(db, `SELECT key, value FROM ${this.#t.settings}`, [])
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]))
  }

  async saveSettings(values: Readonly<Record<string, unknown>>, now: number): Promise<void> {
    const db = await this.#db()
    const entries = Object.entries(values)
    if (entries.length === 0) return
    await this.#query(
      db,
      `INSERT INTO ${this.#t.settings} (key, value, updated_at) SELECT k, v::json, $3 FROM unnest($1::text[], $2::text[]) AS u(k, v)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [entries.map(([k]) => k), entries.map(([, v]) => JSON.stringify(v)), now],
    )
  }

  async purgeRuns(before: number, limit: number): Promise<string[]> {
    await this.#db()
    const t = this.#t
    return this.#transaction(async (client) => {
      // Oldest first by id (ids sort by creation time): old finished runs come first.
      const { rows } = await client.query<{ id: string }>({
        text: `DELETE FROM ${t.runs} WHERE id IN (
            SELECT id FROM ${t.runs}
            WHERE (status IN ('succeeded', 'failed', 'cancelled') AND finished_at < $1) OR deleted_at < $1
            ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING id`,
        values: [before, limit],
      })
      const ids = rows.map((r) => r.id)
      if (ids.length > 0) {
        await client.query({ text: `DELETE FROM ${t.logs} WHERE run_id = ANY($1::text[])`, values: [ids] })
        await client.query({ text: `DELETE FROM ${t.artifacts} WHERE run_id = ANY($1::text[])`, values: [ids] })
      }
      return ids
    })
  }

  async purgePools(before: number, limit: number): Promise<number> {
    const db = await this.#db()
    const t = this.#t
    const rows = await this.#query<{ n: number }>(
      db,
      `WITH gone AS (
         DELETE FROM ${t.pools} WHERE id IN (
           SELECT p.id FROM ${t.pools} p WHERE p.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM ${t.runs} r WHERE r.pool_id = p.id)
             AND NOT EXISTS (SELECT 1 FROM ${t.pools} c WHERE c.parent_pool_id = p.id)
           LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [before, limit],
    )
    return Number(rows[0]?.n ?? 0)
  }

  async countPurgeable(runsBefore: number | null, logsBefore: number | null): Promise<{ runs: number; logLines: number }> {
    const db = await this.#db()
    const t = this.#t
    const [runs, logs] = await Promise.all([
      runsBefore === null
        ? undefined
        : this.#query<{ n: number }>(db, `SELECT count(*) AS n FROM ${t.runs} WHERE (status IN ('succeeded', 'failed', 'cancelled') AND finished_at < $1) OR deleted_at < $1`, [runsBefore]),
      logsBefore === null
        ? undefined
        : this.#query<{ n: number }>(
            db,
            `SELECT count(*) AS n FROM ${t.runs} r JOIN ${t.logs} l ON l.run_id = r.id
             WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < $1 AND ($2::int8 IS NULL OR r.finished_at >= $2::int8)`,
            [logsBefore, runsBefore],
          ),
    ])
    return { runs: Number(runs?.[0]?.n ?? 0), logLines: Number(logs?.[0]?.n ?? 0) }
  }

  async purgeLogs(before: number, limit: number): Promise<number> {
    const db = await this.#db()
    const t = this.#t
    const rows = await this.#query<{ n: number }>(
      db,
      `WITH gone AS (
         DELETE FROM ${t.logs} WHERE (run_id, seq) IN (
           SELECT l.run_id, l.seq FROM ${t.runs} r JOIN ${t.logs} l ON l.run_id = r.id
           WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < $1 LIMIT $2)
         RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [before, limit],
    )
    return Number(rows[0]?.n ?? 0)
  }
}

const SCHEDULE_COLUMNS = 'id, enabled, last_tick_at, last_run_id, next_tick_at, updated_at'

interface ScheduleRow {
  id: string
  enabled: boolean
  last_tick_at: number | null
  last_run_id: string | null
  next_tick_at: number | null
  updated_at: number
}

function toScheduleState(row: ScheduleRow): ScheduleState {
  return { id: row.id, enabled: row.enabled, lastTickAt: row.last_tick_at, lastRunId: row.last_run_id, nextTickAt: row.next_tick_at, updatedAt: row.updated_at }
}

/** First key of the maintenance leader lock (`'lead'` in ASCII); the second is a hash of the schema name. */
const LEADER_LOCK_CLASS = 0x6c656164
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7800

/**
 * A signal as NOTIFY payloads: one normally; events split over several when they do not fit,
 * and an event that cannot fit on its own is left out (watchers catch up from the store).
 */
/**
 * The channel (after the schema name) a kind of signal travels on: run events, which can be many,
 * on their own, so that only live views listen to them; control messages (cancels, observers
 * arriving), which every worker hears, on one connection.
 */
type SignalChannel = 'events' | 'control'
function signalChannel(type: StoreSignal['type']): SignalChannel {
  return type === 'events' ? 'events' : 'control'
}

export function signalPayloads(message: StoreSignal): string[] {
  const whole = JSON.stringify(message)
  if (Buffer.byteLength(whole) <= MAX_PAYLOAD) return [whole]
  if (message.type === 'observing' || message.type === 'settings') return []
  if (message.type === 'cancel') {
    return message.ids.length <= 1 ? [] : chunk(message.ids).flatMap((ids) => signalPayloads({ ...message, ids }))
  }
  const payloads: string[] = []
  let batch: unknown[] = []
  const flush = (): void => {
    if (batch.length > 0) payloads.push(JSON.stringify({ type: 'events', origin: message.origin, events: batch }))
    batch = []
  }
  for (const event of message.events) {
    const size = Buffer.byteLength(JSON.stringify(event))
    if (size > MAX_PAYLOAD - 200) continue
    if (Buffer.byteLength(JSON.stringify({ type: 'events', origin: message.origin, events: [...batch, event] })) > MAX_PAYLOAD) flush()
    batch.push(event)
  }
  flush()
  return payloads
}

function chunk<T>(items: readonly T[]): T[][] {
  const half = Math.ceil(items.length / 2)
  return [items.slice(0, half), items.slice(half)]
}

/** Whether `error` came from the server about a statement (the connection is still usable). */
function isStatementError(error: unknown): boolean {
  return error instanceof pg.DatabaseError && !/^(08|57P)/.test(error.code ?? '') && error.severity !== 'FATAL' && error.severity !== 'PANIC'
}

/** PostgreSQL text cannot hold NUL characters; a log line keeps its place with U+FFFD instead. */
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

function tagsJson(tags: readonly string[]): string {
  return tags.length === 0 ? '[]' : JSON.stringify(tags)
}

/**
 * Batches lock their runs in id order (the arrays drive nested-loop joins; a batch of several
 * statements locks all its runs first), so two batches over the same runs, say a heartbeat and a
 * batch of one worker, queue on each other instead of deadlocking.
 */
function byId(a: Fenced, b: Fenced): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** The last write per (run, token), in first-seen order. */
function lastPerKey<T extends Fenced>(writes: readonly T[]): T[] {
  if (writes.length < 2) return [...writes]
  const byKey = new Map<string, T>()
  for (const write of writes) byKey.set(keyOf(write), write)
  return byKey.size === writes.length ? [...writes] : [...byKey.values()]
}

/** The first write per (run, token): a completion or a release ends the token, so a second one is fenced. */
function firstPerKey<T extends Fenced>(writes: readonly T[]): T[] {
  if (writes.length < 2) return [...writes]
  const byKey = new Map<string, T>()
  for (const write of writes) if (!byKey.has(keyOf(write))) byKey.set(keyOf(write), write)
  return byKey.size === writes.length ? [...writes] : [...byKey.values()]
}



