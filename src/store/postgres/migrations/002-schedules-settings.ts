/** PostgreSQL migration 2: schedules, settings. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration002: Migration = {
  version: 2,
  name: 'schedules, settings',
  sql: `
-- What the engine remembers of each schedule defined in code: whether it is on, and the last
-- tick handled (fired or skipped). Moving last_tick_at forward under the row lock is how one
-- process, and only one, takes a tick.
CREATE TABLE schedules (
  id TEXT COLLATE "C" PRIMARY KEY,
  enabled BOOLEAN NOT NULL,
  last_tick_at BIGINT,
  last_run_id TEXT COLLATE "C",
  next_tick_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Runtime settings changed by operators (JSON values by key).
CREATE TABLE settings (
  key TEXT COLLATE "C" PRIMARY KEY,
  value JSON NOT NULL,
  updated_at BIGINT NOT NULL
);
`,
}
