/** PostgreSQL migration 7: per-minute rollups of finished runs. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration007: Migration = {
  version: 7,
  name: 'per-minute rollups of finished runs',
  sql: `
-- Finished runs per minute, task and queue: counts by outcome, attempts beyond the first, and
-- duration and wait-time histograms (JSON: bucket index -> count, buckets of rollup-histogram.ts)
-- with their sum and maximum (ms). The leader's maintenance folds closed minutes; dashboards over hours and
-- days read these instead of the runs.
CREATE TABLE run_rollups (
  minute BIGINT NOT NULL,
  task TEXT COLLATE "C" NOT NULL,
  queue TEXT COLLATE "C" NOT NULL,
  succeeded INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  cancelled INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  duration_hist json NOT NULL,
  duration_sum BIGINT NOT NULL,
  duration_max BIGINT,
  wait_hist json NOT NULL,
  wait_sum BIGINT NOT NULL,
  wait_max BIGINT,
  PRIMARY KEY (minute, task, queue)
);
CREATE INDEX run_rollups_task ON run_rollups (task, minute);
-- The same per hour (hour: the hour's start), kept up to date by each fold in its transaction:
-- ranges of whole hours read these, sixty times fewer rows.
CREATE TABLE run_rollups_hourly (
  hour BIGINT NOT NULL,
  task TEXT COLLATE "C" NOT NULL,
  queue TEXT COLLATE "C" NOT NULL,
  succeeded INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  cancelled INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  duration_hist json NOT NULL,
  duration_sum BIGINT NOT NULL,
  duration_max BIGINT,
  wait_hist json NOT NULL,
  wait_sum BIGINT NOT NULL,
  wait_max BIGINT,
  PRIMARY KEY (hour, task, queue)
);
CREATE INDEX run_rollups_hourly_task ON run_rollups_hourly (task, hour);
-- Runs finished before folded_until are in run_rollups (NULL: nothing folded yet). A fold locks
-- this row for its transaction.
CREATE TABLE rollup_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  folded_until BIGINT
);
INSERT INTO rollup_state (id, folded_until) VALUES (1, NULL);
`,
}
