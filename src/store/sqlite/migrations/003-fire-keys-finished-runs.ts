/** SQLite migration 3: schedule fire keys; finished runs by time. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration003: Migration = {
  version: 3,
  name: 'schedule fire keys; finished runs by time',
  sql: `
-- Finished runs by time, with their status: the dashboard's throughput per minute and its counts
-- of succeeded, failed and cancelled runs walk this index (finished_at is set exactly when a run
-- reaches a final state), looking up each row only for deleted_at: 12 ms for 95,000 finished
-- runs, against 11 ms with deleted_at in the index too, not worth a wider index. Every completion adds an entry; there is still no index on status,
-- which every claim and completion would change (measured, claim and complete at concurrency 10:
-- 2-9% slower with a status index, this one within the noise).
CREATE INDEX runs_finished ON runs (finished_at, status) WHERE finished_at IS NOT NULL AND deleted_at IS NULL;
-- The schedule tick a run is for ("<schedule id>@<tick time>"). Taking a tick (schedules.last_tick_at)
-- already admits one run per tick; the key makes that visible on the run and holds even if the
-- schedule's row is reset.
ALTER TABLE runs ADD COLUMN fire_key TEXT;
CREATE UNIQUE INDEX runs_fire_key ON runs (fire_key) WHERE fire_key IS NOT NULL;
`,
}
