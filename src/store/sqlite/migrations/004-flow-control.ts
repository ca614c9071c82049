/** SQLite migration 4: flow control (group keys, debounce keys, throttle windows, starts under rate limits). Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration004: Migration = {
  version: 4,
  name: 'flow control: group keys, debounce keys, throttle windows, rate-limited starts',
  sql: `
-- A run's group under its task's groupBy (or the enqueue's groupKey): at most groupConcurrency
-- run per key at once, keys served in turn. Claims of a grouped task walk this index; runs
-- without a group never enter it.
ALTER TABLE runs ADD COLUMN group_key TEXT;
CREATE INDEX runs_pending_groups ON runs (task, group_key, priority DESC, run_at, seq) WHERE status = 'pending' AND group_key IS NOT NULL;
-- When each group of a grouped task last had a run handed out: among groups with room, claims
-- serve the one served longest ago first (round robin), so no key starves another.
CREATE TABLE flow_groups (
  task TEXT NOT NULL,
  group_key TEXT NOT NULL,
  served_at INTEGER NOT NULL,
  PRIMARY KEY (task, group_key)
) WITHOUT ROWID;
-- Debounce: one pending run per task and key; a later enqueue with the key replaces its
-- arguments and pushes its start back.
ALTER TABLE runs ADD COLUMN debounce_key TEXT;
CREATE UNIQUE INDEX runs_debounce ON runs (task, debounce_key) WHERE status = 'pending' AND debounce_key IS NOT NULL;
-- Throttle: the run that holds a task's key until a time; an enqueue with the key before then
-- returns that run instead of adding one.
CREATE TABLE throttles (
  task TEXT NOT NULL,
  key TEXT NOT NULL,
  run_id TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (task, key)
) WITHOUT ROWID;
-- Starts under a rate limit ("task:<key>" or "queue:<name>"), kept for the limit's window.
CREATE TABLE rate_starts (
  limit_key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX rate_starts_key_at ON rate_starts (limit_key, at);
`,
}
