/* eslint-disable @typescript-eslint/require-await -- the Store contract is asynchronous (PostgreSQL); here the work is synchronous, and `async` turns its throws into rejections. */
/**
 * The embedded store: one SQLite file (or memory) through better-sqlite3.
 *
 * This class is the contract's face and nothing more: the connection (`connection.ts`: pragmas,
 * migrations, statement cache, IMMEDIATE transactions, in-process wake-ups) and one module per
 * operation beside it (`claim-runs.ts`, `write-batch.ts`, …) do the work. better-sqlite3 is
 * synchronous, so every method does its work at once and returns a settled promise. There is no
 * push between processes (no signal bus) and no leader: SQLite statements are atomic, so every
 * worker process may maintain.
 */
import type Database from 'better-sqlite3'
import type { CancelOutcome, CancelSelection, FlowUsage, FlowUsageQuery, StoreStats, ThroughputBucket } from '../contract/admin.js'
import type { AuditFilter, AuditPage, NewAuditEntry } from '../contract/audit.js'
import type { Artifact, ArtifactContent, ArtifactWrite } from '../contract/artifacts.js'
import type { BulkBound, BulkJob, BulkProgress, NewBulkJob } from '../contract/bulk.js'
import type { ExpiredRun, PendingTaskQueue, PurgeableCounts, RescueWrite, UnservedFailure } from '../contract/maintenance.js'
import type { NewPool, Pool, PoolCounts } from '../contract/pools.js'
import type { BatchOutcome, ClaimRequest, ClaimedRun, InProcessStart, InsertAndClaim, InsertOptions, InsertOutcome, Lease, NewRun, RenewOutcome, WakeListener, WriteBatch } from '../contract/queue.js'
import type { Run, RunFilter, RunPage } from '../contract/runs.js'
import type { FireOutcome, ScheduleFire, ScheduleInit, ScheduleState } from '../contract/schedules.js'
import type { Credential, NewSession, NewUser, NewUserToken, SessionRecord, UserPatch, UserRecord, UserTokenRecord } from '../contract/users.js'
import type { WorkerCommand, WorkerCommandWrite, WorkerInfo, WorkerSeen, WorkerWrite } from '../contract/workers.js'
import type { LogEntry } from '../../task/context.js'
import { checkOptionKeys, optionKeys } from '../../options.js'
import type { Store } from '../types.js'
import * as artifacts from './artifacts.js'
import * as audit from './audit.js'
import * as bulk from './bulk-jobs.js'
import { cancelRuns } from './cancel-runs.js'
import { claimRuns } from './claim-runs.js'
import { SqliteConnection } from './connection.js'
import { deleteRun } from './delete-run.js'
import { expireOverdue } from './expire-runs.js'
import { failUnserved, pendingByTask } from './unserved-runs.js'
import { insertInProcessRun } from './in-process-run.js'
import { insertRuns, insertRunsAndClaim } from './insert-runs.js'
import * as pools from './pools.js'
import { findReusable, getLogs, getRun, listRuns } from './read-runs.js'
import { renewLeases } from './renew-leases.js'
import { expiredLeases, rescueRuns } from './rescue-runs.js'
import * as retention from './retention.js'
import { retryRun } from './retry-run.js'
import * as schedules from './schedules.js'
import * as settings from './settings.js'
import { stats, throughput } from './stats.js'
import * as rollups from './rollups.js'
import type { RollupFold, RollupQuery, RollupReport } from '../contract/rollups.js'
import { flowUsage } from './flow-report.js'
import * as users from './users.js'
import * as workers from './workers.js'
import { writeBatch } from './write-batch.js'

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * `normal`: with WAL, a committed transaction survives a process kill; a power loss may lose
   * the last transactions before the OS wrote them out, never corrupting the file. `full`: fsync
   * at every commit; survives power loss too, at a cost in write speed.
   * @default 'normal'
   */
  readonly synchronous?: 'normal' | 'full'
  /**
   * How long a write waits for another process holding the lock, in ms.
   * @default 5000
   */
  readonly busyTimeoutMs?: number
}

/** Every key of {@link SqliteStoreOptions}. */
const SQLITE_STORE_OPTION_KEYS = optionKeys<SqliteStoreOptions>({ synchronous: true, busyTimeoutMs: true })

/**
 * Opens (creating if needed) a SQLite store at `path`; `:memory:` for a private in-memory one.
 * Migrations run at once.
 *
 * @example
 * const store = sqliteStore('./data/taskengine.db')
 */
export function sqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, options)
}

/** The SQLite implementation of {@link Store}. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite'
  /** The file path, or `:memory:`. */
  readonly path: string
  readonly #db: SqliteConnection
  #closed = false

  constructor(path: string, options: SqliteStoreOptions = {}) {
    checkOptionKeys(options, SQLITE_STORE_OPTION_KEYS, 'sqliteStore')
    this.path = path
    this.#db = new SqliteConnection(path, options)
  }

  /** The underlying better-sqlite3 handle (for tests and diagnostics). */
  get database(): Database.Database {
    return this.#db.db
  }

  async ready(): Promise<void> {
    return
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#db.close()
    }
  }

  onRunsAvailable(listener: WakeListener): () => void {
    return this.#db.onRunsAvailable(listener)
  }

  async insertRuns(runs: readonly NewRun[], options: InsertOptions = {}): Promise<InsertOutcome[]> {
    return insertRuns(this.#db, runs, options)
  }

  async insertRunsAndClaim(runs: readonly NewRun[], claim: ClaimRequest): Promise<InsertAndClaim> {
    return insertRunsAndClaim(this.#db, runs, claim)
  }

  async insertInProcessRun(run: NewRun, start: InProcessStart): Promise<Run> {
    return insertInProcessRun(this.#db, run, start)
  }

  async findReusable(task: string, argsHash: string, since: number): Promise<Run | undefined> {
    return findReusable(this.#db, task, argsHash, since)
  }

  async claimRuns(request: ClaimRequest): Promise<ClaimedRun[]> {
    return claimRuns(this.#db, request)
  }

  async writeBatch(batch: WriteBatch): Promise<BatchOutcome> {
    return writeBatch(this.#db, batch)
  }

  async renewLeases(_workerId: string, leases: readonly Lease[], leaseUntil: number): Promise<RenewOutcome> {
    return renewLeases(this.#db, leases, leaseUntil)
  }

  async expiredLeases(now: number, limit: number): Promise<ExpiredRun[]> {
    return expiredLeases(this.#db, now, limit)
  }

  async rescueRuns(writes: readonly RescueWrite[]): Promise<Run[]> {
    return rescueRuns(this.#db, writes)
  }

  async expireOverdue(now: number): Promise<Run[]> {
    return expireOverdue(this.#db, now)
  }

  async pendingByTask(): Promise<PendingTaskQueue[]> {
    return pendingByTask(this.#db)
  }

  async failUnserved(targets: readonly UnservedFailure[], now: number): Promise<Run[]> {
    return failUnserved(this.#db, targets, now)
  }

  async getRun(id: string, options: { readonly includeDeleted?: boolean } = {}): Promise<Run | undefined> {
    return getRun(this.#db, id, options)
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    return listRuns(this.#db, filter)
  }

  async getLogs(runId: string, after: number, limit: number): Promise<LogEntry[]> {
    return getLogs(this.#db, runId, after, limit)
  }

  async cancelRuns(selection: CancelSelection, reason: string, now: number, by: string | null = null): Promise<CancelOutcome> {
    return cancelRuns(this.#db, selection, reason, now, by)
  }

  async retryRun(id: string, now: number): Promise<Run | undefined> {
    return retryRun(this.#db, id, now)
  }

  async deleteRun(id: string, now: number): Promise<Run | undefined> {
    return deleteRun(this.#db, id, now)
  }

  async putArtifact(artifact: ArtifactWrite): Promise<boolean> {
    return artifacts.putArtifact(this.#db, artifact)
  }

  async getArtifact(runId: string, name: string): Promise<ArtifactContent | undefined> {
    return artifacts.getArtifact(this.#db, runId, name)
  }

  async listArtifacts(runId: string): Promise<Artifact[]> {
    return artifacts.listArtifacts(this.#db, runId)
  }

  async createPool(pool: NewPool): Promise<Pool> {
    return pools.createPool(this.#db, pool)
  }

  async closePool(id: string, now: number): Promise<void> {
    pools.closePool(this.#db, id, now)
  }

  async getPool(id: string): Promise<Pool | undefined> {
    return pools.getPool(this.#db, id)
  }

  async poolsOfRun(runId: string): Promise<Pool[]> {
    return pools.poolsOfRun(this.#db, runId)
  }

  async poolTree(id: string): Promise<string[]> {
    return pools.poolTree(this.#db, id)
  }

  async poolsBelow(id: string, limit: number): Promise<Pool[]> {
    return pools.poolsBelow(this.#db, id, limit)
  }

  async poolCounts(id: string, options: { readonly tree?: boolean } = {}): Promise<PoolCounts> {
    return pools.poolCounts(this.#db, id, options)
  }

  async stats(now: number): Promise<StoreStats> {
    return stats(this.#db, now)
  }

  async flowUsage(query: FlowUsageQuery): Promise<FlowUsage> {
    return flowUsage(this.#db, query)
  }

  async bulkBound(filter: RunFilter): Promise<BulkBound> {
    return bulk.bulkBound(this.#db, filter)
  }

  async bulkSelection(filter: RunFilter, upTo: string, after: string | null, limit: number): Promise<string[]> {
    return bulk.bulkSelection(this.#db, filter, upTo, after, limit)
  }

  async insertBulkJob(job: NewBulkJob): Promise<BulkJob> {
    return bulk.insertBulkJob(this.#db, job)
  }

  async getBulkJob(id: string): Promise<BulkJob | undefined> {
    return bulk.getBulkJob(this.#db, id)
  }

  async listBulkJobs(limit: number): Promise<BulkJob[]> {
    return bulk.listBulkJobs(this.#db, limit)
  }

  async orphanBulkJobs(now: number): Promise<string[]> {
    return bulk.orphanBulkJobs(this.#db, now)
  }

  async claimBulkJob(id: string, owner: string, now: number, leaseMs: number): Promise<BulkJob | undefined> {
    return bulk.claimBulkJob(this.#db, id, owner, now, leaseMs)
  }

  async saveBulkProgress(id: string, owner: string, progress: BulkProgress, now: number, leaseMs: number): Promise<BulkJob | undefined> {
    return bulk.saveBulkProgress(this.#db, id, owner, progress, now, leaseMs)
  }

  async releaseBulkJob(id: string, owner: string, now: number): Promise<void> {
    return bulk.releaseBulkJob(this.#db, id, owner, now)
  }

  async cancelBulkJob(id: string, now: number): Promise<BulkJob | undefined> {
    return bulk.cancelBulkJob(this.#db, id, now)
  }

  async purgeBulkJobs(before: number): Promise<number> {
    return bulk.purgeBulkJobs(this.#db, before)
  }

  async throughput(since: number, until: number, bucketMs: number): Promise<ThroughputBucket[]> {
    return throughput(this.#db, since, until, bucketMs)
  }

  async foldRollups(until: number, floor: number, maxMs: number): Promise<RollupFold> {
    return rollups.foldRollups(this.#db, until, floor, maxMs)
  }

  async readRollups(query: RollupQuery): Promise<RollupReport> {
    return rollups.readRollups(this.#db, query)
  }

  async purgeRollups(before: number): Promise<number> {
    return rollups.purgeRollups(this.#db, before)
  }

  async recentlyFinished(status: 'succeeded' | 'failed' | 'cancelled', limit: number, createdBy?: string): Promise<Run[]> {
    return rollups.recentlyFinished(this.#db, status, limit, createdBy)
  }

  async saveWorker(worker: WorkerWrite): Promise<WorkerCommand | null> {
    return workers.saveWorker(this.#db, worker)
  }

  async removeWorker(id: string): Promise<void> {
    workers.removeWorker(this.#db, id)
  }

  async workersSeen(): Promise<WorkerSeen[]> {
    return workers.workersSeen(this.#db)
  }

  async listWorkers(since: number, until?: number): Promise<WorkerInfo[]> {
    return workers.listWorkers(this.#db, since, until)
  }

  async getWorker(id: string): Promise<WorkerInfo | undefined> {
    return workers.getWorker(this.#db, id)
  }

  async commandWorker(id: string, command: WorkerCommandWrite): Promise<WorkerInfo | undefined> {
    return workers.commandWorker(this.#db, id, command)
  }

  async purgeWorkers(before: number): Promise<number> {
    return workers.purgeWorkers(this.#db, before)
  }

  async initSchedule(init: ScheduleInit): Promise<ScheduleState> {
    return schedules.initSchedule(this.#db, init)
  }

  async listSchedules(): Promise<ScheduleState[]> {
    return schedules.listSchedules(this.#db)
  }

  async setScheduleEnabled(id: string, enabled: boolean, now: number): Promise<ScheduleState | undefined> {
    return schedules.setScheduleEnabled(this.#db, id, enabled, now)
  }

  async fireSchedule(fire: ScheduleFire): Promise<FireOutcome> {
    return schedules.fireSchedule(this.#db, fire)
  }

  async getSettings(): Promise<Record<string, unknown>> {
    return settings.getSettings(this.#db)
  }

  async saveSettings(values: Readonly<Record<string, unknown>>, now: number): Promise<void> {
    settings.saveSettings(this.#db, values, now)
  }

  async purgeRuns(before: number, limit: number): Promise<string[]> {
    return retention.purgeRuns(this.#db, before, limit)
  }

  async purgePools(before: number, limit: number): Promise<number> {
    return retention.purgePools(this.#db, before, limit)
  }

  async purgeFlowState(now: number, before: number): Promise<number> {
    return retention.purgeFlowState(this.#db, now, before)
  }

  async countPurgeable(runsBefore: number | null, logsBefore: number | null): Promise<PurgeableCounts> {
    return retention.countPurgeable(this.#db, runsBefore, logsBefore)
  }

  async purgeLogs(before: number, limit: number): Promise<number> {
    return retention.purgeLogs(this.#db, before, limit)
  }

  async insertUser(user: NewUser): Promise<boolean> {
    return users.insertUser(this.#db, user)
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    return users.getUser(this.#db, name)
  }

  async listUsers(): Promise<UserRecord[]> {
    return users.listUsers(this.#db)
  }

  async countEnabledUsers(): Promise<number> {
    return users.countEnabledUsers(this.#db)
  }

  async updateUser(name: string, patch: UserPatch, now: number): Promise<{ readonly before: UserRecord; readonly after: UserRecord } | undefined> {
    return users.updateUser(this.#db, name, patch, now)
  }

  async insertUserToken(token: NewUserToken): Promise<boolean> {
    return users.insertUserToken(this.#db, token)
  }

  async getUserToken(id: string): Promise<Credential<UserTokenRecord> | undefined> {
    return users.getUserToken(this.#db, id)
  }

  async listUserTokens(user?: string): Promise<UserTokenRecord[]> {
    return users.listUserTokens(this.#db, user)
  }

  async touchUserToken(id: string, now: number): Promise<void> {
    return users.touchUserToken(this.#db, id, now)
  }

  async revokeUserToken(id: string, now: number): Promise<UserTokenRecord | undefined> {
    return users.revokeUserToken(this.#db, id, now)
  }

  async insertSession(session: NewSession): Promise<void> {
    return users.insertSession(this.#db, session)
  }

  async getSession(id: string): Promise<Credential<SessionRecord> | undefined> {
    return users.getSession(this.#db, id)
  }

  async touchSession(id: string, now: number, expiresAt: number): Promise<void> {
    return users.touchSession(this.#db, id, now, expiresAt)
  }

  async revokeSessions(which: { readonly id: string } | { readonly user: string }, now: number): Promise<number> {
    return users.revokeSessions(this.#db, which, now)
  }

  async listSessions(user?: string): Promise<SessionRecord[]> {
    return users.listSessions(this.#db, user)
  }

  async purgeSessions(before: number): Promise<number> {
    return users.purgeSessions(this.#db, before)
  }

  async appendAudit(entries: readonly NewAuditEntry[]): Promise<void> {
    return audit.appendAudit(this.#db, entries)
  }

  async listAudit(filter: AuditFilter): Promise<AuditPage> {
    return audit.listAudit(this.#db, filter)
  }

  async countAudit(query: { readonly action: string; readonly since: number; readonly target?: string; readonly address?: string }): Promise<number> {
    return audit.countAudit(this.#db, query)
  }

  async purgeAudit(before: number, limit: number): Promise<number> {
    return audit.purgeAudit(this.#db, before, limit)
  }
}
