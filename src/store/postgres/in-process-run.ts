/** Storing a run executed in-process by its caller: one INSERT of a row already running (see `../sql/in-process-run.ts`). */
import type { InProcessStart, NewRun } from '../contract/queue.js'
import type { Run } from '../contract/runs.js'
import { inProcessValues, insertInProcessSql } from '../sql/in-process-run.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection } from './connection.js'
import { RUN_COLUMNS } from './dialect.js'

/** Inserts the run `running` under `start`'s lease; sends no wake-up (there is nothing to claim). */
export async function insertInProcessRun(conn: PostgresConnection, run: NewRun, start: InProcessStart): Promise<Run> {
  const db = await conn.db()
  const sql = insertInProcessSql(conn.tables.runs, (i) => `$${i + 1}`, (value) => `${value}::json`, RUN_COLUMNS)
  const [row] = await conn.query<RunRow>(db, sql, inProcessValues(run, start))
  return toRun(row!)
}
