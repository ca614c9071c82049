/** Rows of the `pools` table ↔ pools, and per-status counts ↔ pool counts, for both SQL backends. */
import type { Pool, PoolCounts } from '../contract/pools.js'
import { date, maybeDate } from './columns.js'

/** The columns of a {@link PoolRow}, in a statement's select list. */
export const POOL_COLUMNS = 'id, parent_run_id, parent_pool_id, root_id, label, created_at, closed_at'

/** A row of the `pools` table. */
export interface PoolRow {
  id: string
  parent_run_id: string | null
  parent_pool_id: string | null
  root_id: string
  label: string | null
  created_at: number | string
  closed_at: number | string | null
}

/** Maps a `pools` row to a {@link Pool}. */
export function toPool(row: PoolRow): Pool {
  return { id: row.id, parentRunId: row.parent_run_id, parentPoolId: row.parent_pool_id, rootId: row.root_id, label: row.label, createdAt: date(row.created_at), closedAt: maybeDate(row.closed_at) }
}

/** Per-status counts of a pool's runs (or a tree's), as both backends query them. */
export interface PoolCountRow {
  status: string
  n: number | string
  progress: number | string | null
  first: number | string | null
  last: number | string | null
}

/** Folds per-status counts into {@link PoolCounts}. */
export function countsFrom(rows: readonly PoolCountRow[]): PoolCounts {
  const counts = { total: 0, pending: 0, running: 0, waiting: 0, succeeded: 0, failed: 0, cancelled: 0, progressSum: 0 }
  let first: number | null = null
  let last: number | null = null
  for (const row of rows) {
    const n = Number(row.n)
    counts.total += n
    if (row.status in counts) counts[row.status as 'pending'] += n
    if (row.status === 'pending' || row.status === 'running' || row.status === 'waiting') counts.progressSum += Number(row.progress ?? 0)
    if (row.first !== null) first = first === null ? Number(row.first) : Math.min(first, Number(row.first))
    if (row.last !== null) last = last === null ? Number(row.last) : Math.max(last, Number(row.last))
  }
  return { ...counts, firstCreatedAt: first === null ? null : new Date(first), lastFinishedAt: last === null ? null : new Date(last) }
}
