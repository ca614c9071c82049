/**
 * Rows of the `runs` and `logs` tables ↔ runs, attempts and log entries, for both SQL backends.
 * Columns are snake_case; see `columns.ts` for how values arrive.
 */
import type { BackoffSpec } from '../../task/backoff.js'
import type { LogEntry, LogLevel, Progress, RunError } from '../../task/context.js'
import type { Attempt, Run, RunCategory, RunState } from '../contract/runs.js'
import { date, fromJson, maybeDate, num } from './columns.js'

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
  /** Absent from rows read before migration 12 (SQLite) / 13 (PostgreSQL) ran. */
  request_id?: string | null
  /** Absent from rows read before migration 4 (SQLite) / 5 (PostgreSQL) ran. */
  group_key?: string | null
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
  /** Absent from rows of statements that do not read it. */
  cancelled_by?: string | null
  /** Where an in-process run was started; `NULL` for durable runs. Absent from rows of statements that do not read it. */
  in_process?: string | null
  progress: unknown
  data: unknown
  error: unknown
  attempts: unknown
  log_count: number | string
  deleted_at: number | string | null
}

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
    requestId: row.request_id ?? null,
    groupKey: row.group_key ?? null,
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
    cancelledBy: row.cancelled_by ?? null,
    inProcess: (row.in_process ?? null) !== null,
    startedFrom: row.in_process ?? null,
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

/** Maps a `logs` row to a {@link LogEntry}. */
export function toLogEntry(row: LogRow): LogEntry {
  return { seq: num(row.seq), time: date(row.time), level: row.level as LogLevel, message: row.message }
}
