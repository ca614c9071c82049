/** Soft delete of a run (the statement is shared: `../sql/delete-run.ts`). */
import type { Run } from '../contract/runs.js'
import { deleteRunSql } from '../sql/delete-run.js'
import { DELETED_ERROR_JSON } from '../sql/run-errors.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection } from './connection.js'

/** Deletes a run; returns it as deleted, or `undefined` when unknown or deleted already. */
export async function deleteRun(conn: PostgresConnection, id: string, now: number): Promise<Run | undefined> {
  const db = await conn.db()
  const [row] = await conn.query<RunRow>(db, deleteRunSql(conn.dialect, { id: '$1', now: '$2', error: '$3' }), [id, now, DELETED_ERROR_JSON])
  return row === undefined ? undefined : toRun(row)
}
