/** PostgreSQL migration 11: runs executed in-process and recorded. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration011: Migration = {
  version: 11,
  name: 'in-process runs',
  sql: `
-- Where a run executed in-process by its caller was started ("admin", "admin-live", "cli",
-- "engine", …): such a run is stored running, attempt 1 of 1, under its own lease, and no worker
-- ever claims it (claims take pending runs only, so no claim function changes). NULL: a durable
-- run. Nullable without a default: adding it rewrites no row.
ALTER TABLE runs ADD COLUMN in_process TEXT;
`,
}
