/** SQLite migration 1: runs, logs, artifacts, pools, workers. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration001: Migration = {
  version: 1,
  name: 'runs, logs, artifacts, pools, workers',
  sql: `
CREATE TABLE runs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  task TEXT NOT NULL,
  label TEXT NOT NULL,
  queue TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  args TEXT NOT NULL,
  args_hash TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  category TEXT NOT NULL DEFAULT 'user',
  created_by TEXT,
  unique_key TEXT,
  parent_id TEXT,
  pool_id TEXT,
  schedule_id TEXT,
  attempt INTEGER NOT NULL DEFAULT 0,
  attempt_base INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  backoff TEXT,
  timeout_ms INTEGER,
  run_at INTEGER NOT NULL,
  not_after INTEGER,
  created_at INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL,
  worker_id TEXT,
  lease_token TEXT,
  lease_expires_at INTEGER,
  cancel_requested_at INTEGER,
  cancel_reason TEXT,
  progress TEXT,
  data TEXT,
  error TEXT,
  attempts TEXT NOT NULL DEFAULT '[]',
  log_count INTEGER NOT NULL DEFAULT 0,
  deleted_at INTEGER
);
-- Claim order among pending runs.
CREATE INDEX runs_pending ON runs (priority DESC, run_at, seq) WHERE status = 'pending';
-- While a run with a unique key may still execute, no other run takes that key.
CREATE UNIQUE INDEX runs_unique_active ON runs (unique_key) WHERE unique_key IS NOT NULL AND status IN ('pending', 'running', 'waiting');
-- Rescue of expired leases.
CREATE INDEX runs_leased ON runs (lease_expires_at) WHERE status IN ('running', 'waiting');
-- Expiry of runs that must start by a time.
CREATE INDEX runs_not_after ON runs (not_after) WHERE status = 'pending' AND not_after IS NOT NULL;
-- Result reuse.
CREATE INDEX runs_reuse ON runs (task, args_hash, finished_at) WHERE status = 'succeeded' AND args_hash IS NOT NULL;
-- Lists (newest first = highest seq) by the common filters. No index on status: every run
-- changes status several times, and lists by status read few pages of a table scanned in seq order.
CREATE INDEX runs_task ON runs (task, seq);
CREATE INDEX runs_pool ON runs (pool_id, status) WHERE pool_id IS NOT NULL;
CREATE INDEX runs_parent ON runs (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX runs_schedule ON runs (schedule_id, seq) WHERE schedule_id IS NOT NULL;
CREATE INDEX runs_created_by ON runs (created_by, seq) WHERE created_by IS NOT NULL;

CREATE TABLE logs (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE artifacts (
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE pools (
  id TEXT PRIMARY KEY,
  parent_run_id TEXT,
  parent_pool_id TEXT,
  root_id TEXT NOT NULL,
  label TEXT,
  created_at INTEGER NOT NULL,
  closed_at INTEGER
);
CREATE INDEX pools_parent_run ON pools (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX pools_root ON pools (root_id);
CREATE INDEX pools_parent_pool ON pools (parent_pool_id) WHERE parent_pool_id IS NOT NULL;

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  concurrency INTEGER NOT NULL,
  busy INTEGER NOT NULL,
  queues TEXT,
  tasks TEXT NOT NULL,
  running TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  observer INTEGER NOT NULL DEFAULT 0
);
`,
}
