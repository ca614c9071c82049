/* eslint-disable @typescript-eslint/require-await -- the Store contract is asynchronous (PostgreSQL); here the work is synchronous, and `async` turns its throws into rejections. */
/**
 * The embedded store: one SQLite file (or memory) through better-sqlite3.
 *
 * better-sqlite3 is synchronous, so every method does its work at once and returns a settled
 * promise. Write transactions are IMMEDIATE: they take the write lock up front, so processes
 * sharing one file queue on `busy_timeout` instead of failing on a lock upgrade, and a claim is
 * atomic across them.
 */
import Database, { SqliteError } from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { ConflictError, ValidationError } from '../../errors.js'
import type { LogEntry } from '../../task/context.js'
import { ClaimPlan, limitsBind } from '../claim-plan.js'
import { EXPIRED_COLUMNS, bucketsFrom, countsFrom, groupRuns, toClaimedRun, toExpiredRun, type ClaimRow, type ExpiredRow } from '../shared.js'
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
  StoreStats,
  ThroughputBucket,
  WakeListener,
  WorkerInfo,
  WriteBatch,
} from '../types.js'
import { RUN_STATES } from '../types.js'
import { SQLITE_MIGRATIONS } from './migrations.js'

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `normal` (default): with WAL, a committed transaction survives a process kill; a power loss
   * may lose the last transactions before the OS wrote them out, never corrupting the file.
   * `full`: fsync at every commit; survives power loss too, at a cost in write speed.
   */
  readonly synchronous?: 'normal' | 'full'
  /** How long a write waits for another process holding the lock, in ms. Default: 5000. */
  readonly busyTimeoutMs?: number
}

type Row = Record<string, unknown>

const ACTIVE = `('pending', 'running', 'waiting')`
// Claims walk the partial index of pending runs in claim order; without the hint the planner
// prefers runs_status and sorts every pending run on each claim.
const CLAIM_ORDER = 'ORDER BY priority DESC, run_at, seq'
// One token per claim: a run is in one claim at a time, so the claim's token fences its writes.
// The claim records the attempt as started for runs with attempts left (the worker may call their
// handlers at once); a run on its last attempt gets no start time until its worker stores one
// before calling the handler (see attemptsLeftAfter in types.ts: the same rule, read here on
// the row before its attempt goes up).
const CLAIM_SET = `status = 'running', attempt = attempt + 1,
  started_at = CASE WHEN attempt + 1 - attempt_base < max_attempts THEN @now END, updated_at = @now, worker_id = @worker,
  lease_token = @token, lease_expires_at = @leaseUntil`
// Claims return rows as arrays (better-sqlite3's raw mode): building an object per row costs
// more than the update itself. The order here is the order of ClaimRow.
const CLAIM_RETURNING = 'id, task, label, queue, pool_id, args, tags, attempt, attempt_base, max_attempts, backoff, timeout_ms, log_count'
const CANCELLED_ERROR_JSON = JSON.stringify(cancelledError(null))
/** SQL appending a JSON object (text) to the `attempts` array without parsing it. */
const APPEND_ATTEMPT = (value: string): string =>
  `CASE WHEN attempts = '[]' THEN '[' || ${value} || ']' ELSE substr(attempts, 1, length(attempts) - 1) || ',' || ${value} || ']' END`
/** The run's current attempt as a stored attempt object (SQL), for when it must join the list. */
const CURRENT_ATTEMPT_JSON = `json_object('number', attempt, 'workerId', worker_id, 'startedAt', started_at, 'finishedAt', finished_at, 'outcome', status, 'error', json(error))`
const CLAIMABLE = `status = 'pending' AND run_at <= @now AND (not_after IS NULL OR not_after > @now)
  AND task IN (SELECT value FROM json_each(@tasks))`

/** Opens (creating if needed) a SQLite store at `path`; `:memory:` for a private in-memory one. */
export function sqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, options)
}

/** The SQLite implementation of {@link Store}. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite'
  /** The file path, or `:memory:`. */
  readonly path: string
  readonly #db: Database.Database
  readonly #wake = new Set<WakeListener>()
  readonly #statements = new Map<string, Database.Statement>()
  #closed = false

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true })
    this.#db = new Database(path)
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
    if (path !== ':memory:') this.#db.pragma('journal_mode = WAL')
    this.#db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    this.#db.pragma('temp_store = MEMORY')
    this.#db.pragma('cache_size = -32000')
    // Claims and completions rewrite the same pages again and again; checkpointing every 16 MB
    // of WAL instead of every 4 MB writes each page back once instead of several times.
    this.#db.pragma('wal_autocheckpoint = 4000')
    this.#db.pragma('journal_size_limit = 67108864')
    this.#migrate()
  }

  async ready(): Promise<void> {
    return
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#db.close()
    }
    return
  }

  /** The underlying better-sqlite3 handle (for tests and diagnostics). */
  get database(): Database.Database {
    return this.#db
  }

  #migrate(): void {
    this.#db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
    this.#db
      .transaction(() => {
        const applied = new Set((this.#db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version))
        for (const migration of SQLITE_MIGRATIONS) {
          if (applied.has(migration.version)) continue
          this.#db.exec(migration.sql)
          this.#db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now())
        }
      })
      .immediate()
  }

  #stmt(sql: string): Database.Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** A cached statement in raw mode (rows as arrays). */
  #raw(sql: string): Database.Statement {
    const key = `raw:${sql}`
    let statement = this.#statements.get(key)
    if (statement === undefined) {
      statement = this.#db.prepare(sql).raw(true)
      this.#statements.set(key, statement)
    }
    return statement
  }

  #write<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate()
  }

  #notify(): void {
    if (this.#wake.size === 0) return
    queueMicrotask(() => {
      for (const listener of this.#wake) listener()
    })
  }

  onRunsAvailable(listener: WakeListener): () => void {
    this.#wake.add(listener)
    return () => {
      this.#wake.delete(listener)
    }
  }

  async insertRuns(runs: readonly NewRun[], options: InsertOptions = {}): Promise<InsertOutcome[]> {
    if (options.client !== undefined) throw new ValidationError('client: the SQLite store has no client connections; enqueue without `client`')
    if (runs.length === 0) return []
    const inserted = this.#write(() => this.#insert(runs))
    return this.#inserted(runs, inserted)
  }

  /** Inserts rows (inside a transaction); returns the ids inserted, or `undefined` when no row has a unique or fire key (all were). */
  #insert(runs: readonly NewRun[]): Set<string> | undefined {
    // Rows of one enqueueMany share everything but id, arguments and keys: the shared values go
    // once per statement as named parameters, the varying ones as positional parameters of a
    // multi-row VALUES (measured: ~40% faster than one JSON array expanded by json_each, whose
    // per-row extractions cost more than binding). Rows without hash or keys bind two values.
    const hasUnique = runs.some((r) => r.uniqueKey !== null || (r.fireKey ?? null) !== null)
    const inserted = new Set<string>()
    for (const { shared, rows } of groupRuns(runs)) {
      const params = {
        task: shared.task,
        label: shared.label,
        queue: shared.queue,
        priority: shared.priority,
        tags: shared.tags.length === 0 ? '[]' : JSON.stringify(shared.tags),
        category: shared.category,
        createdBy: shared.createdBy,
        parentId: shared.parentId,
        poolId: shared.poolId,
        scheduleId: shared.scheduleId,
        maxAttempts: shared.maxAttempts,
        backoff: shared.backoff === null ? null : JSON.stringify(shared.backoff),
        timeoutMs: shared.timeoutMs,
        runAt: shared.runAt,
        notAfter: shared.notAfter,
        createdAt: shared.createdAt,
      }
      const keyed = hasUnique || rows.some((r) => r.argsHash !== null)
      const width = keyed ? 5 : 2
      for (let at = 0; at < rows.length; ) {
        const count = chunkSize(rows.length - at)
        const values = new Array<unknown>(count * width)
        for (let i = 0, v = 0; i < count; i++) {
          const r = rows[at + i]!
          values[v++] = r.id
          values[v++] = r.args
          if (keyed) {
            values[v++] = r.argsHash
            values[v++] = r.uniqueKey
            values[v++] = r.fireKey ?? null
          }
        }
        at += count
        const statement = this.#insertStatement(count, keyed, hasUnique)
        if (hasUnique) for (const id of statement.all(values, params) as string[]) inserted.add(id)
        else statement.run(values, params)
      }
    }
    return hasUnique ? inserted : undefined
  }

  /** The INSERT of `count` rows, binding id and arguments (and with `keyed`, hash, unique and fire key) per row. */
  #insertStatement(count: number, keyed: boolean, returning: boolean): Database.Statement {
    const key = `insert:${count}:${keyed}:${returning}`
    let statement = this.#statements.get(key)
    if (statement === undefined) {
      const row = `(?, ?, ${keyed ? '?, ?, ?' : 'NULL, NULL, NULL'}, 'pending', @task, @label, @queue, @priority, @tags, @category, @createdBy, @parentId,
        @poolId, @scheduleId, @maxAttempts, @backoff, @timeoutMs, @runAt, @notAfter, @createdAt, @createdAt, @createdAt)`
      const sql = `INSERT INTO runs (id, args, args_hash, unique_key, fire_key, status, task, label, queue, priority, tags, category, created_by, parent_id, pool_id,
          schedule_id, max_attempts, backoff, timeout_ms, run_at, not_after, created_at, enqueued_at, updated_at)
        VALUES ${Array.from({ length: count }, () => row).join(', ')} ON CONFLICT DO NOTHING${returning ? ' RETURNING id' : ''}`
      statement = this.#db.prepare(sql)
      if (returning) statement.pluck()
      this.#statements.set(key, statement)
    }
    return statement
  }

  /** The outcomes of an insert (after its transaction), waking workers when runs were added. */
  #inserted(runs: readonly NewRun[], inserted: Set<string> | undefined): InsertOutcome[] {
    if (inserted === undefined) {
      this.#notify()
      return runsFromNew(runs).map((run) => ({ run, created: true }))
    }
    const byKey = this.#stmt(`SELECT * FROM runs WHERE unique_key = ? AND status IN ${ACTIVE}`)
    const byFireKey = this.#stmt('SELECT * FROM runs WHERE fire_key = ?')
    const outcomes = runs.map((r) => {
      if (inserted.has(r.id)) return { run: runFromNew(r), created: true }
      const holder = ((r.fireKey ?? null) === null ? undefined : byFireKey.get(r.fireKey)) ?? byKey.get(r.uniqueKey)
      if (holder === undefined) throw new ConflictError(`run ${r.id} was not inserted and no run holds its fire key or unique key ${String(r.uniqueKey)}`)
      return { run: toRun(holder as RunRow), created: false }
    })
    if (inserted.size > 0) this.#notify()
    return outcomes
  }

  async findReusable(task: string, argsHash: string, since: number): Promise<Run | undefined> {
    const row = this.#stmt(
      `SELECT * FROM runs WHERE task = ? AND args_hash = ? AND status = 'succeeded' AND finished_at >= ? AND deleted_at IS NULL
       ORDER BY finished_at DESC LIMIT 1`,
    ).get(task, argsHash, since) as RunRow | undefined
    return row === undefined ? undefined : toRun(row)
  }

  async claimRuns(request: ClaimRequest): Promise<ClaimedRun[]> {
    if (request.limit <= 0 || request.tasks.length === 0) return []
    return this.#write(() => this.#claim(request))
  }

  /** Claims inside the current transaction. */
  #claim(request: ClaimRequest): ClaimedRun[] {
    if (request.limit <= 0 || request.tasks.length === 0) return []
    const params = {
      now: request.now,
      leaseUntil: request.leaseUntil,
      worker: request.workerId,
      token: randomUUID(),
      tasks: JSON.stringify(request.tasks),
      queues: request.queues === undefined ? null : JSON.stringify(request.queues),
    }
    const queueFilter = request.queues === undefined ? '' : 'AND queue IN (SELECT value FROM json_each(@queues))'
    let claimed: ClaimRow[]
    if (!limitsBind(request)) {
      claimed = this.#raw(
        `UPDATE runs SET ${CLAIM_SET} WHERE seq IN (SELECT seq FROM runs INDEXED BY runs_pending WHERE ${CLAIMABLE} ${queueFilter} ${CLAIM_ORDER} LIMIT @limit) RETURNING ${CLAIM_RETURNING}`,
      ).all({ ...params, limit: request.limit }) as ClaimRow[]
    } else {
      const select = this.#stmt(
        `SELECT seq, task, queue FROM runs INDEXED BY runs_pending WHERE ${CLAIMABLE} ${queueFilter}
           AND task NOT IN (SELECT value FROM json_each(@fullTasks)) AND queue NOT IN (SELECT value FROM json_each(@fullQueues))
         ${CLAIM_ORDER} LIMIT @limit`,
      )
      const take = this.#raw(`UPDATE runs SET ${CLAIM_SET} WHERE seq IN (SELECT value FROM json_each(@seqs)) AND status = 'pending' RETURNING ${CLAIM_RETURNING}`)
      const plan = new ClaimPlan(request)
      claimed = []
      for (let round = plan.next(); round !== undefined; round = plan.next()) {
        const candidates = select.all({ ...params, limit: round.count, fullTasks: JSON.stringify(round.fullTasks), fullQueues: JSON.stringify(round.fullQueues) }) as {
          seq: number
          task: string
          queue: string
        }[]
        const accepted = plan.accept(candidates)
        if (accepted.length > 0) claimed.push(...(take.all({ ...params, seqs: JSON.stringify(accepted.map((c) => c.seq)) }) as ClaimRow[]))
      }
    }
    // All runs of one claim start at once, so their order among themselves does not matter.
    return claimed.map((row) => toClaimedRun(row, params.token))
  }

  async writeBatch(batch: WriteBatch): Promise<BatchOutcome> {
    const fenced = new Set<string>()
    let claimed: ClaimedRun[] | undefined
    this.#write(() => {
      if (batch.logs.length > 0) {
        this.#stmt(
          `INSERT OR IGNORE INTO logs (run_id, seq, time, level, message)
           SELECT v.value->>0, v.value->>1, v.value->>2, v.value->>3, v.value->>4 FROM json_each(?) v
           JOIN runs r ON r.id = v.value->>0 AND r.lease_token = v.value->>5`,
        ).run(JSON.stringify(batch.logs.map((l) => [l.runId, l.seq, l.time, l.level, l.message, l.token])))
        const count = this.#stmt('UPDATE runs SET log_count = (SELECT coalesce(max(seq), 0) FROM logs WHERE run_id = ?) WHERE id = ?')
        for (const id of new Set(batch.logs.map((l) => l.runId))) count.run(id, id)
      }
      if (batch.logCounts !== undefined && batch.logCounts.length > 0) {
        const count = this.#stmt('UPDATE runs SET log_count = max(log_count, ?) WHERE id = ? AND lease_token = ?')
        for (const c of batch.logCounts) count.run(c.count, c.id, c.token)
      }
      if (batch.progress.length > 0) {
        const save = this.#stmt('UPDATE runs SET progress = ?, tags = ?, updated_at = ? WHERE id = ? AND lease_token = ?')
        const now = Date.now()
        for (const p of batch.progress) if (save.run(JSON.stringify(p.progress), JSON.stringify(p.tags), now, p.id, p.token).changes === 0) fenced.add(p.id)
      }
      if (batch.holds !== undefined && batch.holds.length > 0) {
        const hold = this.#stmt('UPDATE runs SET started_at = NULL WHERE id = ? AND lease_token = ?')
        for (const h of batch.holds) if (hold.run(h.id, h.token).changes === 0) fenced.add(h.id)
      }
      if (batch.starts !== undefined && batch.starts.length > 0) {
        const start = this.#stmt('UPDATE runs SET started_at = ? WHERE id = ? AND lease_token = ?')
        for (const st of batch.starts) if (start.run(st.startedAt, st.id, st.token).changes === 0) fenced.add(st.id)
      }
      if (batch.waits.length > 0) {
        const wait = this.#stmt(`UPDATE runs SET status = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND status IN ('running', 'waiting')`)
        const now = Date.now()
        for (const w of batch.waits) if (wait.run(w.waiting ? 'waiting' : 'running', now, w.id, w.token).changes === 0) fenced.add(w.id)
      }
      if (batch.completions.length > 0) {
        // Final outcomes leave the attempt list alone: the last attempt is read from the run's
        // own columns (see rows.ts), which keeps the hot path free of JSON work.
        const finish = this.#stmt(
          `UPDATE runs SET status = ?, started_at = ?, finished_at = ?, updated_at = ?, data = ?, error = ?, progress = ?, tags = ?,
             lease_token = NULL, lease_expires_at = NULL
           WHERE id = ? AND lease_token = ?`,
        )
        // A cancel requested elsewhere wins over a retry the worker decided before it heard of it.
        const retry = this.#stmt(
          `UPDATE runs SET
             status = CASE WHEN cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
             finished_at = CASE WHEN cancel_requested_at IS NOT NULL THEN @finishedAt END,
             error = CASE WHEN cancel_requested_at IS NOT NULL THEN @cancelError ELSE @error END,
             run_at = @runAt, started_at = @startedAt, progress = @progress, tags = @tags,
             attempts = ${APPEND_ATTEMPT('@attempt')},
             attempt_base = attempt_base + @refund,
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = @finishedAt
           WHERE id = @id AND lease_token = @token`,
        )
        for (const c of batch.completions) {
          const progress = c.progress === null ? null : JSON.stringify(c.progress)
          const tags = c.tags.length === 0 ? '[]' : JSON.stringify(c.tags)
          const error = c.error === null ? null : JSON.stringify(c.error)
          const changes =
            c.status === 'pending'
              ? retry.run({
                  finishedAt: c.finishedAt,
                  cancelError: CANCELLED_ERROR_JSON,
                  error,
                  runAt: c.runAt ?? c.finishedAt,
                  startedAt: c.attempt.startedAt.getTime(),
                  progress,
                  tags,
                  attempt: attemptJson(c.attempt),
                  refund: c.refundAttempt === true ? 1 : 0,
                  id: c.id,
                  token: c.token,
                }).changes
              : finish.run(c.status, c.attempt.startedAt.getTime(), c.finishedAt, c.finishedAt, c.data ?? null, error, progress, tags, c.id, c.token).changes
          if (changes === 0) fenced.add(c.id)
        }
      }
      if (batch.releases !== undefined && batch.releases.length > 0) {
        // As if never claimed: the attempt number goes back and the history stays as it was.
        const release = this.#stmt(
          `UPDATE runs SET
             status = CASE WHEN @cancel = 1 OR cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
             finished_at = CASE WHEN @cancel = 1 OR cancel_requested_at IS NOT NULL THEN @at END,
             error = CASE WHEN @cancel = 1 THEN @error WHEN cancel_requested_at IS NOT NULL THEN @cancelError ELSE error END,
             attempt = attempt - 1, started_at = NULL, lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = @at
           WHERE id = @id AND lease_token = @token`,
        )
        for (const r of batch.releases) {
          const error = r.error === null ? CANCELLED_ERROR_JSON : JSON.stringify(r.error)
          if (release.run({ cancel: r.status === 'cancelled' ? 1 : 0, at: r.at, error, cancelError: CANCELLED_ERROR_JSON, id: r.id, token: r.token }).changes === 0) fenced.add(r.id)
        }
      }
      if (batch.claim !== undefined) claimed = this.#claim(batch.claim)
    })
    if (batch.completions.some((c) => c.status === 'pending') || (batch.releases ?? []).some((r) => r.status === 'pending')) this.#notify()
    return claimed === undefined ? { fenced: [...fenced] } : { fenced: [...fenced], claimed }
  }

  async renewLeases(_workerId: string, leases: readonly Lease[], leaseUntil: number): Promise<RenewOutcome> {
    const cancelRequested: { id: string; reason: string | null }[] = []
    const lost: string[] = []
    if (leases.length === 0) return { cancelRequested, lost }
    const renew = this.#stmt(
      `UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_token = ? AND status IN ('running', 'waiting')
       RETURNING cancel_requested_at, cancel_reason`,
    )
    this.#write(() => {
      for (const lease of leases) {
        const row = renew.get(leaseUntil, lease.id, lease.token) as { cancel_requested_at: number | null; cancel_reason: string | null } | undefined
        if (row === undefined) lost.push(lease.id)
        else if (row.cancel_requested_at !== null) cancelRequested.push({ id: lease.id, reason: row.cancel_reason })
      }
    })
    return { cancelRequested, lost }
  }

  async expiredLeases(now: number, limit: number): Promise<ExpiredRun[]> {
    const rows = this.#stmt(
      `SELECT ${EXPIRED_COLUMNS} FROM runs INDEXED BY runs_leased
       WHERE status IN ('running', 'waiting') AND lease_expires_at < ? ORDER BY lease_expires_at LIMIT ?`,
    ).all(now, limit) as ExpiredRow[]
    return rows.map(toExpiredRun)
  }

  async rescueRuns(writes: readonly RescueWrite[]): Promise<Run[]> {
    if (writes.length === 0) return []
    // A counted attempt joins the history; one that never reached its handler is taken back, as
    // if never claimed. A cancel requested since the rescuer read the run wins over `pending`.
    const rescue = this.#stmt(
      `UPDATE runs SET
         status = CASE WHEN @status = 'pending' AND cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE @status END,
         error = CASE WHEN @status = 'pending' AND cancel_requested_at IS NOT NULL THEN @cancelError
                      WHEN @status = 'pending' AND @counted = 0 THEN error ELSE @error END,
         finished_at = CASE WHEN @status = 'pending' AND cancel_requested_at IS NULL THEN NULL ELSE @at END,
         run_at = CASE WHEN @status = 'pending' AND @counted = 1 THEN @runAt ELSE run_at END,
         attempt = attempt - 1 + @counted,
         started_at = CASE WHEN @counted = 1 THEN started_at END,
         attempts = CASE WHEN @counted = 1 THEN ${APPEND_ATTEMPT('@attempt')} ELSE attempts END,
         lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = @at
       WHERE id = @id AND lease_token = @token AND status IN ('running', 'waiting')
       RETURNING *`,
    )
    const cancelError = JSON.stringify(cancelledError('worker lost while cancelling'))
    const rows = this.#write(() => {
      const written: RunRow[] = []
      for (const w of writes) {
        const row = rescue.get({
          status: w.status,
          error: w.error === null ? null : JSON.stringify(w.error),
          cancelError,
          at: w.at,
          runAt: w.runAt ?? w.at,
          counted: w.attempt === null ? 0 : 1,
          attempt: w.attempt === null ? null : attemptJson(w.attempt),
          id: w.id,
          token: w.token,
        }) as RunRow | undefined
        if (row !== undefined) written.push(row)
      }
      return written
    })
    const runs = rows.map(toRun)
    if (runs.some((r) => r.status === 'pending')) this.#notify()
    return runs
  }

  async expireOverdue(now: number): Promise<Run[]> {
    const rows = this.#write(
      () =>
        this.#stmt(
          `UPDATE runs SET status = 'cancelled', finished_at = @now, updated_at = @now, error = @error, cancel_reason = 'expired'
           WHERE status = 'pending' AND not_after IS NOT NULL AND not_after <= @now RETURNING *`,
        ).all({ now, error: JSON.stringify(EXPIRED_ERROR) }) as RunRow[],
    )
    return rows.map(toRun)
  }

  async getRun(id: string, options: { readonly includeDeleted?: boolean } = {}): Promise<Run | undefined> {
    const row = this.#stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
    if (row === undefined || (row.deleted_at !== null && options.includeDeleted !== true)) return undefined
    return toRun(row)
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    const where: string[] = []
    const params: Row = {}
    if (filter.includeDeleted !== true) where.push('deleted_at IS NULL')
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status
      where.push('status IN (SELECT value FROM json_each(@statuses))')
      params.statuses = JSON.stringify(statuses)
    }
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
      if (value !== undefined) {
        where.push(`${column} = @${key}`)
        params[key] = value
      }
    }
    if (filter.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(runs.tags) t WHERE t.value = @tag)')
      params.tag = filter.tag
    }
    if (filter.from !== undefined) {
      where.push('created_at >= @from')
      params.from = filter.from.getTime()
    }
    if (filter.to !== undefined) {
      where.push('created_at < @to')
      params.to = filter.to.getTime()
    }
    if (filter.search !== undefined && filter.search !== '') {
      where.push(`(id LIKE @search ESCAPE '\\' OR task LIKE @search ESCAPE '\\' OR label LIKE @search ESCAPE '\\' OR args LIKE @search ESCAPE '\\')`)
      params.search = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    }
    const counted = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    if (filter.before !== undefined) {
      // Ids are UUIDv7 (creation order): a run deleted meanwhile is placed by its id among the rest.
      where.push('seq < coalesce((SELECT seq FROM runs WHERE id = @before), (SELECT min(seq) FROM runs WHERE id > @before), 9223372036854775807)')
      params.before = filter.before
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    const page = Math.max(1, Math.floor(filter.page ?? 1))
    const pageSize = Math.min(1000, Math.max(1, Math.floor(filter.pageSize ?? 50)))
    const { before: _before, ...countParams } = params
    const total = filter.count === false ? -1 : (this.#stmt(`SELECT count(*) AS n FROM runs ${counted}`).get(countParams) as { n: number }).n
    const rows = this.#stmt(`SELECT * FROM runs ${clause} ORDER BY seq DESC LIMIT @limit OFFSET @offset`).all({
      ...params,
      limit: pageSize,
      offset: (page - 1) * pageSize,
    }) as RunRow[]
    return { data: rows.map(toRun), total, page, pageSize }
  }

  async getLogs(runId: string, after: number, limit: number): Promise<LogEntry[]> {
    const rows = this.#stmt('SELECT seq, time, level, message FROM logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(runId, after, limit) as LogRow[]
    return rows.map(toLogEntry)
  }

  async cancelRuns(selection: { readonly ids?: readonly string[]; readonly poolIds?: readonly string[] }, reason: string, now: number): Promise<CancelOutcome> {
    const ids = JSON.stringify(selection.ids ?? [])
    const pools = JSON.stringify(selection.poolIds ?? [])
    const match = `(id IN (SELECT value FROM json_each(@ids)) OR pool_id IN (SELECT value FROM json_each(@pools)))`
    const result = this.#write(() => {
      const cancelled = this.#stmt(
        `UPDATE runs SET status = 'cancelled', finished_at = @now, updated_at = @now, error = @error, cancel_requested_at = @now, cancel_reason = @reason
         WHERE status = 'pending' AND ${match} RETURNING *`,
      ).all({ ids, pools, now, reason, error: JSON.stringify(cancelledError(reason)) }) as RunRow[]
      const requested = this.#stmt(
        `UPDATE runs SET cancel_requested_at = @now, cancel_reason = @reason, updated_at = @now
         WHERE status IN ('running', 'waiting') AND cancel_requested_at IS NULL AND ${match} RETURNING *`,
      ).all({ ids, pools, now, reason }) as RunRow[]
      return { cancelled: cancelled.map(toRun), requested: requested.map(toRun) }
    })
    return result
  }

  async retryRun(id: string, now: number): Promise<Run | undefined> {
    try {
      const row = this.#write(
        () =>
          this.#stmt(
            `UPDATE runs SET status = 'pending', attempt_base = attempt, run_at = @now, enqueued_at = @now, updated_at = @now,
               attempts = CASE WHEN started_at IS NOT NULL AND json_array_length(attempts) < attempt THEN ${APPEND_ATTEMPT(CURRENT_ATTEMPT_JSON)} ELSE attempts END,
               finished_at = NULL, error = NULL, data = NULL, progress = NULL, cancel_requested_at = NULL, cancel_reason = NULL,
               lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
             WHERE id = @id AND status IN ('failed', 'cancelled') AND deleted_at IS NULL RETURNING *`,
          ).get({ id, now }) as RunRow | undefined,
      )
      if (row !== undefined) this.#notify()
      return row === undefined ? undefined : toRun(row)
    } catch (error) {
      if (error instanceof SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new ConflictError(`cannot retry run ${id}: another active run holds its unique key`)
      }
      throw error
    }
  }

  async deleteRun(id: string, now: number): Promise<Run | undefined> {
    const row = this.#write(
      () =>
        this.#stmt(
          `UPDATE runs SET deleted_at = @now, updated_at = @now,
             finished_at = CASE WHEN status = 'pending' THEN @now ELSE finished_at END,
             error = CASE WHEN status = 'pending' THEN @error ELSE error END,
             cancel_requested_at = CASE WHEN status IN ${ACTIVE} THEN coalesce(cancel_requested_at, @now) ELSE cancel_requested_at END,
             cancel_reason = CASE WHEN status IN ${ACTIVE} THEN coalesce(cancel_reason, 'deleted') ELSE cancel_reason END,
             status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END
           WHERE id = @id AND deleted_at IS NULL RETURNING *`,
        ).get({ id, now, error: JSON.stringify(cancelledError('deleted')) }) as RunRow | undefined,
    )
    return row === undefined ? undefined : toRun(row)
  }

  async putArtifact(artifact: ArtifactWrite): Promise<boolean> {
    // One statement: the token check and the write happen under the same write lock.
    const changes = this.#stmt(
      `INSERT INTO artifacts (run_id, name, content_type, size, data, created_at)
       SELECT @runId, @name, @contentType, @size, @data, @now WHERE EXISTS (SELECT 1 FROM runs WHERE id = @runId AND lease_token = @token)
       ON CONFLICT (run_id, name) DO UPDATE SET content_type = excluded.content_type, size = excluded.size, data = excluded.data, created_at = excluded.created_at`,
    ).run({ runId: artifact.runId, token: artifact.token, name: artifact.name, contentType: artifact.contentType, size: artifact.data.length, data: artifact.data, now: artifact.now }).changes
    return changes > 0
  }

  async getArtifact(runId: string, name: string): Promise<ArtifactContent | undefined> {
    const row = this.#stmt('SELECT * FROM artifacts WHERE run_id = ? AND name = ?').get(runId, name) as (ArtifactRow & { data: Buffer }) | undefined
    return row === undefined ? undefined : { ...toArtifact(row), data: row.data }
  }

  async listArtifacts(runId: string): Promise<Artifact[]> {
    const rows = this.#stmt('SELECT run_id, name, content_type, size, created_at FROM artifacts WHERE run_id = ? ORDER BY name').all(runId) as ArtifactRow[]
    return rows.map(toArtifact)
  }

  async createPool(pool: { readonly id: string; readonly parentRunId: string | null; readonly parentPoolId: string | null; readonly label: string | null; readonly now: number }): Promise<Pool> {
    const row = this.#write(() => {
      const parent = pool.parentPoolId === null ? undefined : (this.#stmt('SELECT root_id FROM pools WHERE id = ?').get(pool.parentPoolId) as { root_id: string } | undefined)
      return this.#stmt('INSERT INTO pools (id, parent_run_id, parent_pool_id, root_id, label, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *').get(
        pool.id,
        pool.parentRunId,
        pool.parentPoolId,
        parent?.root_id ?? pool.id,
        pool.label,
        pool.now,
      ) as PoolRow
    })
    return toPool(row)
  }

  async closePool(id: string, now: number): Promise<void> {
    this.#stmt('UPDATE pools SET closed_at = coalesce(closed_at, ?) WHERE id = ?').run(now, id)
    return
  }

  async getPool(id: string): Promise<Pool | undefined> {
    const row = this.#stmt('SELECT * FROM pools WHERE id = ?').get(id) as PoolRow | undefined
    return row === undefined ? undefined : toPool(row)
  }

  async poolsOfRun(runId: string): Promise<Pool[]> {
    const rows = this.#stmt('SELECT * FROM pools WHERE parent_run_id = ? ORDER BY created_at').all(runId) as PoolRow[]
    return rows.map(toPool)
  }

  async poolTree(id: string): Promise<string[]> {
    return this.#poolTree(id)
  }

  #poolTree(id: string): string[] {
    const rows = this.#stmt(
      `WITH RECURSIVE tree(id) AS (SELECT id FROM pools WHERE id = ? UNION SELECT p.id FROM pools p JOIN tree t ON p.parent_pool_id = t.id)
       SELECT id FROM tree`,
    ).all(id) as { id: string }[]
    return rows.map((r) => r.id)
  }

  async poolCounts(id: string, options: { readonly tree?: boolean } = {}): Promise<PoolCounts> {
    const ids = options.tree === true ? this.#poolTree(id) : [id]
    const rows = this.#stmt(
      `SELECT status, count(*) AS n, sum(coalesce(json_extract(progress, '$.percent'), 0)) AS progress, min(created_at) AS first, max(finished_at) AS last
       FROM runs WHERE pool_id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL GROUP BY status`,
    ).all(JSON.stringify(ids)) as { status: string; n: number; progress: number; first: number | null; last: number | null }[]
    return countsFrom(rows)
  }

  async stats(now: number): Promise<StoreStats> {
    // Three index reads instead of a scan of every run: pending runs (never deleted: deleting a
    // pending run cancels it), running and waiting ones, and the finished ones by status.
    const statuses = Object.fromEntries(RUN_STATES.map((state) => [state, 0])) as Record<RunState, number>
    const queues = new Map<string, { queue: string; pending: number; running: number; oldestPendingAt: Date | null; nextDueAt: Date | null }>()
    const entry = (queue: string) => {
      let q = queues.get(queue)
      if (q === undefined) queues.set(queue, (q = { queue, pending: 0, running: 0, oldestPendingAt: null, nextDueAt: null }))
      return q
    }
    const pending = this.#stmt(
      `SELECT queue, count(*) AS n, min(CASE WHEN run_at <= ? THEN run_at END) AS oldest, min(run_at) AS next FROM runs INDEXED BY runs_pending WHERE status = 'pending' GROUP BY queue`,
    ).all(now) as { queue: string; n: number; oldest: number | null; next: number | null }[]
    for (const row of pending) {
      const q = entry(row.queue)
      q.pending = row.n
      q.oldestPendingAt = row.oldest === null ? null : new Date(row.oldest)
      q.nextDueAt = row.next === null ? null : new Date(row.next)
      statuses.pending += row.n
    }
    const running = this.#stmt(
      `SELECT queue, status, deleted_at IS NULL AS live, count(*) AS n FROM runs INDEXED BY runs_leased WHERE status IN ('running', 'waiting') GROUP BY queue, status, live`,
    ).all() as { queue: string; status: 'running' | 'waiting'; live: number; n: number }[]
    for (const row of running) {
      entry(row.queue).running += row.n
      if (row.live === 1) statuses[row.status] += row.n
    }
    const finished = this.#raw(
      `SELECT sum(status = 'succeeded'), sum(status = 'failed'), sum(status = 'cancelled') FROM runs INDEXED BY runs_finished WHERE finished_at IS NOT NULL AND deleted_at IS NULL`,
    ).get() as [number | null, number | null, number | null]
    statuses.succeeded = finished[0] ?? 0
    statuses.failed = finished[1] ?? 0
    statuses.cancelled = finished[2] ?? 0
    return { statuses, queues: [...queues.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1)) }
  }

  async throughput(since: number, until: number, bucketMs: number): Promise<ThroughputBucket[]> {
    // One range of runs_finished per bucket (a GROUP BY over the window would sort every run in it).
    const rows = this.#raw(
      `WITH RECURSIVE b(i, lo, hi) AS (SELECT 0, @since, @since + @bucket UNION ALL SELECT i + 1, hi, hi + @bucket FROM b WHERE hi < @until)
       SELECT i, (SELECT json_array(sum(status = 'succeeded'), sum(status = 'failed'), sum(status = 'cancelled')) FROM runs INDEXED BY runs_finished
                  WHERE finished_at >= lo AND finished_at < min(hi, @until) AND deleted_at IS NULL) FROM b`,
    ).all({ since, until, bucket: bucketMs }) as [number, string][]
    const counts: { b: number; status: string; n: number }[] = []
    for (const [b, sums] of rows) {
      const [succeeded, failed, cancelled] = JSON.parse(sums) as (number | null)[]
      if (succeeded) counts.push({ b, status: 'succeeded', n: succeeded })
      if (failed) counts.push({ b, status: 'failed', n: failed })
      if (cancelled) counts.push({ b, status: 'cancelled', n: cancelled })
    }
    return bucketsFrom(counts, since, until, bucketMs)
  }

  async saveWorker(worker: Omit<WorkerInfo, 'startedAt' | 'heartbeatAt'> & { readonly startedAt: number; readonly heartbeatAt: number }): Promise<void> {
    this.#stmt(
      `INSERT INTO workers (id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer)
       VALUES (@id, @host, @pid, @concurrency, @busy, @queues, @tasks, @running, @startedAt, @heartbeatAt, @observer)
       ON CONFLICT (id) DO UPDATE SET concurrency = excluded.concurrency, busy = excluded.busy, queues = excluded.queues,
         tasks = excluded.tasks, running = excluded.running, heartbeat_at = excluded.heartbeat_at, observer = excluded.observer`,
    ).run({
      id: worker.id,
      host: worker.host,
      pid: worker.pid,
      concurrency: worker.concurrency,
      busy: worker.busy,
      queues: worker.queues === null ? null : JSON.stringify(worker.queues),
      tasks: JSON.stringify(worker.tasks),
      running: JSON.stringify(worker.running),
      startedAt: worker.startedAt,
      heartbeatAt: worker.heartbeatAt,
      observer: worker.observer ? 1 : 0,
    })
    return
  }

  async removeWorker(id: string): Promise<void> {
    this.#stmt('DELETE FROM workers WHERE id = ?').run(id)
    return
  }

  async listWorkers(since: number): Promise<WorkerInfo[]> {
    const rows = this.#stmt('SELECT * FROM workers WHERE heartbeat_at >= ? ORDER BY started_at').all(since) as WorkerRow[]
    return rows.map(toWorker)
  }

  async initSchedule(init: ScheduleInit): Promise<ScheduleState> {
    const row = this.#write(() => {
      this.#stmt(
        `INSERT INTO schedules (id, enabled, last_tick_at, next_tick_at, created_at, updated_at) VALUES (@id, @enabled, @since, @next, @now, @now)
         ON CONFLICT (id) DO NOTHING`,
      ).run({ id: init.id, enabled: init.enabled ? 1 : 0, since: init.since, next: init.nextTickAt, now: init.now })
      return this.#stmt('SELECT * FROM schedules WHERE id = ?').get(init.id) as ScheduleRow
    })
    return toScheduleState(row)
  }

  async listSchedules(): Promise<ScheduleState[]> {
    return (this.#stmt('SELECT * FROM schedules ORDER BY id').all() as ScheduleRow[]).map(toScheduleState)
  }

  async setScheduleEnabled(id: string, enabled: boolean, now: number): Promise<ScheduleState | undefined> {
    const row = this.#stmt(
      `UPDATE schedules SET enabled = @enabled, updated_at = @now,
         last_tick_at = CASE WHEN @enabled = 1 AND enabled = 0 THEN max(coalesce(last_tick_at, 0), @now) ELSE last_tick_at END
       WHERE id = @id RETURNING *`,
    ).get({ id, enabled: enabled ? 1 : 0, now }) as ScheduleRow | undefined
    return row === undefined ? undefined : toScheduleState(row)
  }

  async fireSchedule(fire: ScheduleFire): Promise<FireOutcome> {
    const result = this.#write(() => {
      const taken = this.#stmt(
        `UPDATE schedules SET last_tick_at = @tick, next_tick_at = @next, updated_at = @now,
           last_run_id = coalesce(@runId, last_run_id)
         WHERE id = @id AND (last_tick_at IS NULL OR last_tick_at < @tick)`,
      ).run({ id: fire.id, tick: fire.tickAt, next: fire.nextTickAt, now: fire.now, runId: fire.run?.id ?? null }).changes
      if (taken === 0) return { fired: false as const }
      return { fired: true as const, inserted: fire.run === null ? undefined : this.#insert([fire.run]) }
    })
    if (!result.fired || fire.run === null) return { fired: result.fired }
    return { fired: true, insert: this.#inserted([fire.run], result.inserted)[0]! }
  }

  async getSettings(): Promise<Record<string, unknown>> {
    const rows = this.#stmt('SELECT key, value FROM settings').all() as { key: string; value: string }[]
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]))
  }

  async saveSettings(values: Readonly<Record<string, unknown>>, now: number): Promise<void> {
    const save = this.#stmt('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    this.#write(() => {
      for (const [key, value] of Object.entries(values)) save.run(key, JSON.stringify(value), now)
    })
    return
  }

  async purgeRuns(before: number, limit: number): Promise<string[]> {
    return this.#write(() => {
      // Oldest first in insertion order: old finished runs sit at the start of the table.
      const ids = this.#stmt(
        `SELECT id FROM runs WHERE (status IN ('succeeded', 'failed', 'cancelled') AND finished_at < @before) OR deleted_at < @before
         ORDER BY seq LIMIT @limit`,
      )
        .pluck()
        .all({ before, limit }) as string[]
      if (ids.length === 0) return ids
      const list = JSON.stringify(ids)
      this.#stmt('DELETE FROM logs WHERE run_id IN (SELECT value FROM json_each(?))').run(list)
      this.#stmt('DELETE FROM artifacts WHERE run_id IN (SELECT value FROM json_each(?))').run(list)
      this.#stmt('DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))').run(list)
      return ids
    })
  }

  async purgePools(before: number, limit: number): Promise<number> {
    return this.#write(
      () =>
        this.#stmt(
          `DELETE FROM pools WHERE id IN (
             SELECT p.id FROM pools p WHERE p.created_at < @before
               AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.pool_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM pools c WHERE c.parent_pool_id = p.id)
             LIMIT @limit)`,
        ).run({ before, limit }).changes,
    )
  }

  async countPurgeable(runsBefore: number | null, logsBefore: number | null): Promise<{ runs: number; logLines: number }> {
    const runs =
      runsBefore === null
        ? 0
        : (this.#stmt(`SELECT count(*) FROM runs WHERE (status IN ('succeeded', 'failed', 'cancelled') AND finished_at < @before) OR deleted_at < @before`)
            .pluck()
            .get({ before: runsBefore }) as number)
    const logLines =
      logsBefore === null
        ? 0
        : (this.#stmt(
            `SELECT count(*) FROM runs r JOIN logs l ON l.run_id = r.id
             WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < @logs AND (@runs IS NULL OR r.finished_at >= @runs)`,
          )
            .pluck()
            .get({ logs: logsBefore, runs: runsBefore }) as number)
    return { runs, logLines }
  }

  async purgeLogs(before: number, limit: number): Promise<number> {
    return this.#write(
      () =>
        this.#stmt(
          `DELETE FROM logs WHERE (run_id, seq) IN (
             SELECT l.run_id, l.seq FROM runs r JOIN logs l ON l.run_id = r.id
             WHERE r.status IN ('succeeded', 'failed', 'cancelled') AND r.finished_at < @before LIMIT @limit)`,
        ).run({ before, limit }).changes,
    )
  }
}

/** Rows per INSERT statement. */
const INSERT_CHUNK = 512

/**
 * How many of `left` rows the next INSERT takes: a full chunk, else the largest power of two that
 * fits, so that a few statements (one per size, prepared once) serve every batch size.
 */
function chunkSize(left: number): number {
  if (left >= INSERT_CHUNK) return INSERT_CHUNK
  return 2 ** Math.floor(Math.log2(left))
}

interface ScheduleRow {
  id: string
  enabled: number
  last_tick_at: number | null
  last_run_id: string | null
  next_tick_at: number | null
  updated_at: number
}

function toScheduleState(row: ScheduleRow): ScheduleState {
  return { id: row.id, enabled: row.enabled === 1, lastTickAt: row.last_tick_at, lastRunId: row.last_run_id, nextTickAt: row.next_tick_at, updatedAt: row.updated_at }
}
