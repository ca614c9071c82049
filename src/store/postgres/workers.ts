/** The worker registry: rows saved at each heartbeat, removed at stop, listed while alive. */
import type { WorkerInfo, WorkerWrite } from '../contract/workers.js'
import { toWorker, WORKER_COLUMNS, workerJson, type WorkerRow } from '../sql/worker-rows.js'
import type { PostgresConnection } from './connection.js'

/** Registers or refreshes a worker. */
export async function saveWorker(conn: PostgresConnection, worker: WorkerWrite): Promise<void> {
  const db = await conn.db()
  const json = workerJson(worker)
  await conn.query(
    db,
    `INSERT INTO ${conn.tables.workers} (id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer)
       VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8::json, $9, $10, $11)
       ON CONFLICT (id) DO UPDATE SET concurrency = excluded.concurrency, busy = excluded.busy, queues = excluded.queues,
         tasks = excluded.tasks, running = excluded.running, heartbeat_at = excluded.heartbeat_at, observer = excluded.observer`,
    [worker.id, worker.host, worker.pid, worker.concurrency, worker.busy, json.queues, json.tasks, json.running, worker.startedAt, worker.heartbeatAt, worker.observer],
  )
}

/** Removes a worker's row. */
export async function removeWorker(conn: PostgresConnection, id: string): Promise<void> {
  const db = await conn.db()
  await conn.query(db, `DELETE FROM ${conn.tables.workers} WHERE id = $1`, [id])
}

/** Workers with a heartbeat at or after `since`. */
export async function listWorkers(conn: PostgresConnection, since: number): Promise<WorkerInfo[]> {
  const db = await conn.db()
  const rows = await conn.query<WorkerRow>(db, `SELECT ${WORKER_COLUMNS} FROM ${conn.tables.workers} WHERE heartbeat_at >= $1 ORDER BY started_at`, [since])
  return rows.map(toWorker)
}
