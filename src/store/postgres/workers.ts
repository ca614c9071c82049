/**
 * The worker registry: rows saved at each heartbeat (reading back the command an operator left
 * there), removed at stop, listed while alive and for a while after death, purged by retention.
 */
import type { WorkerCommand, WorkerCommandWrite, WorkerInfo, WorkerSeen, WorkerWrite } from '../contract/workers.js'
import { COMMAND_COLUMNS, EVERY_QUEUE, commandGuard, toCommand, toWorker, toWorkerSeen, WORKER_COLUMNS, workerJson, type CommandRow, type WorkerRow, type WorkerSeenRow } from '../sql/worker-rows.js'
import type { PostgresConnection } from './connection.js'

/** Registers or refreshes a worker; returns the command on its row. */
export async function saveWorker(conn: PostgresConnection, worker: WorkerWrite): Promise<WorkerCommand | null> {
  const db = await conn.db()
  const json = workerJson(worker)
  const rows = await conn.query<CommandRow>(
    db,
    `INSERT INTO ${conn.tables.workers} (id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer, state)
       VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8::json, $9, $10, $11, $12)
       ON CONFLICT (id) DO UPDATE SET concurrency = excluded.concurrency, busy = excluded.busy, queues = excluded.queues,
         tasks = excluded.tasks, running = excluded.running, heartbeat_at = excluded.heartbeat_at, observer = excluded.observer,
         state = excluded.state
       RETURNING ${COMMAND_COLUMNS}`,
    [worker.id, worker.host, worker.pid, worker.concurrency, worker.busy, json.queues, json.tasks, json.running, worker.startedAt, worker.heartbeatAt, worker.observer, worker.state ?? 'active'],
  )
  return toCommand(rows[0])
}

/**
 * Deletes the rows of workers matching `where` and, in the same statement, keeps their last
 * heartbeat per task and queue they served (`'*'`: every queue), in task and queue order (two
 * removals at once lock the rows they share in one order). Returns the number of rows deleted.
 */
async function deleteKeepingSeen(conn: PostgresConnection, where: string, value: unknown): Promise<number> {
  const db = await conn.db()
  const rows = await conn.query<{ n: string }>(
    db,
    `WITH gone AS (DELETE FROM ${conn.tables.workers} WHERE ${where} RETURNING tasks, queues, heartbeat_at, concurrency),
     seen AS (INSERT INTO ${conn.tables.workersSeen} (task, queue, seen_at)
       SELECT t.task, coalesce(q.queue, '${EVERY_QUEUE}'), max(gone.heartbeat_at) FROM gone
         CROSS JOIN LATERAL json_array_elements_text(gone.tasks) AS t(task)
         LEFT JOIN LATERAL json_array_elements_text(gone.queues) AS q(queue) ON true
       WHERE gone.concurrency > 0 GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT (task, queue) DO UPDATE SET seen_at = GREATEST(${conn.tables.workersSeen}.seen_at, excluded.seen_at))
     SELECT count(*) AS n FROM gone`,
    [value],
  )
  return Number(rows[0]?.n ?? 0)
}

/** Removes a worker's row, keeping when it was last seen. */
export async function removeWorker(conn: PostgresConnection, id: string): Promise<void> {
  await deleteKeepingSeen(conn, 'id = $1', id)
}

/** When workers whose rows went were last seen. */
export async function workersSeen(conn: PostgresConnection): Promise<WorkerSeen[]> {
  const db = await conn.db()
  return (await conn.query<WorkerSeenRow>(db, `SELECT task, queue, seen_at FROM ${conn.tables.workersSeen}`, [])).map(toWorkerSeen)
}

/** Workers with a heartbeat at or after `since` (and before `until`). */
export async function listWorkers(conn: PostgresConnection, since: number, until = Number.MAX_SAFE_INTEGER): Promise<WorkerInfo[]> {
  const db = await conn.db()
  const rows = await conn.query<WorkerRow>(db, `SELECT ${WORKER_COLUMNS} FROM ${conn.tables.workers} WHERE heartbeat_at >= $1 AND heartbeat_at < $2 ORDER BY started_at`, [since, until])
  return rows.map(toWorker)
}

/** One worker's row. */
export async function getWorker(conn: PostgresConnection, id: string): Promise<WorkerInfo | undefined> {
  const db = await conn.db()
  const rows = await conn.query<WorkerRow>(db, `SELECT ${WORKER_COLUMNS} FROM ${conn.tables.workers} WHERE id = $1`, [id])
  return rows[0] === undefined ? undefined : toWorker(rows[0])
}

/** Stores a command on a worker's row (a `stop` stays); returns the row after. */
export async function commandWorker(conn: PostgresConnection, id: string, command: WorkerCommandWrite): Promise<WorkerInfo | undefined> {
  const db = await conn.db()
  await conn.query(db, `UPDATE ${conn.tables.workers} SET command = $2, command_by = $3, command_at = $4 WHERE id = $1 AND ${commandGuard('$2')}`, [id, command.type, command.by, command.at])
  return getWorker(conn, id)
}

/** Deletes rows of workers dead since before `before`. */
export async function purgeWorkers(conn: PostgresConnection, before: number): Promise<number> {
  return deleteKeepingSeen(conn, 'heartbeat_at < $1', before)
}
