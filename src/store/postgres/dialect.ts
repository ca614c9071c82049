/** The PostgreSQL dialect of the statements both SQL backends share (see `../sql/dialect.ts`). */
import pg from 'pg'
import type { Binder, SqlDialect } from '../sql/dialect.js'

/**
 * The columns of a run row, named, never `*`: statements are prepared once per connection, and a
 * prepared `SELECT *` fails ("cached plan must not change result type") once a later migration
 * adds a column while older processes still run.
 */
export const RUN_COLUMNS = `id, task, label, queue, priority, status, args, tags, category, created_by, unique_key, parent_id, pool_id, schedule_id, fire_key,
  group_key, attempt, attempt_base, max_attempts, backoff, timeout_ms, run_at, not_after, created_at, enqueued_at, started_at, finished_at, updated_at,
  worker_id, lease_expires_at, cancel_requested_at, cancel_reason, progress, data, error, attempts, log_count, deleted_at, cancelled_by, in_process, request_id`

/** Numbered parameters (`$1`, `$2`, …) bound from one array. */
export function positionalBinder(): Binder<unknown[]> {
  const values: unknown[] = []
  return {
    bind(value) {
      values.push(value)
      return `$${values.length}`
    },
    snapshot: () => [...values],
  }
}

/** SQL appending a JSON object (text) to a `json` array without parsing the array. */
export const appendAttempt = (attempts: string, value: string): string =>
  `(CASE WHEN ${attempts}::text = '[]' THEN '[' || ${value} || ']' ELSE left(${attempts}::text, -1) || ',' || ${value} || ']' END)::json`

/** PostgreSQL: `json` columns take text cast to `json`, lists travel as arrays, runs are ordered by id (UUIDv7). */
export function postgresDialect(runs: string): SqlDialect {
  return {
    runs,
    runColumns: RUN_COLUMNS,
    appendAttempt,
    currentAttemptJson: `json_build_object('number', attempt, 'workerId', worker_id, 'startedAt', started_at, 'finishedAt', finished_at, 'outcome', status, 'error', error)::text`,
    json: (placeholder) => `${placeholder}::json`,
    oneOf: (column, values, binder) => `${column} = ANY(${binder.bind(values)}::text[])`,
    // Tags are a JSON array of strings written by JSON.stringify. `,"tag",` found in the array
    // text with its brackets turned into commas is an element equal to the tag (a quote inside a
    // string is always escaped, so `,"` only starts an element). Unlike a JSON function, this
    // never trips over a `\u0000` escape in some other run's tags.
    hasTag: (tag, binder) => `strpos(',' || btrim(tags::text, '[]') || ',', ${binder.bind(`,${JSON.stringify(tag)},`)}) > 0`,
    // `args` is json: matched as its text.
    like: (column, pattern) => `${column === 'args' ? 'args::text' : column} ILIKE ${pattern}`,
    // Ids are UUIDv7, so id order is creation order (a run no longer stored still has its place).
    olderThan: (id, binder) => `id < ${binder.bind(id)}`,
    uniqueViolation: (error) => (error instanceof pg.DatabaseError && error.code === '23505' ? (error.constraint ?? 'runs_unique_active') : undefined),
  }
}
