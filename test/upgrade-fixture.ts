/**
 * Runs as a store of the previous schema version (migrations 1 and 2) left them, written with
 * plain SQL, so each backend's test can check that migration 3 keeps them working: a pending
 * run, a finished one, and one a worker of the previous version was running (it had its start
 * time from the claim).
 */
import { expect } from 'vitest'
import { rescueExpired } from '../src/store/testing/index.js'
import type { Store } from '../src/store/types.js'

export const UPGRADE_T0 = Date.UTC(2026, 10, 30, 12, 0, 0)
const T0 = UPGRADE_T0

const COLUMNS = 'id, task, label, queue, status, args, max_attempts, attempt, run_at, created_at, enqueued_at, updated_at, started_at, finished_at, data, worker_id, lease_token, lease_expires_at'

/** INSERT statements of the version-2 rows, for a `runs` table named `runs`. */
export function versionTwoRows(runs: string): string {
  return `INSERT INTO ${runs} (${COLUMNS}) VALUES
    ('old-pending', 'work', 'ad-hoc', 'default', 'pending', '{}', 3, 0, ${T0}, ${T0}, ${T0}, ${T0}, NULL, NULL, NULL, NULL, NULL, NULL),
    ('old-done', 'work', 'ad-hoc', 'default', 'succeeded', '{}', 3, 1, ${T0}, ${T0}, ${T0}, ${T0 + 5}, ${T0 + 1}, ${T0 + 5}, '1', 'old-worker', NULL, NULL),
    ('old-running', 'work', 'ad-hoc', 'default', 'running', '{}', 1, 1, ${T0}, ${T0}, ${T0}, ${T0 + 2}, ${T0 + 2}, NULL, NULL, 'old-worker', 'old-token', ${T0 + 10})`
}

/** What a store opened on those rows (migrated to the current version) must show. */
export async function expectUpgradedRows(store: Store): Promise<void> {
  expect((await store.stats(T0 + 5)).statuses).toMatchObject({ pending: 1, running: 1, succeeded: 1 })
  expect(await store.throughput(T0, T0 + 60_000, 60_000)).toEqual([{ start: new Date(T0), succeeded: 1, failed: 0, cancelled: 0 }])
  expect(await store.getRun('old-done')).toMatchObject({ status: 'succeeded', fireKey: null, startedAt: new Date(T0 + 1), finishedAt: new Date(T0 + 5), data: 1 })
  // The previous version's worker died: its run had started (the old claim said so), so the
  // rescue spends its only attempt instead of refunding it.
  const rescued = await rescueExpired(store, T0 + 20)
  expect(rescued.map((r) => [r.id, r.status])).toEqual([['old-running', 'failed']])
  expect((await store.getRun('old-running'))?.error?.code).toBe('ERR_WORKER_LOST')
  const [claimed] = await store.claimRuns({ workerId: 'new', limit: 5, now: T0 + 30, leaseUntil: T0 + 30_030, tasks: ['work'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() })
  expect(claimed?.id).toBe('old-pending')
}
