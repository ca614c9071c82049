/** PostgreSQL migration 13: request ids (a client's id of the request that made a run). Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration013: Migration = {
  version: 13,
  name: 'request ids',
  sql: `
-- The client's id of the request that made the run (enqueue option requestId, e.g. an AMQP
-- message id): unique among all runs whatever their status, so a request delivered again (the
-- bridge died after the insert committed, before it acknowledged) finds its run instead of adding
-- one. Nullable without a default: adding it rewrites no row; the partial index holds only runs
-- that have one.
ALTER TABLE runs ADD COLUMN request_id TEXT COLLATE "C";
CREATE UNIQUE INDEX runs_request_id ON runs (request_id) WHERE request_id IS NOT NULL;
`,
}
