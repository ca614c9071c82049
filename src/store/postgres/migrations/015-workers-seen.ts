/** PostgreSQL migration 15: when a worker serving each task on each queue was last seen, kept after its row goes. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration015: Migration = {
  version: 15,
  name: 'workers seen per task and queue',
  sql: `
-- A worker's row goes when it stops gracefully, or a day after it died (retention): its last
-- heartbeat is kept here per task it served and queue ('*': every queue), so "no live worker
-- serves task X (last seen …)" can still say when one was.
CREATE TABLE workers_seen (
  task TEXT NOT NULL,
  queue TEXT NOT NULL,
  seen_at BIGINT NOT NULL,
  PRIMARY KEY (task, queue)
);
`,
}
