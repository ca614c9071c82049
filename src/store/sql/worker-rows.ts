/** Rows of the `workers` table ↔ worker records, for both SQL backends. */
import type { WorkerCommand, WorkerCommandType, WorkerInfo, WorkerSeen, WorkerState, WorkerWrite } from '../contract/workers.js'
import { date, fromJson, num } from './columns.js'

/** The columns of a {@link WorkerRow}, in a statement's select list. */
export const WORKER_COLUMNS = 'id, host, pid, concurrency, busy, queues, tasks, running, started_at, heartbeat_at, observer, state, command, command_by, command_at'

/** The command columns a heartbeat's save reads back. */
export const COMMAND_COLUMNS = 'command, command_by, command_at'

/** The command columns of a `workers` row. */
export interface CommandRow {
  command: string | null
  command_by: string | null
  command_at: number | string | null
}

/** A row of the `workers` table. */
export interface WorkerRow extends CommandRow {
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
  state: string
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
    state: row.state as WorkerState,
    command: toCommand(row),
  }
}

/** The command stored on a row, if any. */
export function toCommand(row: CommandRow | undefined): WorkerCommand | null {
  if (row === undefined || row.command === null || row.command_at === null) return null
  return { type: row.command as WorkerCommandType, by: row.command_by, at: date(row.command_at) }
}

/** The JSON columns of a worker to save, as text. */
export function workerJson(worker: WorkerWrite): { queues: string | null; tasks: string; running: string } {
  return { queues: worker.queues === null ? null : JSON.stringify(worker.queues), tasks: JSON.stringify(worker.tasks), running: JSON.stringify(worker.running) }
}

/**
 * The guard of a command's update: a `stop` stays (a stopping worker is not quieted or resumed);
 * `$type` is the parameter holding the new command's type.
 */
export const commandGuard = (type: string): string => `(command IS NULL OR command <> 'stop' OR ${type} = 'stop')`

/** The queue of a `workers_seen` row that stands for every queue (no queue name can be `*`). */
export const EVERY_QUEUE = '*'

/** A row of the `workers_seen` table. */
export interface WorkerSeenRow {
  task: string
  queue: string
  seen_at: number | string
}

/** Maps a `workers_seen` row to a {@link WorkerSeen}. */
export function toWorkerSeen(row: WorkerSeenRow): WorkerSeen {
  return { task: row.task, queue: row.queue === EVERY_QUEUE ? null : row.queue, seenAt: date(row.seen_at) }
}
