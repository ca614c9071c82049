/** Manual retry of a failed or cancelled run (the statement is shared: `../sql/retry-run.ts`), with its NOTIFY. */
import type { Run } from '../contract/runs.js'
import { retryConflict, retryRunSql } from '../sql/retry-run.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection } from './connection.js'

/** Retries a run; wakes workers here at once, elsewhere by NOTIFY, when it is pending again. */
export async function retryRun(conn: PostgresConnection, id: string, now: number): Promise<Run | undefined> {
  const db = await conn.db()
  let row: RunRow | undefined
  try {
    ;[row] = await conn.query<RunRow>(
      db,
      `WITH up AS (${retryRunSql(conn.dialect, { id: '$1', now: '$2' })}),
         wake AS MATERIALIZED (SELECT pg_notify($3, $4) FROM up)
       SELECT up.* FROM up LEFT JOIN wake ON true`,
      [id, now, conn.schema, conn.instance],
    )
  } catch (error) {
    throw retryConflict(conn.dialect, id, error) ?? error
  }
  if (row !== undefined) conn.notify()
  return row === undefined ? undefined : toRun(row)
}
