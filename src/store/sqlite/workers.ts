/** The worker registry: rows saved at each heartbeat, removed at stop, listed while alive. */
import type { WorkerInfo, WorkerWrite } from '../contract/workers.js'
import { toWorker, workerJson, type WorkerRow } from '../sql/worker-rows.js'
import type { SqliteConnection } from './connection.js'

/** Registers or refreshes a worker. */
export function saveWorker(db: SqliteConnection, worker: WorkerWrite): void {
  db.stmt(
    `INSERT INTO workers (id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer)
       VALUES (@id, @host, @pid, @concurrency, @busy, @queues, @tasks, @running, @startedAt, @heartbeatAt, @observer)
       ON CONFLICT (id) DO UPDATE SET concurrency = excluded.concurrency, busy = excluded.busy, queues = excluded.queues,
         tasks = excluded.tasks, running = excluded.running, heartbeat_at = excluded.heartbeat_at, observer = excluded.observer`,
  ).run({
    id: worker.id,
    host: worker.host,
    pid: worker.pid,
    concurrency: worker.concurrency,
    busy: worker.busy,
    ...workerJson(worker),
    startedAt: worker.startedAt,
    heartbeatAt: worker.heartbeatAt,
    observer: worker.observer ? 1 : 0,
  })
}

/** Removes a worker's row. */
export function removeWorker(db: SqliteConnection, id: string): void {
  db.stmt('DELETE FROM workers WHERE id = ?').run(id)
}

/** Workers with a heartbeat at or after `since`. */
export function listWorkers(db: SqliteConnection, since: number): WorkerInfo[] {
  const rows = db.stmt('SELECT * FROM workers WHERE heartbeat_at >= ? ORDER BY started_at').all(since) as WorkerRow[]
  return rows.map(toWorker)
}
