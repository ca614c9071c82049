/**
 * The persistence contract every store backend implements (SQLite, PostgreSQL, or one of your
 * own), as role interfaces combined into {@link Store}. The engine depends on this contract only;
 * the built-in backends live in `store/sqlite/` and `store/postgres/`, and every backend passes
 * the conformance suite (`taskengine/store-testing`, `store/testing/`).
 *
 * | role | members | used by |
 * | --- | --- | --- |
 * | {@link QueueStore} | insert, claim, write batches, renew leases, wake-ups | workers, enqueue |
 * | {@link MaintenanceStore} | expired leases, rescue, expiry, retention | the maintaining process |
 * | {@link AdminStore} | get, list, logs, stats, throughput, cancel, retry, delete | API, admin UI, CLI |
 * | {@link ScheduleStore}, {@link SettingsStore}, {@link WorkerStore}, {@link ArtifactStore}, {@link PoolStore} | their records | the engine's parts of those names |
 * | {@link SignalBus} (optional) | push between processes | cancels, settings, live events |
 * | {@link LeaderElection} (optional) | one maintainer at a time | maintenance |
 * | {@link RollupStore} | per-minute rollups of finished runs: fold, read, purge | maintenance, dashboards |
 * | {@link UserStore}, {@link AuditStore} | users, their tokens and sessions; the audit trail | the server, the CLI |
 *
 * Times are epoch milliseconds from the engine's clock; ids are UUIDv7 strings made by the
 * engine. Every write a worker makes to a run it executes is fenced by the run's lease token:
 * when the token no longer matches (the run was rescued, cancelled and retried, deleted), the
 * write changes nothing and the run is reported back as fenced.
 *
 * This module keeps every name of the contract importable from one place; each role lives in
 * `contract/`.
 */
import type { AdminStore } from './contract/admin.js'
import type { ArtifactStore } from './contract/artifacts.js'
import type { LeaderElection } from './contract/leader.js'
import type { MaintenanceStore } from './contract/maintenance.js'
import type { PoolStore } from './contract/pools.js'
import type { QueueStore } from './contract/queue.js'
import type { RollupStore } from './contract/rollups.js'
import type { ScheduleStore } from './contract/schedules.js'
import type { SettingsStore } from './contract/settings.js'
import type { SignalBus } from './contract/signals.js'
import type { WorkerStore } from './contract/workers.js'
import type { BulkStore } from './contract/bulk.js'
import type { UserStore } from './contract/users.js'
import type { AuditStore } from './contract/audit.js'

export type { BackoffSpec } from '../task/backoff.js'
export type { RateLimit } from '../task/limits.js'
export { ACTIVE_STATES, FINAL_STATES, RUN_STATES } from './contract/runs.js'
export type { Attempt, Run, RunCategory, RunFilter, RunPage, RunState } from './contract/runs.js'
export { attemptsLeftAfter } from './contract/queue.js'
export type {
  BatchOutcome,
  ClaimRequest,
  ClaimedRun,
  Completion,
  HoldWrite,
  InProcessStart,
  InsertAndClaim,
  InsertOptions,
  InsertOutcome,
  Lease,
  LogCount,
  NewLogLine,
  NewRun,
  ProgressWrite,
  QueueStore,
  ReleaseWrite,
  RenewOutcome,
  StartWrite,
  WaitWrite,
  WakeListener,
  WriteBatch,
} from './contract/queue.js'
export type { ExpiredRun, MaintenanceStore, PendingTaskQueue, PurgeableCounts, RescueWrite, UnservedFailure } from './contract/maintenance.js'
export type { AdminStore, CancelOutcome, CancelSelection, FlowUsage, FlowUsageQuery, GroupUsage, QueueStats, StoreStats, ThroughputBucket } from './contract/admin.js'
export type { NewPool, Pool, PoolCounts, PoolStore } from './contract/pools.js'
export type { Artifact, ArtifactContent, ArtifactStore, ArtifactWrite } from './contract/artifacts.js'
export type { WorkerCommand, WorkerCommandType, WorkerCommandWrite, WorkerInfo, WorkerSeen, WorkerState, WorkerStore, WorkerWrite } from './contract/workers.js'
export type { FireOutcome, ScheduleFire, ScheduleInit, ScheduleState, ScheduleStore } from './contract/schedules.js'
export type { SettingsStore } from './contract/settings.js'
export type { SignalBus, StoreSignal } from './contract/signals.js'
export type { LeaderElection } from './contract/leader.js'
export type { RollupFold, RollupQuery, RollupReport, RollupStore, RollupTotals } from './contract/rollups.js'
export type { Histogram } from './rollup-histogram.js'
export { BULK_ACTIONS } from './contract/bulk.js'
export type { BulkAction, BulkBound, BulkJob, BulkProgress, BulkState, BulkStore, NewBulkJob } from './contract/bulk.js'
export { RUN_SORTS } from './contract/runs.js'
export type { RunSort } from './contract/runs.js'
export type { Credential, NewSession, NewUser, NewUserToken, SessionRecord, UserPatch, UserRecord, UserStore, UserTokenRecord } from './contract/users.js'
export type { AuditActorKind, AuditEntry, AuditFilter, AuditPage, AuditStore, NewAuditEntry } from './contract/audit.js'

/** What every backend has besides its roles: a name, readiness and an end. */
export interface StoreLifecycle {
  /** The backend's name: `sqlite`, `postgres`, or your own. */
  readonly kind: string
  /** Resolves when migrations have run and the store is usable (rejects when they cannot). */
  ready(): Promise<void>
  /** Releases the store's connections; later calls reject (or do nothing, for a second `close`). */
  close(): Promise<void>
}

/**
 * The persistence contract: every role, plus the optional signal bus and leader election (a
 * backend has all of a part's members or none; the engine checks `store.signal` and
 * `store.lead`).
 *
 * @example
 * // A backend of your own: implement the roles, then run the conformance suite against it.
 * class MyStore implements Store { readonly kind = 'mine' … }
 */
export interface Store
  extends StoreLifecycle,
    QueueStore,
    MaintenanceStore,
    AdminStore,
    ScheduleStore,
    SettingsStore,
    WorkerStore,
    ArtifactStore,
    PoolStore,
    RollupStore,
    BulkStore,
    UserStore,
    AuditStore,
    Partial<SignalBus>,
    Partial<LeaderElection> {}
