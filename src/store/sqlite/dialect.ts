/** The SQLite dialect of the statements both SQL backends share (see `../sql/dialect.ts`). */
import { SqliteError } from 'better-sqlite3'
import type { Binder, SqlDialect } from '../sql/dialect.js'

/** Named parameters (`@p1`, `@p2`, …) bound from one object. */
export function namedBinder(): Binder<Record<string, unknown>> {
  const params: Record<string, unknown> = {}
  let n = 0
  return {
    bind(value) {
      const name = `p${++n}`
      params[name] = value
      return `@${name}`
    },
    snapshot: () => ({ ...params }),
  }
}

/** SQL appending a JSON object (text) to a JSON array column (text) without parsing it. */
export const appendAttempt = (attempts: string, value: string): string =>
  `CASE WHEN ${attempts} = '[]' THEN '[' || ${value} || ']' ELSE substr(${attempts}, 1, length(${attempts}) - 1) || ',' || ${value} || ']' END`

/** SQLite: JSON is text, lists travel as JSON text expanded by `json_each`, runs are ordered by `seq`. */
export const SQLITE_DIALECT: SqlDialect = {
  runs: 'runs',
  runColumns: '*',
  appendAttempt,
  currentAttemptJson: `json_object('number', attempt, 'workerId', worker_id, 'startedAt', started_at, 'finishedAt', finished_at, 'outcome', status, 'error', json(error))`,
  json: (placeholder) => placeholder,
  oneOf: (column, values, binder) => `${column} IN (SELECT value FROM json_each(${binder.bind(JSON.stringify(values))}))`,
  hasTag: (tag, binder) => `EXISTS (SELECT 1 FROM json_each(runs.tags) t WHERE t.value = ${binder.bind(tag)})`,
  like: (column, pattern) => `${column} LIKE ${pattern} ESCAPE '\\'`,
  // Ids are UUIDv7 (creation order): a run deleted meanwhile is placed by its id among the rest.
  olderThan: (id, binder) => {
    const before = binder.bind(id)
    return `seq < coalesce((SELECT seq FROM runs WHERE id = ${before}), (SELECT min(seq) FROM runs WHERE id > ${before}), 9223372036854775807)`
  },
  uniqueViolation: (error) => (error instanceof SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE' ? '' : undefined),
}
