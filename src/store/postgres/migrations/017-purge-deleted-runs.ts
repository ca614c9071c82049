/** PostgreSQL migration 17: deleted runs by deletion time, for retention. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration017: Migration = {
  version: 17,
  name: 'deleted runs by time',
  sql: `
-- Retention finds finished runs past the cut-off on runs_finished (by finished_at), which leaves
-- deleted runs out: they are found here instead of by a scan of the whole table. Deleted runs
-- are few and never change again: the index stays small, and inserts, claims and completions
-- (deleted_at NULL) do not touch it.
CREATE INDEX runs_deleted ON runs (deleted_at) WHERE deleted_at IS NOT NULL;
`,
}
