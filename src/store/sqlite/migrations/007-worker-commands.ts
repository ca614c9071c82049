/** SQLite migration 7: commands to workers (quiet, resume, stop) and the state they report. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration007: Migration = {
  version: 7,
  name: 'worker commands and states',
  sql: `
-- What the worker does, as it said at its last heartbeat: active, quiet or stopping.
ALTER TABLE workers ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
-- The last command an operator gave it (quiet, resume, stop), who gave it and when: the worker
-- reads it back with each heartbeat's save. Rows of dead workers stay until retention.
ALTER TABLE workers ADD COLUMN command TEXT;
ALTER TABLE workers ADD COLUMN command_by TEXT;
ALTER TABLE workers ADD COLUMN command_at INTEGER;
CREATE INDEX workers_heartbeat ON workers (heartbeat_at);
`,
}
