/**
 * Queues as an operator sees them: every queue this engine knows of — those its tasks enqueue
 * into, those it has limits for, and those with runs in the store — idle ones included, with the
 * limit across workers and what is pending and running now.
 */
import type { QueueStats } from '../../store/types.js'
import { DEFAULT_QUEUE, type AnyTask } from '../../task/define.js'

/** One queue in {@link queueReport}. */
export interface QueueInfo {
  /** The queue's name. */
  readonly name: string
  /** At most this many of its runs executing at once across every worker (`EngineOptions.queues`); `null`: no such limit. */
  readonly concurrency: number | null
  /** The tasks registered here whose runs go to this queue unless an enqueue says otherwise. */
  readonly tasks: readonly string[]
  /** Pending runs, due or not. */
  readonly pending: number
  /** Runs executing (or waiting on their pools) now, on any worker. */
  readonly running: number
  /** When the longest-waiting pending run became due (`null` without pending runs due). */
  readonly oldestPendingAt: Date | null
  /** The earliest start of its pending runs, due or not (`null` without pending runs). */
  readonly nextDueAt: Date | null
}

/** Every known queue, by name: the tasks' queues, the limited ones, and those the store counts. */
export function queueReport(tasks: readonly AnyTask[], limits: ReadonlyMap<string, number>, counted: readonly QueueStats[]): QueueInfo[] {
  const names = new Set<string>([...tasks.map((t) => t.queue ?? DEFAULT_QUEUE), ...limits.keys(), ...counted.map((q) => q.queue)])
  const stats = new Map(counted.map((q) => [q.queue, q]))
  return [...names].sort().map((name) => {
    const q = stats.get(name)
    return {
      name,
      concurrency: limits.get(name) ?? null,
      tasks: tasks.filter((t) => (t.queue ?? DEFAULT_QUEUE) === name).map((t) => t.key).sort(),
      pending: q?.pending ?? 0,
      running: q?.running ?? 0,
      oldestPendingAt: q?.oldestPendingAt ?? null,
      nextDueAt: q?.nextDueAt ?? null,
    }
  })
}
