/**
 * The stored view of a run that was just inserted, built from what was inserted: inserting a
 * large batch does not need to read every row back.
 */
import type { NewRun, Run } from './types.js'

export function runFromNew(row: NewRun): Run {
  const createdAt = new Date(row.createdAt)
  return {
    id: row.id,
    task: row.task,
    label: row.label,
    queue: row.queue,
    priority: row.priority,
    status: 'pending',
    args: row.args === '{}' ? {} : (JSON.parse(row.args) as Record<string, unknown>),
    tags: row.tags,
    category: row.category,
    createdBy: row.createdBy,
    uniqueKey: row.uniqueKey,
    parentId: row.parentId,
    poolId: row.poolId,
    scheduleId: row.scheduleId,
    fireKey: row.fireKey ?? null,
    attempt: 0,
    attemptBase: 0,
    maxAttempts: row.maxAttempts,
    backoff: row.backoff,
    timeoutMs: row.timeoutMs,
    runAt: new Date(row.runAt),
    notAfter: row.notAfter === null ? null : new Date(row.notAfter),
    createdAt,
    enqueuedAt: createdAt,
    startedAt: null,
    finishedAt: null,
    updatedAt: createdAt,
    workerId: null,
    leaseExpiresAt: null,
    cancelRequestedAt: null,
    cancelReason: null,
    progress: null,
    data: null,
    error: null,
    attempts: [],
    logCount: 0,
    deletedAt: null,
  }
}
