/**
 * A run as one flat row, for CSV answers (`?format=csv`) of every route and admin page that
 * lists runs.
 */
import type { Run } from '../../store/types.js'

/** The CSV columns of a run, as {@link runRow} fills them. */
export const RUN_COLUMNS = [
  'id',
  'task',
  'label',
  'status',
  'queue',
  'priority',
  'attempt',
  'maxAttempts',
  'createdAt',
  'startedAt',
  'finishedAt',
  'durationMs',
  'createdBy',
  'category',
  'tags',
  'progress',
  'args',
  'errorCode',
  'errorMessage',
  'poolId',
  'parentId',
] as const

/** A run as one flat CSV row. */
export function runRow(run: Run): Record<(typeof RUN_COLUMNS)[number], unknown> {
  return {
    id: run.id,
    task: run.task,
    label: run.label,
    status: run.status,
    queue: run.queue,
    priority: run.priority,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.startedAt !== null && run.finishedAt !== null ? run.finishedAt.getTime() - run.startedAt.getTime() : null,
    createdBy: run.createdBy,
    category: run.category,
    tags: run.tags.join('; '),
    progress: run.progress?.percent ?? null,
    args: JSON.stringify(run.args),
    errorCode: run.error?.code ?? null,
    errorMessage: run.error?.message ?? null,
    poolId: run.poolId,
    parentId: run.parentId,
  }
}
