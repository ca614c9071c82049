/**
 * Workers that died recently: rows whose heartbeat stopped (the process was killed, crashed or
 * lost the store) are kept for {@link DEAD_WORKER_KEEP_MS} (retention deletes older ones), so
 * operators see what each held at its last heartbeat and what became of every run: still
 * waiting for the rescue, pending again, running on another worker, finished (and where), or
 * deleted. A worker that stops gracefully removes its row: it is not dead.
 */
import type { Attempt, Run, RunState, Store, WorkerInfo } from '../../store/types.js'

/** How long the rows of dead workers are kept (and listed): a day. */
export const DEAD_WORKER_KEEP_MS = 86_400_000
/** At most this many dead workers are listed, last heartbeat first. */
export const MAX_DEAD_WORKERS = 20
/** At most this many held runs are read per dead worker (the rest are counted in `heldTotal`). */
export const MAX_HELD_RUNS = 50

/** What became of a run a dead worker held: a state it is in now, or why it is gone. */
export type HeldRunFate = RunState | 'awaiting-rescue' | 'deleted' | 'purged'

/** A run a worker held when it died, and what became of it. */
export interface HeldRun {
  readonly id: string
  /** Its task (`null` once purged). */
  readonly task: string | null
  /** Its label (`null` once purged). */
  readonly label: string | null
  /**
   * What became of it: `awaiting-rescue` (its lease has not expired yet), `pending` (back in
   * the queue), `running` / `waiting` (on another worker, see `nowOn`), `succeeded` / `failed` /
   * `cancelled` (finished, see `nowOn`), `deleted`, or `purged` (retention deleted it).
   */
  readonly fate: HeldRunFate
  /** The worker that executes it now, or executed its last attempt, when not the dead one. */
  readonly nowOn: string | null
  /**
   * The dead worker's attempt as the rescue recorded it (outcome `retry` or `failed` with
   * `ERR_WORKER_LOST`, or `interrupted`); `null` when its handler never started there (it went
   * back unspent) or the rescue has not happened yet.
   */
  readonly lostAttempt: Attempt | null
}

/** A worker whose heartbeat stopped, with the runs it held then. */
export interface DeadWorker extends WorkerInfo {
  /** The runs it held at its last heartbeat (at most {@link MAX_HELD_RUNS}), with their fate. */
  readonly held: readonly HeldRun[]
  /** How many runs it held in all. */
  readonly heldTotal: number
}

/** What became of run `id` that `worker` held when it died. */
export function heldRun(workerId: string, id: string, run: Run | undefined): HeldRun {
  if (run === undefined) return { id, task: null, label: null, fate: 'purged', nowOn: null, lostAttempt: null }
  const lostAttempt = run.attempts.findLast((a) => a.workerId === workerId) ?? null
  const base = { id, task: run.task, label: run.label, lostAttempt }
  if (run.deletedAt !== null) return { ...base, fate: 'deleted', nowOn: null }
  if ((run.status === 'running' || run.status === 'waiting') && run.workerId === workerId) return { ...base, fate: 'awaiting-rescue', nowOn: null }
  const on = run.status === 'running' || run.status === 'waiting' ? run.workerId : (run.attempts.at(-1)?.workerId ?? null)
  return { ...base, fate: run.status, nowOn: on === workerId ? null : on }
}

/**
 * Workers whose last heartbeat is before `liveSince` and within {@link DEAD_WORKER_KEEP_MS} of
 * `now`, last heartbeat first, each with the runs it held and their fate. Processes that only
 * served live views (no worker) are left out.
 */
export async function deadWorkers(store: Store, now: number, liveSince: number): Promise<DeadWorker[]> {
  const rows = (await store.listWorkers(now - DEAD_WORKER_KEEP_MS, liveSince)).filter((w) => w.concurrency > 0)
  const recent = rows.sort((a, b) => b.heartbeatAt.getTime() - a.heartbeatAt.getTime()).slice(0, MAX_DEAD_WORKERS)
  return Promise.all(
    recent.map(async (worker) => {
      const ids = worker.running.slice(0, MAX_HELD_RUNS)
      const runs = await Promise.all(ids.map((id) => store.getRun(id, { includeDeleted: true })))
      return { ...worker, held: ids.map((id, i) => heldRun(worker.id, id, runs[i])), heldTotal: worker.running.length }
    }),
  )
}

/** What became of a held run, in words (for the CLI and the admin UI). */
export function describeFate(run: HeldRun): string {
  switch (run.fate) {
    case 'awaiting-rescue':
      return 'awaiting rescue (its lease has not expired yet)'
    case 'pending':
      return 'pending again'
    case 'purged':
      return 'no longer stored (retention)'
    default:
      return `${run.fate}${run.nowOn === null ? '' : ` on ${run.nowOn}`}`
  }
}
