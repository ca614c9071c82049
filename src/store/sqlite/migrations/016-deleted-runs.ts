/** SQLite migration 16: deleted runs by deletion time, for retention. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration016: Migration = {
  version: 16,
  name: 'deleted runs by time',
  sql: `
-- Retention finds finished runs past the cut-off on runs_finished (by finished_at), which leaves
-- deleted runs out: they are found here instead of by a scan of the whole table, which on a
-- store of a million runs held the write lock (and, in-process, the event loop) for a few
-- hundred milliseconds at the end of every purge. Deleted runs are few and never change again:
-- the index stays small, and inserts, claims and completions (deleted_at NULL) do not touch it.
-- (An index of finished runs by status for the dashboard's counts was measured and left out:
-- each completion paid 1.5 µs more for it, about a fifth of the completion's cost.)
CREATE INDEX runs_deleted ON runs (deleted_at) WHERE deleted_at IS NOT NULL;
`,
}
