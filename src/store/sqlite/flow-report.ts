/** The usage of limits across workers, for operators (see `AdminStore.flowUsage`). */
import type { FlowUsage, FlowUsageQuery } from '../contract/admin.js'
import { flowUsageFrom, type CountRow, type GroupRow } from '../sql/flow-usage-rows.js'
import type { SqliteConnection } from './connection.js'

/** Counts starts in each rate window, pending and running runs per task, and runs per group (from the partial indexes). */
export function flowUsage(db: SqliteConnection, query: FlowUsageQuery): FlowUsage {
  const starts = query.rates.map(({ key, since }): CountRow => [key, (db.raw("SELECT COUNT(*) FROM rate_starts WHERE limit_key = ? AND at > ?").get(key, since) as [number])[0]])
  const tasks = JSON.stringify(query.tasks)
  const grouped = JSON.stringify(query.grouped)
  const pending = db.raw(`SELECT task, COUNT(*) FROM runs INDEXED BY runs_pending WHERE status = 'pending' AND task IN (SELECT value FROM json_each(?)) GROUP BY task`).all(tasks) as CountRow[]
  const running = db
    .raw(`SELECT task, COUNT(*) FROM runs INDEXED BY runs_leased WHERE status IN ('running', 'waiting') AND status = 'running' AND task IN (SELECT value FROM json_each(?)) GROUP BY task`)
    .all(tasks) as CountRow[]
  const groupPending =
    query.grouped.length === 0
      ? []
      : (db
          .raw(
            `SELECT task, group_key, COUNT(*) FROM runs INDEXED BY runs_pending_groups WHERE status = 'pending' AND group_key IS NOT NULL AND task IN (SELECT value FROM json_each(?)) GROUP BY task, group_key`,
          )
          .all(grouped) as GroupRow[])
  const groupRunning =
    query.grouped.length === 0
      ? []
      : (db
          .raw(
            `SELECT task, group_key, COUNT(*) FROM runs INDEXED BY runs_leased WHERE status IN ('running', 'waiting') AND status = 'running' AND group_key IS NOT NULL AND task IN (SELECT value FROM json_each(?)) GROUP BY task, group_key`,
          )
          .all(grouped) as GroupRow[])
  return flowUsageFrom(query, { starts, pending, running, groupPending, groupRunning })
}
