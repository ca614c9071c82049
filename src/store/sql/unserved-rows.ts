/** Rows of pending runs per task and queue, and the targets of a fail of unserved runs, for both SQL backends. */
import type { PendingTaskQueue, UnservedFailure } from '../contract/maintenance.js'
import { date, num } from './columns.js'

/** Pending runs of one task on one queue, as both backends count them. */
export interface PendingTaskRow {
  task: string
  queue: string
  n: number | string
  oldest: number | string
}

/** A {@link PendingTaskRow} as a {@link PendingTaskQueue}. */
export function toPendingTaskQueue(row: PendingTaskRow): PendingTaskQueue {
  return { task: row.task, queue: row.queue, pending: num(row.n), oldestRunAt: date(row.oldest) }
}

/** The targets of `failUnserved` as one JSON array (each error as the JSON text the `error` column holds). */
export function unservedTargetsJson(targets: readonly UnservedFailure[]): string {
  return JSON.stringify(targets.map((t) => ({ task: t.task, queue: t.queue, dueBy: t.dueBy, error: JSON.stringify(t.error) })))
}
