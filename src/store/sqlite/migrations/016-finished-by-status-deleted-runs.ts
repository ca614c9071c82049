/** SQLite migration 16: finished runs by status, for the dashboard; deleted runs by deletion time, for retention. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration016: Migration = {
  version: 16,
  name: 'finished runs by status; deleted runs by time',
  sql: `
-- The dashboard's counts of succeeded, failed and cancelled runs. On runs_finished (by time) they
-- cost a walk of every finished run, with a look at each row for deleted_at: 210-370 ms at a
-- million runs, on every overview. Here each is a count of one range of a covering index:
-- 35-60 ms. Partial like runs_finished: pending and running runs are not in it, so inserts and
-- claims do not touch it; each completion adds one entry: four alternating pairs of the sqlite
-- suite (process 100,000 no-op runs) differed by -16% to +14%, the noise of this shared machine.
CREATE INDEX runs_finished_status ON runs (status, finished_at, deleted_at) WHERE finished_at IS NOT NULL AND deleted_at IS NULL;
-- Retention finds finished runs past the cut-off on runs_finished (by finished_at), which leaves
-- deleted runs out: they are found here instead of by a scan of the whole table, which on a
-- store of a million runs held the write lock (and, in-process, the event loop) for a few
-- hundred milliseconds at the end of every purge. Deleted runs are few and never change again:
-- the index stays small, and inserts, claims and completions (deleted_at NULL) do not touch it.
CREATE INDEX runs_deleted ON runs (deleted_at) WHERE deleted_at IS NOT NULL;
`,
}
