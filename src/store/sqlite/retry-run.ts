/** Manual retry of a failed or cancelled run (the statement is shared: `../sql/retry-run.ts`). */
import type { Run } from '../contract/runs.js'
import { retryConflict, retryRunSql } from '../sql/retry-run.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'
import { SQLITE_DIALECT } from './dialect.js'

const RETRY = retryRunSql(SQLITE_DIALECT, { id: '@id', now: '@now' })

/** Retries a run; wakes this process's workers when it is pending again. */
export function retryRun(db: SqliteConnection, id: string, now: number): Run | undefined {
  let row: RunRow | undefined
  try {
    row = db.write(() => db.stmt(RETRY).get({ id, now }) as RunRow | undefined)
  } catch (error) {
    throw retryConflict(SQLITE_DIALECT, id, error) ?? error
  }
  if (row !== undefined) db.notify()
  return row === undefined ? undefined : toRun(row)
}
