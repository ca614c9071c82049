/**
 * The rescuer: what becomes of runs whose worker died (their lease expired). The store reads the
 * expired leases and writes what is decided here, fenced by each lease token; the decision is
 * made in TypeScript, with the task's own retry policy:
 *
 * - a run whose handler never ran (no start counted) goes back as if never claimed;
 * - a cancel requested meanwhile ends it `cancelled`;
 * - a counted attempt with attempts left is retried after its backoff, like any failed attempt
 *   (a handler that crashes its process does not hop from worker to worker at once);
 * - the last attempt lost ends it `failed`.
 */
import { backoffDelay } from '../../task/backoff.js'
import { recordedError } from '../../errors.js'
import type { RunError } from '../../task/context.js'
import type { AnyTask } from '../../task/define.js'
import type { TaskRegistry } from '../../task/registry.js'
import { attemptsLeftAfter, type ExpiredRun, type RescueWrite, type Run, type Store } from '../../store/types.js'
import { backoffPolicyOf } from './attempt-outcome.js'

/** How many expired leases one maintenance pass reads and writes at a time. */
const RESCUE_PAGE = 500

/** The error recorded on an attempt whose worker died. */
export function workerLostError(workerId: string | null): RunError {
  return recordedError('ERR_WORKER_LOST', 'WorkerLostError', `worker lost: ${workerId ?? 'a worker'} stopped renewing its lease (process died or hung)`)
}

const CANCELLED_WHILE_LOST: RunError = recordedError('ERR_CANCELLED', 'CancelledError', 'cancelled: worker lost while cancelling')

/**
 * Decides the fate of one expired run. `task` is the run's task if this process knows it (its
 * backoff function, if it has one, then applies); otherwise the stored backoff, else the default.
 */
export function decideRescue(run: ExpiredRun, task: AnyTask | undefined, now: number): RescueWrite {
  const base = { id: run.id, token: run.token, at: now }
  if (run.startedAt === null) {
    // Its handler never ran: the attempt is taken back and nothing joins its history.
    return run.cancelRequested ? { ...base, status: 'cancelled', error: CANCELLED_WHILE_LOST, attempt: null } : { ...base, status: 'pending', error: run.error, attempt: null }
  }
  const lost = workerLostError(run.workerId)
  const attempt = (outcome: 'retry' | 'failed' | 'cancelled') => ({ number: run.attempt, workerId: run.workerId, startedAt: run.startedAt!, finishedAt: new Date(now), outcome, error: lost })
  if (run.cancelRequested) return { ...base, status: 'cancelled', error: CANCELLED_WHILE_LOST, attempt: attempt('cancelled') }
  if (!attemptsLeftAfter(run)) return { ...base, status: 'failed', error: lost, attempt: attempt('failed') }
  return { ...base, status: 'pending', runAt: now + backoffDelay(backoffPolicyOf(task, run.backoff), run.attempt, lost), error: lost, attempt: attempt('retry') }
}

/** Rescues every run whose lease expired before `now`, a page at a time; returns the runs as written. */
export async function rescueExpiredRuns(store: Store, registry: TaskRegistry, now: number): Promise<Run[]> {
  const rescued: Run[] = []
  for (;;) {
    const expired = await store.expiredLeases(now, RESCUE_PAGE)
    if (expired.length === 0) break
    const written = await store.rescueRuns(expired.map((run) => decideRescue(run, registry.get(run.task), now)))
    rescued.push(...written)
    // A full page may have more behind it (another maintainer may have taken some meanwhile).
    if (expired.length < RESCUE_PAGE || written.length === 0) break
  }
  return rescued
}
