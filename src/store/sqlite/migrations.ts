/**
 * Numbered SQLite migrations. Applied in order, each once, inside an IMMEDIATE transaction so
 * processes starting together on one file apply them exactly once. Never edit a released
 * migration: add the next number.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
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
  },
  {
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
  },
  {
    version: 3,
    name: 'schedule fire keys; finished runs by time',
    sql: `
-- Finished runs by time, with their status: the dashboard's throughput per minute and its counts
-- of succeeded, failed and cancelled runs walk this index (finished_at is set exactly when a run
-- reaches a final state), looking up each row only for deleted_at: 12 ms for 95,000 finished
-- runs, against 11 ms with deleted_at in the index too, not worth a wider index. Every completion adds an entry; there is still no index on status,
-- which every claim and completion would change (measured, claim and complete at concurrency 10:
-- 2-9% slower with a status index, this one within the noise).
CREATE INDEX runs_finished ON runs (finished_at, status) WHERE finished_at IS NOT NULL AND deleted_at IS NULL;
-- The schedule tick a run is for ("<schedule id>@<tick time>"). Taking a tick (schedules.last_tick_at)
-- already admits one run per tick; the key makes that visible on the run and holds even if the
-- schedule's row is reset.
ALTER TABLE runs ADD COLUMN fire_key TEXT;
CREATE UNIQUE INDEX runs_fire_key ON runs (fire_key) WHERE fire_key IS NOT NULL;
`,
  },
]
