/**
 * Runs nobody can execute: pending runs of a task that no live worker serves on their queue.
 *
 * A worker serves a run when its row is live (a heartbeat within three of the engine's
 * heartbeats, as the Workers page decides), it has slots (`concurrency > 0`: processes that only
 * serve live views do not count, nor do engines that run the task in-process), it is not
 * stopping, it registered the run's task and it serves the run's queue (`queues: null`: every
 * queue). A quieted worker still serves: an operator paused it, it can resume.
 *
 * The check is one read of pending runs per task and queue, one of the worker rows kept (live
 * ones and those dead within a day) and one of `workersSeen` (the last heartbeats of workers whose
 * rows went: stopped gracefully, or purged a day after they died), which say when a worker serving
 * the task on the queue was last seen.
 *
 * With `unservedAfterMs` (the task's, else the engine's), maintenance fails a pending run once
 * it has been due, and its task without a live worker on its queue, for that long: from the
 * later of its `runAt` and the last heartbeat of a worker that served it. A worker that comes up
 * before then claims it; one that came and went restarts the clock.
 */
import { recordedError } from '../../errors.js'
import type { PendingTaskQueue, Run, Store, UnservedFailure, WorkerInfo, WorkerSeen } from '../../store/types.js'
import type { RunError } from '../../task/context.js'
import type { TaskRegistry } from '../../task/registry.js'
import { DEAD_WORKER_KEEP_MS } from './dead-workers.js'

/** A task with pending runs on a queue that no live worker serves. */
export interface UnservedTask {
  /** The task's key. */
  readonly task: string
  /** The queue its pending runs wait in. */
  readonly queue: string
  /** How many runs of it are pending on that queue (due or not). */
  readonly pending: number
  /** The earliest `runAt` among them. */
  readonly oldestRunAt: Date
  /**
   * The last heartbeat of a worker that served the task on that queue (one that died, stopped or
   * is stopping); `null`: never (since the store has kept track, migration 14 on SQLite and 15
   * on PostgreSQL).
   */
  readonly lastSeen: Date | null
}

/** Why a pending run waits for nobody; see {@link unservedRun}. */
export interface UnservedRun {
  /** Since when the run has waited with nobody to execute it: the later of its `runAt` and {@link lastSeen}. */
  readonly since: Date
  /** The last heartbeat of a worker that served its task on its queue; `null`: never. */
  readonly lastSeen: Date | null
  /** When maintenance fails it with `ERR_NO_WORKER` unless a worker comes first; `null`: never (`unservedAfterMs` is off). */
  readonly failsAt: Date | null
}

/** Whether `worker` (live) executes runs of `task` on `queue`. */
export function serves(worker: WorkerInfo, task: string, queue: string): boolean {
  return worker.concurrency > 0 && worker.state !== 'stopping' && worker.tasks.includes(task) && (worker.queues === null || worker.queues.includes(queue))
}

/**
 * The tasks and queues with pending runs that no live worker serves, by task then queue: from
 * `pending` (the store's counts), `workers` (rows with a heartbeat within the day dead workers
 * are kept; those with a heartbeat at or after `liveSince` are live) and `seen` (workers whose
 * rows went).
 */
export function unservedOf(pending: readonly PendingTaskQueue[], workers: readonly WorkerInfo[], seen: readonly WorkerSeen[], liveSince: number): UnservedTask[] {
  const found: UnservedTask[] = []
  for (const p of pending) {
    let lastSeen: number | null = null
    for (const s of seen) {
      if (s.task === p.task && (s.queue === null || s.queue === p.queue) && (lastSeen === null || s.seenAt.getTime() > lastSeen)) lastSeen = s.seenAt.getTime()
    }
    let served = false
    for (const w of workers) {
      if (w.concurrency === 0 || !w.tasks.includes(p.task) || (w.queues !== null && !w.queues.includes(p.queue))) continue
      const at = w.heartbeatAt.getTime()
      if (at >= liveSince && serves(w, p.task, p.queue)) {
        served = true
        break
      }
      if (lastSeen === null || at > lastSeen) lastSeen = at
    }
    if (!served) found.push({ task: p.task, queue: p.queue, pending: p.pending, oldestRunAt: p.oldestRunAt, lastSeen: lastSeen === null ? null : new Date(lastSeen) })
  }
  return found.sort((a, b) => (a.task === b.task ? (a.queue < b.queue ? -1 : 1) : a.task < b.task ? -1 : 1))
}

/** Reads the store for pending runs, then (when there are some) the worker rows and `workersSeen`: the unserved tasks at `now`. */
export async function findUnserved(store: Store, now: number, liveSince: number): Promise<UnservedTask[]> {
  const pending = await store.pendingByTask()
  if (pending.length === 0) return []
  const [workers, seen] = await Promise.all([store.listWorkers(now - DEAD_WORKER_KEEP_MS), store.workersSeen()])
  return unservedOf(pending, workers, seen, liveSince)
}

/**
 * Why `run` waits for nobody, from the unserved tasks; `undefined` when it is not pending or a
 * live worker serves it. `afterMs` is its task's `unservedAfterMs` (`undefined`: off).
 */
export function unservedRun(run: Run, unserved: readonly UnservedTask[], afterMs: number | undefined): UnservedRun | undefined {
  if (run.status !== 'pending') return undefined
  const found = unserved.find((u) => u.task === run.task && u.queue === run.queue)
  if (found === undefined) return undefined
  const since = Math.max(run.runAt.getTime(), found.lastSeen?.getTime() ?? Number.NEGATIVE_INFINITY)
  return { since: new Date(since), lastSeen: found.lastSeen, failsAt: afterMs === undefined ? null : new Date(since + afterMs) }
}

/** "last seen 2026-12-06T20:00:00.000Z" or "last seen: never". */
export function lastSeenText(lastSeen: Date | null): string {
  return lastSeen === null ? 'last seen: never' : `last seen ${lastSeen.toISOString()}`
}

/** The sentence the UI, the API and the CLI show: `no live worker serves task "X" on queue "Q" (last seen …)`. */
export function unservedText(task: string, queue: string, lastSeen: Date | null): string {
  return `no live worker serves task "${task}" on queue "${queue}" (${lastSeenText(lastSeen)})`
}

/** The error of a run failed because nobody served it for `afterMs`. */
export function noWorkerError(task: string, queue: string, afterMs: number, lastSeen: Date | null): RunError {
  return recordedError(
    'ERR_NO_WORKER',
    'NoWorkerError',
    `no live worker served task "${task}" on queue "${queue}" for ${afterMs} ms (unservedAfterMs) while the run was due; ${lastSeen === null ? 'none serving it was ever seen' : `one serving it was last seen ${lastSeen.toISOString()}`}`,
  )
}

/** The `unservedAfterMs` that holds for `task`: its own (`false`: never), else the engine's. */
export function unservedAfterMsOf(registry: TaskRegistry, task: string, engineMs: number | undefined): number | undefined {
  const own = registry.get(task)?.unservedAfterMs
  return own === false ? undefined : (own ?? engineMs)
}

/**
 * Maintenance's step: fails, in one store statement, the pending runs that have waited with
 * nobody to execute them for their task's `unservedAfterMs`. Returns them (their events are the
 * caller's).
 */
export async function failUnservedRuns(store: Store, registry: TaskRegistry, now: number, liveSince: number, engineMs: number | undefined): Promise<Run[]> {
  // Nothing to do unless some task can fail this way: no read at all then.
  if (engineMs === undefined && !registry.list().some((t) => typeof t.unservedAfterMs === 'number')) return []
  const targets: UnservedFailure[] = []
  for (const u of await findUnserved(store, now, liveSince)) {
    const afterMs = unservedAfterMsOf(registry, u.task, engineMs)
    if (afterMs === undefined) continue
    const dueBy = now - afterMs
    // A worker seen within the window saves every run of it: it has not been unserved that long.
    if (u.lastSeen !== null && u.lastSeen.getTime() > dueBy) continue
    if (u.oldestRunAt.getTime() > dueBy) continue
    targets.push({ task: u.task, queue: u.queue, dueBy, error: noWorkerError(u.task, u.queue, afterMs, u.lastSeen) })
  }
  return targets.length === 0 ? [] : store.failUnserved(targets, now)
}

/** How long {@link UnservedWatch} answers from its last read at most, in ms. */
export const UNSERVED_CACHE_MS = 1_000

/**
 * The unserved tasks for pages and the API, read at most once per {@link UNSERVED_CACHE_MS}, or
 * per heartbeat when heartbeats are more frequent (worker rows change no faster).
 */
export class UnservedWatch {
  readonly #read: () => Promise<UnservedTask[]>
  readonly #now: () => number
  readonly #cacheMs: number
  #last: { at: number; value: Promise<UnservedTask[]> } | undefined

  constructor(read: () => Promise<UnservedTask[]>, now: () => number, heartbeatMs: number) {
    this.#read = read
    this.#now = now
    this.#cacheMs = Math.min(UNSERVED_CACHE_MS, heartbeatMs)
  }

  /** The unserved tasks, as read within the cache's time. */
  current(): Promise<UnservedTask[]> {
    const now = this.#now()
    const last = this.#last
    if (last !== undefined && now - last.at < this.#cacheMs && now >= last.at) return last.value
    const value = this.#read()
    this.#last = { at: now, value }
    // A failed read is not kept: the next call reads again.
    value.catch(() => {
      if (this.#last?.value === value) this.#last = undefined
    })
    return value
  }
}
