/**
 * Row ↔ domain mapping shared by the SQL backends. Columns are snake_case; times are epoch
 * milliseconds (numbers, or strings from drivers that return 64-bit integers as text);
 * structured columns are JSON text (or already-parsed JSON from drivers with a JSON type).
 */
import type { LogEntry, LogLevel, Progress, RunError } from '../task/context.js'
import type { Artifact, Attempt, BackoffSpec, Pool, Run, RunCategory, RunState, WorkerInfo } from './types.js'

/** A row of the `runs` table as a driver returns it. */
export interface RunRow {
  id: string
  task: string
  label: string
  queue: string
  priority: number | string
  status: string
  args: unknown
  tags: unknown
  category: string
  created_by: string | null
  unique_key: string | null
  parent_id: string | null
  pool_id: string | null
  schedule_id: string | null
  fire_key: string | null
  attempt: number | string
  attempt_base: number | string
  max_attempts: number | string
  backoff: unknown
  timeout_ms: number | string | null
  run_at: number | string
  not_after: number | string | null
  created_at: number | string
  enqueued_at: number | string
  started_at: number | string | null
  finished_at: number | string | null
  updated_at: number | string
  worker_id: string | null
  lease_expires_at: number | string | null
  cancel_requested_at: number | string | null
  cancel_reason: string | null
  progress: unknown
  data: unknown
  error: unknown
  attempts: unknown
  log_count: number | string
  deleted_at: number | string | null
}

/** JSON text → value; values a driver already parsed pass through. */
export function fromJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null
  return JSON.parse(value) as unknown
}

const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value))
const date = (value: number | string): Date => new Date(num(value))
const maybeDate = (value: number | string | null): Date | null => (value === null ? null : date(value))

/** Maps a `runs` row to a {@link Run}. */
export function toRun(row: RunRow): Run {
  return {
    id: row.id,
    task: row.task,
    label: row.label,
    queue: row.queue,
    priority: num(row.priority),
    status: row.status as RunState,
    args: (fromJson(row.args) ?? {}) as Record<string, unknown>,
    tags: (fromJson(row.tags) ?? []) as string[],
    category: row.category as RunCategory,
    createdBy: row.created_by,
    uniqueKey: row.unique_key,
    parentId: row.parent_id,
    poolId: row.pool_id,
    scheduleId: row.schedule_id,
    fireKey: row.fire_key,
    attempt: num(row.attempt),
    attemptBase: num(row.attempt_base),
    maxAttempts: num(row.max_attempts),
    backoff: fromJson(row.backoff) as BackoffSpec | null,
    timeoutMs: row.timeout_ms === null ? null : num(row.timeout_ms),
    runAt: date(row.run_at),
    notAfter: maybeDate(row.not_after),
    createdAt: date(row.created_at),
    enqueuedAt: date(row.enqueued_at),
    startedAt: maybeDate(row.started_at),
    finishedAt: maybeDate(row.finished_at),
    updatedAt: date(row.updated_at),
    workerId: row.worker_id,
    leaseExpiresAt: maybeDate(row.lease_expires_at),
    cancelRequestedAt: maybeDate(row.cancel_requested_at),
    cancelReason: row.cancel_reason,
    progress: fromJson(row.progress) as Progress | null,
    data: fromJson(row.data),
    error: fromJson(row.error) as RunError | null,
    attempts: attemptsOf(row),
    logCount: num(row.log_count),
    deletedAt: maybeDate(row.deleted_at),
  }
}

/**
 * The run's attempts. Stores record an attempt in the JSON list when it does not end the run
 * (a retry, an interruption, a lost worker); the attempt that ended the run is read from the
 * run's own columns, so finishing a run writes no JSON.
 */
function attemptsOf(row: RunRow): Attempt[] {
  const stored = ((fromJson(row.attempts) ?? []) as StoredAttempt[]).map(toAttempt)
  const attempt = num(row.attempt)
  const final = row.status === 'succeeded' || row.status === 'failed' || row.status === 'cancelled'
  if (final && stored.length < attempt && row.started_at !== null && row.finished_at !== null) {
    stored.push({
      number: attempt,
      workerId: row.worker_id,
      startedAt: date(row.started_at),
      finishedAt: date(row.finished_at),
      outcome: row.status as Attempt['outcome'],
      error: fromJson(row.error) as RunError | null,
    })
  }
  return stored
}

/** An attempt as stored in the `attempts` JSON array (times in ms). */
export interface StoredAttempt {
  number: number
  workerId: string | null
  startedAt: number
  finishedAt: number
  outcome: Attempt['outcome']
  error: RunError | null
}

function toAttempt(stored: StoredAttempt): Attempt {
  return { ...stored, startedAt: new Date(stored.startedAt), finishedAt: new Date(stored.finishedAt) }
}

/** An attempt as JSON text for the `attempts` array. */
export function attemptJson(attempt: Attempt): string {
  const stored: StoredAttempt = {
    number: attempt.number,
    workerId: attempt.workerId,
    startedAt: attempt.startedAt.getTime(),
    finishedAt: attempt.finishedAt.getTime(),
    outcome: attempt.outcome,
    error: attempt.error,
  }
  return JSON.stringify(stored)
}

/** A row of the `logs` table. */
export interface LogRow {
  seq: number | string
  time: number | string
  level: string
  message: string
}

export function toLogEntry(row: LogRow): LogEntry {
  return { seq: num(row.seq), time: date(row.time), level: row.level as LogLevel, message: row.message }
}

/** A row of the `pools` table. */
export interface PoolRow {
  id: string
  parent_run_id: string | null
  root_id: string
  label: string | null
  created_at: number | string
  closed_at: number | string | null
}

export function toPool(row: PoolRow): Pool {
  return { id: row.id, parentRunId: row.parent_run_id, rootId: row.root_id, label: row.label, createdAt: date(row.created_at), closedAt: maybeDate(row.closed_at) }
}

/** A row of the `artifacts` table (without the bytes). */
export interface ArtifactRow {
  run_id: string
  name: string
  content_type: string
  size: number | string
  created_at: number | string
}

export function toArtifact(row: ArtifactRow): Artifact {
  return { runId: row.run_id, name: row.name, contentType: row.content_type, size: num(row.size), createdAt: date(row.created_at) }
}

/** A row of the `workers` table. */
export interface WorkerRow {
  id: string
  host: string
  pid: number | string
  concurrency: number | string
  busy: number | string
  queues: unknown
  tasks: unknown
  running: unknown
  started_at: number | string
  heartbeat_at: number | string
  observer: number | boolean
}

export function toWorker(row: WorkerRow): WorkerInfo {
  return {
    id: row.id,
    host: row.host,
    pid: num(row.pid),
    concurrency: num(row.concurrency),
    busy: num(row.busy),
    queues: fromJson(row.queues) as string[] | null,
    tasks: (fromJson(row.tasks) ?? []) as string[],
    running: (fromJson(row.running) ?? []) as string[],
    startedAt: date(row.started_at),
    heartbeatAt: date(row.heartbeat_at),
    observer: row.observer === true || row.observer === 1,
  }
}

/** The error recorded on a run that expired before it started. */
export const EXPIRED_ERROR: RunError = { message: 'expired: not started before its notAfter time', code: 'ERR_EXPIRED', name: 'ExpiredError' }

/** The error recorded on a run cancelled before it started, or whose cancelled worker died. */
export function cancelledError(reason: string | null): RunError {
  return { message: reason === null || reason === '' ? 'cancelled' : `cancelled: ${reason}`, code: 'ERR_CANCELLED', name: 'CancelledError' }
}
