/**
 * A grouped task's candidates for a claim, fairly: among its group keys with pending runs (found
 * by a skip scan of `runs_pending_groups`, one index seek per key), those with room (fewer than
 * `slots` running) offer their first due runs; the first free slot of every group comes before
 * any group's second, and among equals the group served longest ago goes first. The cost grows
 * with the number of keys with pending runs, not with the runs.
 */
import type { SqliteConnection } from './connection.js'

/** A candidate of a grouped task. */
export interface GroupCandidate {
  readonly seq: number
  readonly task: string
  readonly queue: string
  readonly groupKey: string
}

interface Head extends GroupCandidate {
  readonly priority: number
  readonly runAt: number
}

const PENDING_GROUPED = `runs INDEXED BY runs_pending_groups WHERE status = 'pending' AND group_key IS NOT NULL AND task = @task`
const KEYS = `WITH RECURSIVE k(key) AS (
    SELECT (SELECT min(group_key) FROM ${PENDING_GROUPED})
    UNION ALL
    SELECT (SELECT min(group_key) FROM ${PENDING_GROUPED} AND group_key > k.key) FROM k WHERE k.key IS NOT NULL
  ) SELECT key FROM k WHERE key IS NOT NULL`
const RUNNING = `SELECT group_key, COUNT(*) FROM runs INDEXED BY runs_leased
  WHERE status IN ('running', 'waiting') AND status = 'running' AND task = @task AND group_key IS NOT NULL GROUP BY group_key`
const SERVED = 'SELECT group_key, served_at FROM flow_groups WHERE task = @task'
const HEADS = (queueFilter: string): string => `SELECT seq, task, queue, group_key AS groupKey, priority, run_at AS runAt FROM ${PENDING_GROUPED}
    AND group_key = @key AND run_at <= @now AND (not_after IS NULL OR not_after > @now) ${queueFilter}
    AND queue NOT IN (SELECT value FROM json_each(@fullQueues))
  ORDER BY priority DESC, run_at, seq LIMIT @n`

/** Up to `limit` candidates of `task`, at most `slots` running per group key, in fair order. */
export function groupCandidates(
  db: SqliteConnection,
  params: { readonly now: number; readonly queues: string | null },
  task: string,
  slots: number,
  queueFilter: string,
  fullQueues: readonly string[],
  limit: number,
): GroupCandidate[] {
  const keys = (db.raw(KEYS).all({ task }) as [string][]).map(([key]) => key)
  if (keys.length === 0) return []
  const running = new Map(db.raw(RUNNING).all({ task }) as [string, number][])
  const served = new Map(db.raw(SERVED).all({ task }) as [string, number][])
  const heads = db.stmt(HEADS(queueFilter))
  const candidates: { head: Head; slot: number; served: number }[] = []
  for (const key of keys) {
    const busy = running.get(key) ?? 0
    if (busy >= slots) continue
    const rows = heads.all({ ...params, task, key, fullQueues: JSON.stringify(fullQueues), n: slots - busy }) as Head[]
    rows.forEach((head, i) => candidates.push({ head, slot: busy + i + 1, served: served.get(key) ?? 0 }))
  }
  candidates.sort((a, b) => a.slot - b.slot || a.served - b.served || b.head.priority - a.head.priority || a.head.runAt - b.head.runAt || a.head.seq - b.head.seq)
  return candidates.slice(0, limit).map(({ head }) => ({ seq: head.seq, task: head.task, queue: head.queue, groupKey: head.groupKey }))
}
