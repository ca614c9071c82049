/** SQLite migration 9: who cancelled a run. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration009: Migration = {
  version: 9,
  name: 'who cancelled a run',
  sql: `
-- Who asked for a run's cancel (an HTTP caller's identity, "cli"), beside its reason: the run
-- page tells a deliberate cancel by whom, neutrally, apart from a failure. NULL: not said.
ALTER TABLE runs ADD COLUMN cancelled_by TEXT;
`,
}
