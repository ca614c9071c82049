/**
 * The worker's heartbeat, every `heartbeatMs` (default `leaseMs / 3`): renews the leases of the
 * runs it executes and holds ahead (fenced by their tokens), and hears back which of them had a
 * cancel requested (their signals fire) and which it lost (aborted; they write nothing more). It
 * also saves the worker's row, looks for processes serving live views, and re-reads the shared
 * settings beside the renewal, never in front of it.
 */
import { CancelledError, coerceError } from '../../errors.js'
import type { Lease } from '../../store/types.js'
import type { WorkerEngine } from './worker-engine.js'

/** What a heartbeat needs from its worker. */
export interface HeartbeatHost {
  readonly workerId: string
  readonly engine: WorkerEngine
  /** The leases to renew: runs executing, then runs held ahead. */
  leases(): Lease[]
  /** A cancel was requested for a run held here. */
  abort(runId: string, reason: Error): void
  /** A run held here is no longer this worker's (rescued, retried, deleted). */
  lose(runId: string): void
  /** Saves the worker's row now. */
  saveRow(): Promise<void>
}

/** One heartbeat. Never rejects: a failure is reported, and the next beat tries again. */
export async function heartbeat(host: HeartbeatHost): Promise<void> {
  const engine = host.engine
  // Settings are read beside the lease renewal, never in front of it.
  void engine.refreshSettings().catch((error: unknown) => engine.onError(new Error(`reading settings failed: ${coerceError(error).message}`, { cause: error })))
  try {
    const leases = host.leases()
    const now = engine.now()
    const outcome = await engine.store.renewLeases(host.workerId, leases, now + engine.leaseMs)
    for (const { id, reason } of outcome.cancelRequested) host.abort(id, new CancelledError(reason === null || reason === '' ? 'cancelled' : `cancelled: ${reason}`))
    for (const id of outcome.lost) host.lose(id)
    await host.saveRow()
    await lookForObservers(engine)
  } catch (error) {
    engine.onError(new Error(`heartbeat failed: ${coerceError(error).message}`, { cause: error }))
  }
}

/** Tells the engine which processes sharing the store serve live views (where the store can push events). */
export async function lookForObservers(engine: WorkerEngine): Promise<void> {
  if (engine.store.signal === undefined) return
  try {
    engine.peers(await engine.store.listWorkers(engine.now() - engine.heartbeatMs * 3))
  } catch (error) {
    engine.onError(new Error(`listing workers failed: ${coerceError(error).message}`, { cause: error }))
  }
}
