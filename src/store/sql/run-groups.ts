/**
 * Grouping of new runs by the columns they share, so a bulk insert sends those once per group
 * (both SQL backends).
 */
import type { NewRun } from '../contract/queue.js'

/** A group of new runs that agree on every column but id, arguments and keys. */
export interface RunGroup {
  readonly shared: NewRun
  readonly rows: NewRun[]
}

/**
 * Groups new runs by their shared columns, keeping order within each group. Usually one group
 * (one enqueueMany): each run is compared with the last group first; distinct groups beyond
 * that go through a keyed map.
 */
export function groupRuns(runs: readonly NewRun[]): RunGroup[] {
  const groups: RunGroup[] = []
  const keyed = new Map<string, RunGroup>()
  for (const run of runs) {
    let group = groups.at(-1)
    if (group === undefined || !sharesColumns(group.shared, run)) {
      const key = sharedKey(run)
      group = keyed.get(key)
      if (group === undefined) {
        group = { shared: run, rows: [] }
        groups.push(group)
        keyed.set(key, group)
      }
    }
    group.rows.push(run)
  }
  return groups
}

function sharedKey(r: NewRun): string {
  return JSON.stringify([r.task, r.label, r.queue, r.priority, r.tags, r.category, r.createdBy, r.parentId, r.poolId, r.scheduleId, r.maxAttempts, r.backoff, r.timeoutMs, r.runAt, r.notAfter, r.createdAt])
}

function sharesColumns(a: NewRun, b: NewRun): boolean {
  return (
    a.task === b.task &&
    a.label === b.label &&
    a.queue === b.queue &&
    a.priority === b.priority &&
    a.category === b.category &&
    a.createdBy === b.createdBy &&
    a.parentId === b.parentId &&
    a.poolId === b.poolId &&
    a.scheduleId === b.scheduleId &&
    a.maxAttempts === b.maxAttempts &&
    a.timeoutMs === b.timeoutMs &&
    a.runAt === b.runAt &&
    a.notAfter === b.notAfter &&
    a.createdAt === b.createdAt &&
    (a.backoff === b.backoff || JSON.stringify(a.backoff) === JSON.stringify(b.backoff)) &&
    (a.tags === b.tags || (a.tags.length === b.tags.length && a.tags.every((t, i) => t === b.tags[i])))
  )
}
