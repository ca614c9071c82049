/**
 * Debounce and throttle on insert (SQLite). Called inside the insert's IMMEDIATE transaction:
 * the write lock serializes every inserter sharing the file, so looking for the pending run (or
 * the throttle holder) and writing what follows is atomic across processes.
 */
import type { InsertOutcome, NewRun } from '../contract/queue.js'
import { tagsJson } from '../sql/columns.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'

/** Whether a new run needs {@link debounceOrThrottle} (it has a debounce key or a throttle). */
export function isFlowRun(run: NewRun): boolean {
  return (run.debounceKey ?? null) !== null || (run.throttle ?? null) !== null
}

/**
 * The pending run of the task holding the debounce key takes the new run's values and start (never
 * an earlier one: inserts racing with clocks a little apart must not pull it forward); `RETURNING`
 * it (uses `runs_debounce`).
 */
const DEBOUNCE = `UPDATE runs SET args = @args, args_hash = @argsHash, label = @label, tags = @tags, priority = @priority, run_at = max(run_at, @runAt),
    not_after = @notAfter, group_key = @groupKey, updated_at = @now
  WHERE task = @task AND debounce_key = @key AND status = 'pending' RETURNING *`

/** The run holding the task's throttle key until after `now`, if it is still stored (not deleted). */
const THROTTLE_HOLDER = `SELECT runs.* FROM throttles JOIN runs ON runs.id = throttles.run_id
  WHERE throttles.task = ? AND throttles.key = ? AND throttles.until > ? AND runs.deleted_at IS NULL`

/** The new run takes the throttle key until `until`. */
const TAKE_THROTTLE = `INSERT INTO throttles (task, key, run_id, until) VALUES (?, ?, ?, ?)
  ON CONFLICT (task, key) DO UPDATE SET run_id = excluded.run_id, until = excluded.until`

/**
 * Applies a run's debounce or throttle (inside the caller's IMMEDIATE transaction). Returns the
 * outcome when an existing run answers for it (the pending run with its debounce key, now
 * carrying the new values; or the throttle's holder), else inserts it with `insert` and returns
 * what that returned, for the caller to turn into an outcome (the unique or fire key may still
 * hold it back). A run that is inserted under a throttle takes its key for `throttle.ms` from its
 * creation.
 */
export function debounceOrThrottle(db: SqliteConnection, run: NewRun, insert: (run: NewRun) => Set<string> | undefined): InsertOutcome | { inserted: Set<string> | undefined } {
  const debounceKey = run.debounceKey ?? null
  if (debounceKey !== null) {
    const row = db.stmt(DEBOUNCE).get({
      task: run.task,
      key: debounceKey,
      args: run.args,
      argsHash: run.argsHash,
      label: run.label,
      tags: tagsJson(run.tags),
      priority: run.priority,
      runAt: run.runAt,
      notAfter: run.notAfter,
      groupKey: run.groupKey ?? null,
      now: run.createdAt,
    }) as RunRow | undefined
    if (row !== undefined) return { run: toRun(row), created: false }
  }
  // A run with both is debounced only (the engine never sends both), as on PostgreSQL.
  const throttle = debounceKey === null ? (run.throttle ?? null) : null
  if (throttle !== null) {
    const holder = db.stmt(THROTTLE_HOLDER).get(run.task, throttle.key, run.createdAt) as RunRow | undefined
    if (holder !== undefined) return { run: toRun(holder), created: false }
  }
  const inserted = insert(run)
  if (throttle !== null && (inserted === undefined || inserted.has(run.id))) {
    db.stmt(TAKE_THROTTLE).run(run.task, throttle.key, run.id, run.createdAt + throttle.ms)
  }
  return { inserted }
}
