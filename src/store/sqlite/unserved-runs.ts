/** Runs nobody can execute: pending runs counted per task and queue, and failing those no live worker served for too long. */
import type { PendingTaskQueue, UnservedFailure } from '../contract/maintenance.js'
import type { Run } from '../contract/runs.js'
import { toPendingTaskQueue, unservedTargetsJson, type PendingTaskRow } from '../sql/unserved-rows.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'

/** Pending runs per task and queue, read from `runs_pending`. */
export function pendingByTask(db: SqliteConnection): PendingTaskQueue[] {
  const rows = db.stmt(`SELECT task, queue, count(*) AS n, min(run_at) AS oldest FROM runs INDEXED BY runs_pending WHERE status = 'pending' GROUP BY task, queue`).all() as PendingTaskRow[]
  return rows.map(toPendingTaskQueue)
}

// One statement for every target: the targets arrive as one JSON array.
const FAIL = `UPDATE runs SET status = 'failed', finished_at = @now, updated_at = @now, error = t.t_error
  FROM (SELECT json_extract(value, '$.task') AS t_task, json_extract(value, '$.queue') AS t_queue, json_extract(value, '$.dueBy') AS t_due,
               json_extract(value, '$.error') AS t_error FROM json_each(@targets)) AS t
  WHERE runs.status = 'pending' AND runs.task = t.t_task AND runs.queue = t.t_queue AND runs.run_at <= t.t_due
  RETURNING *`

/** Fails pending runs of the targets' tasks and queues due by each target's time; returns them. */
export function failUnserved(db: SqliteConnection, targets: readonly UnservedFailure[], now: number): Run[] {
  if (targets.length === 0) return []
  const rows = db.write(() => db.stmt(FAIL).all({ now, targets: unservedTargetsJson(targets) }) as RunRow[])
  return rows.map(toRun)
}
