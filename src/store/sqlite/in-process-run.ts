/** Storing a run executed in-process by its caller: one INSERT of a row already running (see `../sql/in-process-run.ts`). */
import type { InProcessStart, NewRun } from '../contract/queue.js'
import type { Run } from '../contract/runs.js'
import { inProcessValues, insertInProcessSql } from '../sql/in-process-run.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { SqliteConnection } from './connection.js'

const INSERT = insertInProcessSql('runs', () => '?', (value) => value, '*')

/** Inserts the run `running` under `start`'s lease; wakes no worker (there is nothing to claim). */
export function insertInProcessRun(db: SqliteConnection, run: NewRun, start: InProcessStart): Run {
  const row = db.write(() => db.stmt(INSERT).get(...inProcessValues(run, start)) as RunRow)
  return toRun(row)
}
