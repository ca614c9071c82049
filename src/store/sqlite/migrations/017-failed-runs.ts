/** SQLite migration 17: failed and cancelled runs by status and finish time, for the dashboard. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration017: Migration = {
  version: 17,
  name: 'failed and cancelled runs by status',
  sql: `
-- The dashboard counts finished runs by status. Over runs_finished that evaluated the status of
-- every finished run (~250 ms for a million here); with this index it counts them all on
-- runs_finished (no column read, ~50 ms), the failed and cancelled ones here, and the rest
-- succeeded. Only runs that fail or are cancelled enter it: a successful completion evaluates its
-- condition and writes nothing (measured: no difference in CPU per run), so the index costs in
-- proportion to failures. The newest failed runs (the overview's list) are read from it too.
-- A development build's migration 16 made an index of every finished run by status; it is not
-- read any more and cost each completion 1.5 µs, so a store that has it loses it.
DROP INDEX IF EXISTS runs_finished_status;
CREATE INDEX runs_failed ON runs (status, finished_at) WHERE status IN ('failed', 'cancelled') AND finished_at IS NOT NULL AND deleted_at IS NULL;
`,
}
