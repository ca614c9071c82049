/** SQLite migration 14: when a worker serving each task on each queue was last seen, kept after its row goes. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration014: Migration = {
  version: 14,
  name: 'workers seen per task and queue',
  sql: `
-- A worker's row goes when it stops gracefully, or a day after it died (retention): its last
-- heartbeat is kept here per task it served and queue ('*': every queue), so "no live worker
-- serves task X (last seen …)" can still say when one was.
CREATE TABLE workers_seen (
  task TEXT NOT NULL,
  queue TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (task, queue)
) WITHOUT ROWID;
`,
}
