/**
 * The INSERT of a run executed in-process by its caller (`QueueStore.insertInProcessRun`), the
 * same statement in both SQL backends: the row starts `running`, attempt 1, started and leased,
 * so it never passes through `pending` and no claim can take it.
 */
import type { InProcessStart, NewRun } from '../contract/queue.js'
import { jsonOrNull, tagsJson } from './columns.js'

/** The columns the statement writes, in the order of {@link inProcessValues}. */
const COLUMNS = [
  'id',
  'task',
  'label',
  'queue',
  'priority',
  'args',
  'tags',
  'category',
  'created_by',
  'parent_id',
  'pool_id',
  'schedule_id',
  'max_attempts',
  'backoff',
  'timeout_ms',
  'run_at',
  'created_at',
  'enqueued_at',
  'updated_at',
  'started_at',
  'worker_id',
  'lease_token',
  'lease_expires_at',
  'in_process',
] as const

/**
 * The statement, with `placeholder(i)` the backend's placeholder of value `i` (from 0) and `json`
 * wrapping the placeholders of JSON columns as the backend needs (PostgreSQL casts to `json`).
 */
export function insertInProcessSql(table: string, placeholder: (index: number) => string, json: (value: string) => string, returning: string): string {
  const jsonColumns = new Set<string>(['args', 'tags', 'backoff'])
  const values = COLUMNS.map((column, i) => (jsonColumns.has(column) ? json(placeholder(i)) : placeholder(i)))
  return `INSERT INTO ${table} (${COLUMNS.join(', ')}, status, attempt, attempt_base)
    VALUES (${values.join(', ')}, 'running', 1, 0) RETURNING ${returning}`
}

/** The values of {@link insertInProcessSql}, in column order. */
export function inProcessValues(run: NewRun, start: InProcessStart): unknown[] {
  return [
    run.id,
    run.task,
    run.label,
    run.queue,
    run.priority,
    run.args,
    tagsJson(run.tags),
    run.category,
    run.createdBy,
    run.parentId,
    run.poolId,
    run.scheduleId,
    run.maxAttempts,
    jsonOrNull(run.backoff),
    run.timeoutMs,
    run.runAt,
    run.createdAt,
    run.createdAt,
    start.startedAt,
    start.startedAt,
    start.workerId,
    start.token,
    start.leaseUntil,
    start.from,
  ]
}
