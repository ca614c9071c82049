/**
 * taskengine — the core: task definitions, typed fields, the engine and its in-process runs.
 */
export { defineTask, isTask, DEFAULT_CATEGORY, DEFAULT_ICON, UNLIMITED_CONCURRENCY } from './task/define.js'
export type { AnyTask, Task, TaskArgs, TaskData, TaskOptions, TaskRunDefaults } from './task/define.js'
export type { QueueLimits, RateLimit, TaskLimits } from './task/limits.js'
export { parseArgs, titleCase, FIELD_TYPES } from './task/fields.js'
export { parseTaskArgs } from './task/validate.js'
export type { ArgsCheck, ArgsCheckResult, ArgsIssue } from './task/validate.js'
export type {
  ArgsInput,
  ArgsOf,
  BoolField,
  Field,
  FieldType,
  FieldValue,
  FloatField,
  IntField,
  ParseArgsOptions,
  StringField,
  StringListField,
  TimeField,
} from './task/fields.js'
export { defineSchedule, isSchedule, isTimeZone } from './task/schedule.js'
export type { Schedule, ScheduleOptions, ScheduleRunOptions, ScheduleTick } from './task/schedule.js'
export type { ScheduleInfo } from './engine/schedules/scheduler.js'
export { SETTING_KEYS } from './engine/settings/settings.js'
export type { SettingInfo, SettingKey, Settings } from './engine/settings/settings.js'
export { filesLogBackend, STORE_LOG_BACKEND } from './engine/settings/log-backends.js'
export type { LogBackend, LogBackendInfo, LogLine } from './engine/settings/log-backends.js'
export { RETENTION_ID } from './engine/settings/retention.js'
export type { RetentionOptions, RetentionReport } from './engine/settings/retention.js'
export { fieldInfo, taskInfo } from './task/describe.js'
export type { FieldInfo, TaskInfo } from './task/describe.js'
export { TaskRegistry } from './task/registry.js'
export type { TaskCategory } from './task/registry.js'
export { LOG_LEVELS } from './task/context.js'
export type {
  LogEntry,
  LogFunction,
  LogLevel,
  PoolHook,
  PoolOptions,
  PoolSettlement,
  PoolStatus,
  Progress,
  ProgressUpdate,
  QueuedRun,
  RunArtifact,
  RunContext,
  RunError,
  RunPool,
  RunResult,
  RunStatus,
} from './task/context.js'
export { Engine, resolveConcurrency, DEFAULT_LABEL } from './engine/engine.js'
export type { ArgsInputOf, EngineOptions, PoolReport, QueueInfo, RunAllOptions, RunOptions, StopOptions } from './engine/engine.js'
export type { History, HistoryOptions, HistoryRange, Percentiles } from './engine/history/history.js'
export { createEngine } from './create-engine.js'
export type { EnqueueOptions } from './engine/durable/enqueue.js'
export type { QueueSelection, WorkerOptions } from './engine/durable/worker.js'
export type { TracerLike, TracingOption, TracingOptions } from './engine/tracing/options.js'
export { PoolHandle } from './engine/durable/pool.js'
export { DEFAULT_BACKOFF, backoffDelay } from './task/backoff.js'
export type { BackoffFunction, BackoffPolicy, BackoffSpec } from './task/backoff.js'
// The data of stored runs, as users read them. The backend contract (Store, its roles and the
// values they exchange) is taskengine/store.
export { ACTIVE_STATES, FINAL_STATES, RUN_STATES } from './store/types.js'
export type {
  Artifact,
  ArtifactContent,
  Attempt,
  AuditActorKind,
  AuditEntry,
  AuditFilter,
  AuditPage,
  Pool,
  PoolCounts,
  Run,
  RunCategory,
  RunFilter,
  RunPage,
  RunState,
  StoreStats,
  ThroughputBucket,
  WorkerCommand,
  WorkerCommandType,
  WorkerInfo,
  WorkerState,
} from './store/types.js'
export { RunBatch } from './engine/in-process/run-batch.js'
export { RUN_EVENT_TYPES } from './engine/events/run-events.js'
export type {
  RunCreatedEvent,
  RunDeletedEvent,
  RunEvent,
  RunEventFilter,
  RunEventListener,
  RunFinishedEvent,
  RunLogEvent,
  RunProgressEvent,
  RunResultEvent,
  RunRetriedEvent,
  RunRetryingEvent,
  RunStartedEvent,
  RunTagsEvent,
  RunWaitingEvent,
} from './engine/events/run-events.js'
export {
  CancelledError,
  ConflictError,
  ERROR_CATALOG,
  ForbiddenError,
  LeaseLostError,
  NotFoundError,
  RetryLaterError,
  ShutdownError,
  TaskDefinitionError,
  TaskEngineError,
  TimeoutError,
  UnrecoverableError,
  ValidationError,
  coerceError,
} from './errors.js'
export type { ErrorCode, FieldIssue } from './errors.js'
export { defineConfig } from './config.js'
export { DEFAULT_ROLES, PERMISSIONS } from './engine/access/permissions.js'
export type { Permission, Roles } from './engine/access/permissions.js'
export type { Origin, Principal, SessionInfo, SignIn, TokenInfo, UserInfo, UsersOptions } from './engine/access/users.js'
export { Users } from './engine/access/users.js'
export { Audit } from './engine/access/audit.js'
export type { Actor, AuditAction } from './engine/access/audit.js'
export type { TaskEngineConfig } from './config.js'
