/** SQLite migration 2: schedules, settings. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration002: Migration = {
  version: 2,
  name: 'schedules, settings',
  sql: `
-- What the engine remembers of each schedule defined in code: whether it is on, and the last
-- tick handled (fired or skipped). Moving last_tick_at forward is how one process, and only
-- one, takes a tick.
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL,
  last_tick_at INTEGER,
  last_run_id TEXT,
  next_tick_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Runtime settings changed by operators (JSON values by key).
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
}
