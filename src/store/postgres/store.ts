/**
 * The shared store: PostgreSQL through `pg`, for engines on many processes and machines.
 *
 * Same tables, columns and semantics as the SQLite store, every table in one schema. This class
 * is the contract's face: it checks the options, owns the connection's lifecycle
 * (`connection.ts`: pool, migration, named statements, transactions, wake-ups), and delegates
 * each operation to its module (`claim-runs.ts`, `write-batch.ts`, …). What differs from SQLite
 * is how concurrency is handled:
 * - Claims lock pending runs with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait on
 *   each other and never take the same run.
 * - Every fenced write is an UPDATE whose WHERE names the lease token: PostgreSQL re-checks it on
 *   the row's newest version after waiting for its lock, so a stale worker writes nothing even
 *   when it races a rescue.
 * - One-statement operations go through the pool (autocommit); multi-statement ones take one
 *   connection for a BEGIN…COMMIT. Batches (inserts, completions, logs, leases) are one statement
 *   each, with the rows sent as parallel arrays and expanded by `unnest`.
 * - Inserts, retries and rescues NOTIFY the store's channel (named after the schema) in their own
 *   transaction; a dedicated connection LISTENs and wakes workers, see `listener.ts`. Signals
 *   between processes (`signals.ts`) and the maintenance leader (`leader.ts`) are the optional
 *   parts of the contract this backend has.
 */
import pg from 'pg'
import { ValidationError, describeValue } from '../../errors.js'
import { checkOptionKeys, optionKeys } from '../../options.js'
import type { LogEntry } from '../../task/context.js'
import type { CancelOutcome, CancelSelection, FlowUsage, FlowUsageQuery, StoreStats, ThroughputBucket } from '../contract/admin.js'
import type { AuditFilter, AuditPage, NewAuditEntry } from '../contract/audit.js'
import type { Artifact, ArtifactContent, ArtifactWrite } from '../contract/artifacts.js'
import type { BulkBound, BulkJob, BulkProgress, NewBulkJob } from '../contract/bulk.js'
import type { ExpiredRun, PendingTaskQueue, PurgeableCounts, RescueWrite, UnservedFailure } from '../contract/maintenance.js'
import type { NewPool, Pool, PoolCounts } from '../contract/pools.js'
import type { BatchOutcome, ClaimRequest, ClaimedRun, InProcessStart, InsertOptions, InsertOutcome, Lease, NewRun, RenewOutcome, WakeListener, WriteBatch } from '../contract/queue.js'
import type { Run, RunFilter, RunPage } from '../contract/runs.js'
import type { FireOutcome, ScheduleFire, ScheduleInit, ScheduleState } from '../contract/schedules.js'
import type { StoreSignal } from '../contract/signals.js'
import type { Credential, NewSession, NewUser, NewUserToken, SessionRecord, UserPatch, UserRecord, UserTokenRecord } from '../contract/users.js'
import type { WorkerCommand, WorkerCommandWrite, WorkerInfo, WorkerSeen, WorkerWrite } from '../contract/workers.js'
import type { Store } from '../types.js'
import * as artifacts from './artifacts.js'
import * as audit from './audit.js'
import * as bulk from './bulk-jobs.js'
import { cancelRuns } from './cancel-runs.js'
import { claimRuns } from './claim-runs.js'
import { PostgresConnection } from './connection.js'
import { deleteRun } from './delete-run.js'
import { expireOverdue } from './expire-runs.js'
import { failUnserved, pendingByTask } from './unserved-runs.js'
import { insertInProcessRun } from './in-process-run.js'
import { insertRuns } from './insert-runs.js'
import { Leadership } from './leader.js'
import * as pools from './pools.js'
import { findReusable, getLogs, getRun, listRuns } from './read-runs.js'
import { renewLeases } from './renew-leases.js'
import { expiredLeases, rescueRuns } from './rescue-runs.js'
import * as retention from './retention.js'
import { retryRun } from './retry-run.js'
import * as schedules from './schedules.js'
import * as settings from './settings.js'
import { SignalChannels } from './signals.js'
import { stats, throughput } from './stats.js'
import * as rollups from './rollups.js'
import type { RollupFold, RollupQuery, RollupReport } from '../contract/rollups.js'
import { flowUsage } from './flow-report.js'
import * as users from './users.js'
import * as workers from './workers.js'
import { writeBatch } from './write-batch.js'

export { signalPayloads } from './signals.js'

/** Options of {@link postgresStore}. Give `connectionString` or `pool`. */
export interface PostgresStoreOptions {
  /**
   * Where to connect, e.g. `postgres://user:pass@db.example.com:5432/app`. The store creates
   * (and on `close()` ends) its own pool. Give this or `pool`.
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
   * A lower-case identifier (letters, digits, `_`, at most 63 bytes).
   * @default 'taskengine'
   */
  readonly schema?: string
  /**
   * Connections in the pool the store creates (ignored with `pool`).
   * @default 10
   */
  readonly max?: number
  /**
   * How long opening a connection may take before it fails, in ms (ignored with `pool`): a
   * server that never answers (a dropped or unroutable address) is reported instead of waiting
   * for the operating system to give up.
   * @default 10_000
   */
  readonly connectTimeoutMs?: number
  /**
   * Called with connection errors the store survives: an idle pooled connection dropped, the
   * LISTEN connection lost (it reconnects).
   * @default a one-line `console.warn`
   */
  readonly onError?: (error: Error) => void
  /**
   * `full`: every write waits for the WAL flush as the server's `synchronous_commit` says.
   * `normal`: a claim on its own (a worker taking runs with nothing to write beside them) commits
   * without waiting for its flush, which takes one disk flush off the way from enqueue to handler
   * start. If the server crashes within a moment of such a claim, the claim is undone and the run
   * is claimed again, as after a worker's crash; but a handler the lost claim had started then
   * runs once more than its attempts count (the attempt it ran in was never stored). Every other
   * write (enqueues, starts, logs, results, state changes) still waits for the flush and, the WAL
   * being written in order, makes the claims before it durable too.
   * @default 'full'
   */
  readonly synchronous?: 'normal' | 'full'
}

/** Every key of {@link PostgresStoreOptions}. */
const POSTGRES_STORE_OPTION_KEYS = optionKeys<PostgresStoreOptions>({ connectionString: true, pool: true, schema: true, max: true, connectTimeoutMs: true, onError: true, synchronous: true })
/** The schema the store uses by default ({@link PostgresStoreOptions.schema}). */
export const DEFAULT_SCHEMA = 'taskengine'
/** Connections in the store's own pool by default ({@link PostgresStoreOptions.max}). */
export const DEFAULT_POOL_MAX = 10
/** How long opening a connection may take by default, in ms ({@link PostgresStoreOptions.connectTimeoutMs}). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/

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

/** Checks the options and opens the connection they describe (its own pool, or the one given). */
function connect(options: PostgresStoreOptions): PostgresConnection {
  if (typeof options !== 'object' || options === null) throw new ValidationError(`postgresStore: expected an options object, got ${describeValue(options)}`)
  checkOptionKeys(options, POSTGRES_STORE_OPTION_KEYS, 'postgresStore')
  const schema = options.schema ?? DEFAULT_SCHEMA
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
  if (options.synchronous !== undefined && options.synchronous !== 'normal' && options.synchronous !== 'full') {
    throw new ValidationError(`synchronous: expected 'normal' or 'full', got ${describeValue(options.synchronous)}`)
  }
  const onError = options.onError ?? ((error) => console.warn(`taskengine postgres store (schema ${schema}): ${error.message}`))
  let pool: pg.Pool
  let ownsPool: boolean
  if (options.pool !== undefined) {
    if (options.connectionString !== undefined) throw new ValidationError('postgresStore: give `connectionString` or `pool`, not both')
    if (typeof options.pool !== 'object' || options.pool === null || typeof (options.pool as Partial<pg.Pool>).connect !== 'function') {
      throw new ValidationError(`pool: expected a pg.Pool, got ${describeValue(options.pool)}`)
    }
    pool = options.pool
    ownsPool = false
  } else {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new ValidationError(`connectionString: expected a postgres:// URL (or give \`pool\`), got ${describeValue(options.connectionString)}`)
    }
    pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? DEFAULT_POOL_MAX,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      application_name: 'taskengine',
    })
    // An idle connection that drops is removed by the pool; without a handler its error would
    // crash the process.
    pool.on('error', (error) => onError(new Error(`idle connection lost: ${error.message}`, { cause: error })))
    ownsPool = true
  }
  return new PostgresConnection({ pool, ownsPool, schema, onError, asyncClaims: options.synchronous === 'normal' })
}

/** The PostgreSQL implementation of {@link Store}, with the signal bus and leader election. */
export class PostgresStore implements Store {
  readonly kind = 'postgres'
  /** The schema holding the tables; also the NOTIFY channel. */
  readonly schema: string
  /** Write batches a worker keeps in flight: each on its own connection, so the server works on several at once. */
  readonly parallelWrites = 2
  readonly #conn: PostgresConnection
  readonly #signals: SignalChannels
  readonly #leadership: Leadership

  constructor(options: PostgresStoreOptions) {
    this.#conn = connect(options)
    this.schema = this.#conn.schema
    this.#signals = new SignalChannels(this.#conn)
    this.#leadership = new Leadership(this.#conn)
  }

  /** The pool the store queries through (its own, or the one it was given). */
  get pool(): pg.Pool {
    return this.#conn.pool
  }

  async ready(): Promise<void> {
    await this.#conn.whenReady()
  }

  /** Resolves once this store LISTENs for wake-ups (after the first {@link onRunsAvailable}). */
  async listening(): Promise<void> {
    await this.#conn.listening()
  }

  async close(): Promise<void> {
    if (this.#conn.closed) return
    this.#conn.close()
    this.#signals.close()
    // Ending the leader's connection releases the advisory lock: another process takes over at once.
    this.#leadership.release()
    await this.#conn.end()
  }

  onRunsAvailable(listener: WakeListener): () => void {
    return this.#conn.onRunsAvailable(listener)
  }

  async signal(message: StoreSignal): Promise<void> {
    await this.#signals.signal(message)
  }

  onSignal(type: StoreSignal['type'], receive: (message: StoreSignal) => void): () => void {
    return this.#signals.onSignal(type, receive)
  }

  /** Resolves once signals of this kind are listened for (tests, orderly start-up). */
  async signalsListening(type: StoreSignal['type']): Promise<void> {
    await this.#signals.listening(type)
  }

  lead(): Promise<boolean> {
    return this.#leadership.lead()
  }

  insertRuns(runs: readonly NewRun[], options: InsertOptions = {}): Promise<InsertOutcome[]> {
    return insertRuns(this.#conn, runs, options)
  }

  insertInProcessRun(run: NewRun, start: InProcessStart): Promise<Run> {
    return insertInProcessRun(this.#conn, run, start)
  }

  findReusable(task: string, argsHash: string, since: number): Promise<Run | undefined> {
    return findReusable(this.#conn, task, argsHash, since)
  }

  claimRuns(request: ClaimRequest): Promise<ClaimedRun[]> {
    return claimRuns(this.#conn, request)
  }

  writeBatch(batch: WriteBatch): Promise<BatchOutcome> {
    return writeBatch(this.#conn, batch)
  }

  renewLeases(_workerId: string, leases: readonly Lease[], leaseUntil: number): Promise<RenewOutcome> {
    return renewLeases(this.#conn, leases, leaseUntil)
  }

  expiredLeases(now: number, limit: number): Promise<ExpiredRun[]> {
    return expiredLeases(this.#conn, now, limit)
  }

  rescueRuns(writes: readonly RescueWrite[]): Promise<Run[]> {
    return rescueRuns(this.#conn, writes)
  }

  expireOverdue(now: number): Promise<Run[]> {
    return expireOverdue(this.#conn, now)
  }

  pendingByTask(): Promise<PendingTaskQueue[]> {
    return pendingByTask(this.#conn)
  }

  failUnserved(targets: readonly UnservedFailure[], now: number): Promise<Run[]> {
    return failUnserved(this.#conn, targets, now)
  }

  getRun(id: string, options: { readonly includeDeleted?: boolean } = {}): Promise<Run | undefined> {
    return getRun(this.#conn, id, options)
  }

  listRuns(filter: RunFilter): Promise<RunPage> {
    return listRuns(this.#conn, filter)
  }

  getLogs(runId: string, after: number, limit: number): Promise<LogEntry[]> {
    return getLogs(this.#conn, runId, after, limit)
  }

  cancelRuns(selection: CancelSelection, reason: string, now: number, by: string | null = null): Promise<CancelOutcome> {
    return cancelRuns(this.#conn, selection, reason, now, by)
  }

  retryRun(id: string, now: number): Promise<Run | undefined> {
    return retryRun(this.#conn, id, now)
  }

  deleteRun(id: string, now: number): Promise<Run | undefined> {
    return deleteRun(this.#conn, id, now)
  }

  putArtifact(artifact: ArtifactWrite): Promise<boolean> {
    return artifacts.putArtifact(this.#conn, artifact)
  }

  getArtifact(runId: string, name: string): Promise<ArtifactContent | undefined> {
    return artifacts.getArtifact(this.#conn, runId, name)
  }

  listArtifacts(runId: string): Promise<Artifact[]> {
    return artifacts.listArtifacts(this.#conn, runId)
  }

  createPool(pool: NewPool): Promise<Pool> {
    return pools.createPool(this.#conn, pool)
  }

  closePool(id: string, now: number): Promise<void> {
    return pools.closePool(this.#conn, id, now)
  }

  getPool(id: string): Promise<Pool | undefined> {
    return pools.getPool(this.#conn, id)
  }

  poolsOfRun(runId: string): Promise<Pool[]> {
    return pools.poolsOfRun(this.#conn, runId)
  }

  poolTree(id: string): Promise<string[]> {
    return pools.poolTree(this.#conn, id)
  }

  poolsBelow(id: string, limit: number): Promise<Pool[]> {
    return pools.poolsBelow(this.#conn, id, limit)
  }

  poolCounts(id: string, options: { readonly tree?: boolean } = {}): Promise<PoolCounts> {
    return pools.poolCounts(this.#conn, id, options)
  }

  stats(now: number): Promise<StoreStats> {
    return stats(this.#conn, now)
  }

  flowUsage(query: FlowUsageQuery): Promise<FlowUsage> {
    return flowUsage(this.#conn, query)
  }

  bulkBound(filter: RunFilter): Promise<BulkBound> {
    return bulk.bulkBound(this.#conn, filter)
  }

  bulkSelection(filter: RunFilter, upTo: string, after: string | null, limit: number): Promise<string[]> {
    return bulk.bulkSelection(this.#conn, filter, upTo, after, limit)
  }

  insertBulkJob(job: NewBulkJob): Promise<BulkJob> {
    return bulk.insertBulkJob(this.#conn, job)
  }

  getBulkJob(id: string): Promise<BulkJob | undefined> {
    return bulk.getBulkJob(this.#conn, id)
  }

  listBulkJobs(limit: number): Promise<BulkJob[]> {
    return bulk.listBulkJobs(this.#conn, limit)
  }

  orphanBulkJobs(now: number): Promise<string[]> {
    return bulk.orphanBulkJobs(this.#conn, now)
  }

  claimBulkJob(id: string, owner: string, now: number, leaseMs: number): Promise<BulkJob | undefined> {
    return bulk.claimBulkJob(this.#conn, id, owner, now, leaseMs)
  }

  saveBulkProgress(id: string, owner: string, progress: BulkProgress, now: number, leaseMs: number): Promise<BulkJob | undefined> {
    return bulk.saveBulkProgress(this.#conn, id, owner, progress, now, leaseMs)
  }

  releaseBulkJob(id: string, owner: string, now: number): Promise<void> {
    return bulk.releaseBulkJob(this.#conn, id, owner, now)
  }

  cancelBulkJob(id: string, now: number): Promise<BulkJob | undefined> {
    return bulk.cancelBulkJob(this.#conn, id, now)
  }

  purgeBulkJobs(before: number): Promise<number> {
    return bulk.purgeBulkJobs(this.#conn, before)
  }

  throughput(since: number, until: number, bucketMs: number): Promise<ThroughputBucket[]> {
    return throughput(this.#conn, since, until, bucketMs)
  }

  foldRollups(until: number, floor: number, maxMs: number): Promise<RollupFold> {
    return rollups.foldRollups(this.#conn, until, floor, maxMs)
  }

  readRollups(query: RollupQuery): Promise<RollupReport> {
    return rollups.readRollups(this.#conn, query)
  }

  purgeRollups(before: number): Promise<number> {
    return rollups.purgeRollups(this.#conn, before)
  }

  recentlyFinished(status: 'succeeded' | 'failed' | 'cancelled', limit: number, createdBy?: string): Promise<Run[]> {
    return rollups.recentlyFinished(this.#conn, status, limit, createdBy)
  }

  saveWorker(worker: WorkerWrite): Promise<WorkerCommand | null> {
    return workers.saveWorker(this.#conn, worker)
  }

  removeWorker(id: string): Promise<void> {
    return workers.removeWorker(this.#conn, id)
  }

  workersSeen(): Promise<WorkerSeen[]> {
    return workers.workersSeen(this.#conn)
  }

  listWorkers(since: number, until?: number): Promise<WorkerInfo[]> {
    return workers.listWorkers(this.#conn, since, until)
  }

  getWorker(id: string): Promise<WorkerInfo | undefined> {
    return workers.getWorker(this.#conn, id)
  }

  commandWorker(id: string, command: WorkerCommandWrite): Promise<WorkerInfo | undefined> {
    return workers.commandWorker(this.#conn, id, command)
  }

  purgeWorkers(before: number): Promise<number> {
    return workers.purgeWorkers(this.#conn, before)
  }

  initSchedule(init: ScheduleInit): Promise<ScheduleState> {
    return schedules.initSchedule(this.#conn, init)
  }

  listSchedules(): Promise<ScheduleState[]> {
    return schedules.listSchedules(this.#conn)
  }

  setScheduleEnabled(id: string, enabled: boolean, now: number): Promise<ScheduleState | undefined> {
    return schedules.setScheduleEnabled(this.#conn, id, enabled, now)
  }

  fireSchedule(fire: ScheduleFire): Promise<FireOutcome> {
    return schedules.fireSchedule(this.#conn, fire)
  }

  getSettings(): Promise<Record<string, unknown>> {
    return settings.getSettings(this.#conn)
  }

  saveSettings(values: Readonly<Record<string, unknown>>, now: number): Promise<void> {
    return settings.saveSettings(this.#conn, values, now)
  }

  purgeRuns(before: number, limit: number): Promise<string[]> {
    return retention.purgeRuns(this.#conn, before, limit)
  }

  purgePools(before: number, limit: number): Promise<number> {
    return retention.purgePools(this.#conn, before, limit)
  }

  purgeFlowState(now: number, before: number): Promise<number> {
    return retention.purgeFlowState(this.#conn, now, before)
  }

  countPurgeable(runsBefore: number | null, logsBefore: number | null): Promise<PurgeableCounts> {
    return retention.countPurgeable(this.#conn, runsBefore, logsBefore)
  }

  purgeLogs(before: number, limit: number): Promise<number> {
    return retention.purgeLogs(this.#conn, before, limit)
  }

  insertUser(user: NewUser): Promise<boolean> {
    return users.insertUser(this.#conn, user)
  }

  getUser(name: string): Promise<UserRecord | undefined> {
    return users.getUser(this.#conn, name)
  }

  listUsers(): Promise<UserRecord[]> {
    return users.listUsers(this.#conn)
  }

  countEnabledUsers(): Promise<number> {
    return users.countEnabledUsers(this.#conn)
  }

  updateUser(name: string, patch: UserPatch, now: number): Promise<{ readonly before: UserRecord; readonly after: UserRecord } | undefined> {
    return users.updateUser(this.#conn, name, patch, now)
  }

  insertUserToken(token: NewUserToken): Promise<boolean> {
    return users.insertUserToken(this.#conn, token)
  }

  getUserToken(id: string): Promise<Credential<UserTokenRecord> | undefined> {
    return users.getUserToken(this.#conn, id)
  }

  listUserTokens(user?: string): Promise<UserTokenRecord[]> {
    return users.listUserTokens(this.#conn, user)
  }

  touchUserToken(id: string, now: number): Promise<void> {
    return users.touchUserToken(this.#conn, id, now)
  }

  revokeUserToken(id: string, now: number): Promise<UserTokenRecord | undefined> {
    return users.revokeUserToken(this.#conn, id, now)
  }

  insertSession(session: NewSession): Promise<void> {
    return users.insertSession(this.#conn, session)
  }

  getSession(id: string): Promise<Credential<SessionRecord> | undefined> {
    return users.getSession(this.#conn, id)
  }

  touchSession(id: string, now: number, expiresAt: number): Promise<void> {
    return users.touchSession(this.#conn, id, now, expiresAt)
  }

  revokeSessions(which: { readonly id: string } | { readonly user: string }, now: number): Promise<number> {
    return users.revokeSessions(this.#conn, which, now)
  }

  listSessions(user?: string): Promise<SessionRecord[]> {
    return users.listSessions(this.#conn, user)
  }

  purgeSessions(before: number): Promise<number> {
    return users.purgeSessions(this.#conn, before)
  }

  appendAudit(entries: readonly NewAuditEntry[]): Promise<void> {
    return audit.appendAudit(this.#conn, entries)
  }

  listAudit(filter: AuditFilter): Promise<AuditPage> {
    return audit.listAudit(this.#conn, filter)
  }

  countAudit(query: { readonly action: string; readonly since: number; readonly target?: string; readonly address?: string }): Promise<number> {
    return audit.countAudit(this.#conn, query)
  }

  purgeAudit(before: number, limit: number): Promise<number> {
    return audit.purgeAudit(this.#conn, before, limit)
  }
}
