/** PostgreSQL migration 1: runs, logs, artifacts, pools, workers. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration001: Migration = {
  version: 1,
  name: 'runs, logs, artifacts, pools, workers',
  sql: `
CREATE TABLE runs (
  id TEXT COLLATE "C" PRIMARY KEY,
  task TEXT COLLATE "C" NOT NULL,
  label TEXT NOT NULL,
  queue TEXT COLLATE "C" NOT NULL,
  priority BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  args JSON NOT NULL,
  args_hash TEXT COLLATE "C",
  tags JSON NOT NULL DEFAULT '[]',
  category TEXT NOT NULL DEFAULT 'user',
  created_by TEXT,
  unique_key TEXT COLLATE "C",
  parent_id TEXT COLLATE "C",
  pool_id TEXT COLLATE "C",
  schedule_id TEXT COLLATE "C",
  attempt INTEGER NOT NULL DEFAULT 0,
  attempt_base INTEGER NOT NULL DEFAULT 0,
  max_attempts BIGINT NOT NULL,
  backoff JSON,
  timeout_ms BIGINT,
  run_at BIGINT NOT NULL,
  not_after BIGINT,
  created_at BIGINT NOT NULL,
  enqueued_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  updated_at BIGINT NOT NULL,
  worker_id TEXT,
  lease_token TEXT COLLATE "C",
  lease_expires_at BIGINT,
  cancel_requested_at BIGINT,
  cancel_reason TEXT,
  progress JSON,
  data JSON,
  error JSON,
  attempts JSON NOT NULL DEFAULT '[]',
  log_count INTEGER NOT NULL DEFAULT 0,
  deleted_at BIGINT
);
-- Claim order among pending runs; claims walk it with FOR UPDATE SKIP LOCKED.
CREATE INDEX runs_pending ON runs (priority DESC, run_at, id) WHERE status = 'pending';
-- While a run with a unique key may still execute, no other run takes that key.
CREATE UNIQUE INDEX runs_unique_active ON runs (unique_key) WHERE unique_key IS NOT NULL AND status IN ('pending', 'running', 'waiting');
-- Rescue of expired leases.
CREATE INDEX runs_leased ON runs (lease_expires_at) WHERE status IN ('running', 'waiting');
-- Expiry of runs that must start by a time.
CREATE INDEX runs_not_after ON runs (not_after) WHERE status = 'pending' AND not_after IS NOT NULL;
-- Result reuse.
CREATE INDEX runs_reuse ON runs (task, args_hash, finished_at) WHERE status = 'succeeded' AND args_hash IS NOT NULL;
-- Lists (newest first = highest id, served by the primary key) by the less common filters. A
-- claim and a completion each write a new row version with an entry in every index whose
-- predicate holds for it (PostgreSQL cannot update in place when a column an index or an index
-- predicate names changes, and status is named by several). So there is no index on status or
-- task, which every run would pay twice (measured: a (task, id) index costs a quarter of the
-- claim-and-complete time); lists by status or task walk the primary key newest first, reading
-- few pages when the filter is common. The partial indexes below hold only runs they apply to.
CREATE INDEX runs_pool ON runs (pool_id, status) WHERE pool_id IS NOT NULL;
CREATE INDEX runs_parent ON runs (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX runs_schedule ON runs (schedule_id, id) WHERE schedule_id IS NOT NULL;
CREATE INDEX runs_created_by ON runs (created_by, id) WHERE created_by IS NOT NULL;
-- Every claim and completion leaves a dead row version behind, and dead entries at the head of
-- runs_pending that each claim steps over until vacuum removes them (measured: 0.7 of 2.4 ms per
-- claim of 100 with 25 000 dead entries; 0.15 ms after VACUUM). Vacuum and analyze early.
ALTER TABLE runs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- Claims. The statement is the usual UPDATE … FROM (SELECT … ORDER BY … LIMIT n FOR UPDATE SKIP
-- LOCKED), inside a function only for its planner settings: the claim must walk runs_pending in
-- claim order and stop after n runs, whatever the statistics say. Right after a large enqueue the
-- statistics are missing or stale (autovacuum analyzes up to a minute later), the planner then
-- believes few runs are pending, prefers a bitmap scan and sorts every pending run on each claim
-- (measured: 16 ms instead of 0.4 ms per claim of 100 with 30 000 pending). With sorting
-- disabled, the ordered index scan is the only plan left. plpgsql keeps the plan per connection.
CREATE FUNCTION claim_runs(p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_limit INTEGER, p_worker TEXT, p_token TEXT, p_lease_until BIGINT)
RETURNS TABLE (id TEXT, task TEXT, label TEXT, queue TEXT, pool_id TEXT, args JSON, tags JSON, attempt INTEGER, attempt_base INTEGER,
  max_attempts BIGINT, backoff JSON, timeout_ms BIGINT, log_count INTEGER)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
SET enable_sort = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH picked AS MATERIALIZED (
    SELECT r.id FROM runs r
    WHERE r.status = 'pending' AND r.run_at <= p_now AND (r.not_after IS NULL OR r.not_after > p_now)
      AND r.task = ANY (p_tasks) AND (p_queues IS NULL OR r.queue = ANY (p_queues))
    ORDER BY r.priority DESC, r.run_at, r.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  )
  UPDATE runs r SET status = 'running', attempt = r.attempt + 1, started_at = p_now, updated_at = p_now, worker_id = p_worker,
    lease_token = p_token, lease_expires_at = p_lease_until
  FROM picked WHERE r.id = picked.id
  RETURNING r.id, r.task, r.label, r.queue, r.pool_id, r.args, r.tags, r.attempt, r.attempt_base, r.max_attempts, r.backoff, r.timeout_ms, r.log_count;
END
$$;
-- Candidates of a claim under limits (see claim-plan.ts), locked in claim order like claim_runs;
-- the caller takes the accepted ones in the same transaction.
CREATE FUNCTION claim_candidates(p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_full_tasks TEXT[], p_full_queues TEXT[], p_limit INTEGER)
RETURNS TABLE (id TEXT, task TEXT, queue TEXT)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
SET enable_sort = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT r.id, r.task, r.queue FROM runs r
  WHERE r.status = 'pending' AND r.run_at <= p_now AND (r.not_after IS NULL OR r.not_after > p_now)
    AND r.task = ANY (p_tasks) AND (p_queues IS NULL OR r.queue = ANY (p_queues))
    AND r.task <> ALL (p_full_tasks) AND r.queue <> ALL (p_full_queues)
  ORDER BY r.priority DESC, r.run_at, r.id
  LIMIT p_limit
  FOR UPDATE SKIP LOCKED;
END
$$;

CREATE TABLE logs (
  run_id TEXT COLLATE "C" NOT NULL,
  seq INTEGER NOT NULL,
  time BIGINT NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE artifacts (
  run_id TEXT COLLATE "C" NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  data BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE pools (
  id TEXT COLLATE "C" PRIMARY KEY,
  parent_run_id TEXT COLLATE "C",
  parent_pool_id TEXT COLLATE "C",
  root_id TEXT COLLATE "C" NOT NULL,
  label TEXT,
  created_at BIGINT NOT NULL,
  closed_at BIGINT
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
  queues JSON,
  tasks JSON NOT NULL,
  running JSON NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  observer BOOLEAN NOT NULL DEFAULT false
);
`,
}
