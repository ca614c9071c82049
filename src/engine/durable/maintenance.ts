/**
 * Maintenance, every `leaseMs / 2` in a process running a worker: the rescuer decides the fate of
 * runs whose lease expired (their worker died or hung), pending runs past `notAfter` expire
 * (`cancelled`), pending runs no live worker served for `unservedAfterMs` fail (`ERR_NO_WORKER`,
 * see `unserved.ts`), and the minutes closed since the last pass are folded into the store's rollups
 * (history). Where the store elects a leader (PostgreSQL) only the leader maintains; SQLite
 * statements are atomic, so every worker process may.
 */
import { coerceError } from '../../errors.js'
import { foldHistory } from '../history/history.js'
import { DEFAULT_ROLLUP_RETENTION_DAYS } from '../settings/settings.js'
import { rescueExpiredRuns } from './rescuer.js'
import { failUnservedRuns } from './unserved.js'
import type { WorkerEngine } from './worker-engine.js'

/** One maintenance pass; emits the events of the runs it changed, and `wake`s the worker when rescued runs are pending again. Never rejects. */
export async function maintain(engine: WorkerEngine, wake: () => void): Promise<void> {
  try {
    // Where the store elects a leader, only the leader maintains; the others stand by.
    if (engine.store.lead !== undefined && !(await engine.store.lead())) return
    const now = engine.now()
    const rescued = await rescueExpiredRuns(engine.store, engine.registry, now)
    const expired = await engine.store.expireOverdue(now)
    const unserved = await failUnservedRuns(engine.store, engine.registry, now, now - engine.heartbeatMs * 3, engine.unservedAfterMs)
    for (const run of [...rescued, ...expired, ...unserved]) {
      const base = { runId: run.id, task: run.task, poolId: run.poolId, time: new Date(now) }
      // A run that never reached its handler goes back as if never claimed: nothing to announce.
      if (run.status === 'pending' && run.startedAt !== null) engine.emit({ ...base, type: 'retrying', attempt: run.attempt, runAt: run.runAt, error: run.error })
      else if (run.status === 'failed' || run.status === 'cancelled') engine.emit({ ...base, type: run.status, error: run.error, run })
    }
    if (rescued.some((r) => r.status === 'pending')) wake()
    // Last, so a failing fold never holds up rescues; it starts no earlier than the default
    // retention (a longer one keeps older rollups, it does not fold older runs).
    await foldHistory(engine.store, now, DEFAULT_ROLLUP_RETENTION_DAYS)
  } catch (error) {
    engine.onError(new Error(`maintenance failed: ${coerceError(error).message}`, { cause: error }))
  }
}
