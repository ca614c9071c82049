/** PostgreSQL migration 6: bulk jobs (one action over every run matching a filter). Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration006: Migration = {
  version: 6,
  name: 'bulk jobs',
  sql: `
-- A cancel, retry or delete over every run matching a filter, worked through by id in batches
-- (cursor = the last id handled, up_to = the newest id matching when the job was made), held by
-- one engine at a time under a lease so a job left running after a crash is picked up again.
CREATE TABLE bulk_jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  action TEXT NOT NULL,
  filter json NOT NULL,
  up_to TEXT COLLATE "C",
  cursor TEXT COLLATE "C",
  total BIGINT NOT NULL,
  done BIGINT NOT NULL DEFAULT 0,
  skipped BIGINT NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  error TEXT,
  created_by TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT,
  owner TEXT,
  lease_expires_at BIGINT
);
CREATE INDEX bulk_jobs_running ON bulk_jobs (lease_expires_at) WHERE state = 'running';
`,
}
