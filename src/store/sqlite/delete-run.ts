/** Soft delete of a run (the statement is shared: `../sql/delete-run.ts`). */
import type { Run } from '../contract/runs.js'
import { deleteRunSql } from '../sql/delete-run.js'
import { DELETED_ERROR_JSON } from '../sql/run-errors.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'
import { SQLITE_DIALECT } from './dialect.js'

const DELETE = deleteRunSql(SQLITE_DIALECT, { id: '@id', now: '@now', error: '@error' })

/** Deletes a run; returns it as deleted, or `undefined` when unknown or deleted already. */
export function deleteRun(db: SqliteConnection, id: string, now: number): Run | undefined {
  const row = db.write(() => db.stmt(DELETE).get({ id, now, error: DELETED_ERROR_JSON }) as RunRow | undefined)
  return row === undefined ? undefined : toRun(row)
}
