/** The usage of limits across workers, for operators (see `AdminStore.flowUsage`). */
import type { FlowUsage, FlowUsageQuery } from '../contract/admin.js'
import { flowUsageFrom, type CountRow, type GroupRow } from '../sql/flow-usage-rows.js'
import type { PostgresConnection } from './connection.js'

/** Counts starts in each rate window, pending and running runs per task, and runs per group. */
export async function flowUsage(conn: PostgresConnection, query: FlowUsageQuery): Promise<FlowUsage> {
  const db = await conn.db()
  const t = conn.tables
  const [starts, pending, running, groupPending, groupRunning] = await Promise.all([
    query.rates.length === 0
      ? []
      : conn.queryArrays<CountRow>(
          db,
          `SELECT k.key, (SELECT count(*) FROM ${t.rateStarts} s WHERE s.limit_key = k.key AND s.at > k.since) FROM unnest($1::text[], $2::int8[]) AS k(key, since)`,
          [query.rates.map((r) => r.key), query.rates.map((r) => r.since)],
        ),
    conn.queryArrays<CountRow>(db, `SELECT task, count(*) FROM ${t.runs} WHERE status = 'pending' AND task = ANY($1::text[]) GROUP BY task`, [query.tasks]),
    conn.queryArrays<CountRow>(db, `SELECT task, count(*) FROM ${t.runs} WHERE status = 'running' AND task = ANY($1::text[]) GROUP BY task`, [query.tasks]),
    query.grouped.length === 0
      ? []
      : conn.queryArrays<GroupRow>(db, `SELECT task, group_key, count(*) FROM ${t.runs} WHERE status = 'pending' AND group_key IS NOT NULL AND task = ANY($1::text[]) GROUP BY task, group_key`, [query.grouped]),
    query.grouped.length === 0
      ? []
      : conn.queryArrays<GroupRow>(db, `SELECT task, group_key, count(*) FROM ${t.runs} WHERE status = 'running' AND group_key IS NOT NULL AND task = ANY($1::text[]) GROUP BY task, group_key`, [query.grouped]),
  ])
  return flowUsageFrom(query, { starts, pending, running, groupPending, groupRunning })
}
