/** Runs nobody can execute: pending runs counted per task and queue, and failing those no live worker served for too long. */
import type { PendingTaskQueue, UnservedFailure } from '../contract/maintenance.js'
import type { Run } from '../contract/runs.js'
import { toPendingTaskQueue, unservedTargetsJson, type PendingTaskRow } from '../sql/unserved-rows.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection } from './connection.js'
import { RUN_COLUMNS } from './dialect.js'

/** Pending runs per task and queue (a scan of `runs_pending`). */
export async function pendingByTask(conn: PostgresConnection): Promise<PendingTaskQueue[]> {
  const db = await conn.db()
  const rows = await conn.query<PendingTaskRow>(db, `SELECT task, queue, count(*) AS n, min(run_at) AS oldest FROM ${conn.tables.runs} WHERE status = 'pending' GROUP BY task, queue`, [])
  return rows.map(toPendingTaskQueue)
}

/** Fails pending runs of the targets' tasks and queues due by each target's time, in one statement; returns them. */
export async function failUnserved(conn: PostgresConnection, targets: readonly UnservedFailure[], now: number): Promise<Run[]> {
  if (targets.length === 0) return []
  const db = await conn.db()
  const rows = await conn.query<RunRow>(
    db,
    `UPDATE ${conn.tables.runs} SET status = 'failed', finished_at = $1, updated_at = $1, error = t.t_error::json
       FROM (SELECT task AS t_task, queue AS t_queue, "dueBy" AS t_due, error AS t_error
               FROM jsonb_to_recordset($2::jsonb) AS x(task text, queue text, "dueBy" bigint, error text)) AS t
       WHERE status = 'pending' AND task = t.t_task AND queue = t.t_queue AND run_at <= t.t_due
       RETURNING ${RUN_COLUMNS}`,
    [now, unservedTargetsJson(targets)],
  )
  return rows.map(toRun)
}
