/** Rows of the `workers` table ↔ worker records, for both SQL backends. */
import type { WorkerInfo, WorkerWrite } from '../contract/workers.js'
import { date, fromJson, num } from './columns.js'

/** The columns of a {@link WorkerRow}, in a statement's select list. */
export const WORKER_COLUMNS = 'id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer'

/** A row of the `workers` table. */
export interface WorkerRow {
  id: string
  host: string
  pid: number | string
  concurrency: number | string
  busy: number | string
  queues: unknown
  tasks: unknown
  running: unknown
  started_at: number | string
  heartbeat_at: number | string
  observer: number | boolean
}

/** Maps a `workers` row to a {@link WorkerInfo}. */
export function toWorker(row: WorkerRow): WorkerInfo {
  return {
    id: row.id,
    host: row.host,
    pid: num(row.pid),
    concurrency: num(row.concurrency),
    busy: num(row.busy),
    queues: fromJson(row.queues) as string[] | null,
    tasks: (fromJson(row.tasks) ?? []) as string[],
    running: (fromJson(row.running) ?? []) as string[],
    startedAt: date(row.started_at),
    heartbeatAt: date(row.heartbeat_at),
    observer: row.observer === true || row.observer === 1,
  }
}

/** The JSON columns of a worker to save, as text. */
export function workerJson(worker: WorkerWrite): { queues: string | null; tasks: string; running: string } {
  return { queues: worker.queues === null ? null : JSON.stringify(worker.queues), tasks: JSON.stringify(worker.tasks), running: JSON.stringify(worker.running) }
}
