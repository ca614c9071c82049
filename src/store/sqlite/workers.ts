/**
 * The worker registry: rows saved at each heartbeat (reading back the command an operator left
 * there), removed at stop, listed while alive and for a while after death, purged by retention.
 */
import type { WorkerCommand, WorkerCommandWrite, WorkerInfo, WorkerSeen, WorkerWrite } from '../contract/workers.js'
import { COMMAND_COLUMNS, EVERY_QUEUE, commandGuard, toCommand, toWorker, toWorkerSeen, workerJson, type CommandRow, type WorkerRow, type WorkerSeenRow } from '../sql/worker-rows.js'
import type { SqliteConnection } from './connection.js'

/** Registers or refreshes a worker; returns the command on its row. */
export function saveWorker(db: SqliteConnection, worker: WorkerWrite): WorkerCommand | null {
  const row = db
    .stmt(
      `INSERT INTO workers (id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer, state)
       VALUES (@id, @host, @pid, @concurrency, @busy, @queues, @tasks, @running, @startedAt, @heartbeatAt, @observer, @state)
       ON CONFLICT (id) DO UPDATE SET concurrency = excluded.concurrency, busy = excluded.busy, queues = excluded.queues,
         tasks = excluded.tasks, running = excluded.running, heartbeat_at = excluded.heartbeat_at, observer = excluded.observer,
         state = excluded.state
       RETURNING ${COMMAND_COLUMNS}`,
    )
    .get({
      id: worker.id,
      host: worker.host,
      pid: worker.pid,
      concurrency: worker.concurrency,
      busy: worker.busy,
      ...workerJson(worker),
      startedAt: worker.startedAt,
      heartbeatAt: worker.heartbeatAt,
      observer: worker.observer ? 1 : 0,
      state: worker.state ?? 'active',
    }) as CommandRow | undefined
  return toCommand(row)
}

/**
 * Keeps the last heartbeat of the workers matching `where` per task and queue they served
 * (`'*'`: every queue), before their rows go.
 */
const keepSeen = (where: string): string => `INSERT INTO workers_seen (task, queue, seen_at)
  SELECT t.value, coalesce(q.value, '${EVERY_QUEUE}') AS queue, max(w.heartbeat_at) FROM workers w JOIN json_each(w.tasks) t LEFT JOIN json_each(w.queues) q
  WHERE ${where} AND w.concurrency > 0 GROUP BY t.value, queue
  ON CONFLICT (task, queue) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)`

/** Removes a worker's row, keeping when it was last seen. */
export function removeWorker(db: SqliteConnection, id: string): void {
  db.write(() => {
    db.stmt(keepSeen('w.id = ?')).run(id)
    db.stmt('DELETE FROM workers WHERE id = ?').run(id)
  })
}

/** When workers whose rows went were last seen. */
export function workersSeen(db: SqliteConnection): WorkerSeen[] {
  return (db.stmt('SELECT task, queue, seen_at FROM workers_seen').all() as WorkerSeenRow[]).map(toWorkerSeen)
}

/** Workers with a heartbeat at or after `since` (and before `until`). */
export function listWorkers(db: SqliteConnection, since: number, until = Number.MAX_SAFE_INTEGER): WorkerInfo[] {
  const rows = db.stmt('SELECT * FROM workers WHERE heartbeat_at >= ? AND heartbeat_at < ? ORDER BY started_at').all(since, until) as WorkerRow[]
  return rows.map(toWorker)
}

/** One worker's row. */
export function getWorker(db: SqliteConnection, id: string): WorkerInfo | undefined {
  const row = db.stmt('SELECT * FROM workers WHERE id = ?').get(id) as WorkerRow | undefined
  return row === undefined ? undefined : toWorker(row)
}

/** Stores a command on a worker's row (a `stop` stays); returns the row after. */
export function commandWorker(db: SqliteConnection, id: string, command: WorkerCommandWrite): WorkerInfo | undefined {
  db.stmt(`UPDATE workers SET command = @type, command_by = @by, command_at = @at WHERE id = @id AND ${commandGuard('@type')}`).run({ id, ...command })
  return getWorker(db, id)
}

/** Deletes rows of workers dead since before `before`. */
export function purgeWorkers(db: SqliteConnection, before: number): number {
  return db.write(() => {
    db.stmt(keepSeen('w.heartbeat_at < ?')).run(before)
    return db.stmt('DELETE FROM workers WHERE heartbeat_at < ?').run(before).changes
  })
}
