/**
 * taskengine — the core: task definitions, typed fields, the engine and its in-process runs.
 */
export { defineTask, isTask, DEFAULT_CATEGORY, DEFAULT_ICON, UNLIMITED_CONCURRENCY } from './task/define.js'
export type { AnyTask, Task, TaskArgs, TaskData, TaskOptions } from './task/define.js'
export { parseArgs, titleCase, FIELD_TYPES } from './task/fields.js'
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
export { fieldInfo, taskInfo } from './task/describe.js'
export type { FieldInfo, TaskInfo } from './task/describe.js'
export { TaskRegistry } from './task/registry.js'
export type { TaskCategory } from './task/registry.js'
export { LOG_LEVELS } from './task/context.js'
export type { LogEntry, LogFunction, LogLevel, Progress, ProgressUpdate, RunContext, RunError, RunResult, RunStatus } from './task/context.js'
export { Engine, createEngine, resolveConcurrency, DEFAULT_LABEL } from './engine/engine.js'
export type { ArgsInputOf, EngineOptions, RunAllOptions, RunOptions } from './engine/engine.js'
export { RunBatch } from './engine/run-batch.js'
export type {
  RunEvent,
  RunEventFilter,
  RunEventListener,
  RunFinishedEvent,
  RunLogEvent,
  RunProgressEvent,
  RunStartedEvent,
  RunTagsEvent,
} from './engine/events.js'
export {
  CancelledError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RetryLaterError,
  TaskDefinitionError,
  TaskEngineError,
  TimeoutError,
  UnrecoverableError,
  ValidationError,
  coerceError,
} from './errors.js'
export type { ErrorCode, FieldIssue } from './errors.js'
export { defineConfig } from './config.js'
export type { TaskEngineConfig } from './config.js'
