/**
 * Numbered PostgreSQL migrations and the code that applies them.
 *
 * Every table lives in the store's schema. Migrations run inside one transaction holding a
 * transaction-level advisory lock keyed by the schema name, so processes starting together
 * apply each migration exactly once (the others wait on the lock, then find it applied).
 * Never edit a released migration: add the next number.
 *
 * Column choices mirror the SQLite schema: times are epoch milliseconds in BIGINT columns;
 * structured values are `json`, not `jsonb`. `json` keeps the exact text written (the hot path
 * pays a validation, not a conversion: about a third of `jsonb`'s cost on insert) and accepts
 * every string JSON can carry, `\u0000` included, which `jsonb` rejects: a handler returning such
 * a string would otherwise make its completion, and the batch it travels in, fail forever.
 */
import type pg from 'pg'

/** One numbered migration. */
export interface Migration {
  readonly version: number
  readonly name: string
  /** Runs with `search_path` set to the store's schema, so it names tables without a schema. */
  readonly sql: string
}

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
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
  },
  {
    version: 2,
    name: 'schedules, settings',
    sql: `
-- What the engine remembers of each schedule defined in code: whether it is on, and the last
-- tick handled (fired or skipped). Moving last_tick_at forward under the row lock is how one
-- process, and only one, takes a tick.
CREATE TABLE schedules (
  id TEXT COLLATE "C" PRIMARY KEY,
  enabled BOOLEAN NOT NULL,
  last_tick_at BIGINT,
  last_run_id TEXT COLLATE "C",
  next_tick_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Runtime settings changed by operators (JSON values by key).
CREATE TABLE settings (
  key TEXT COLLATE "C" PRIMARY KEY,
  value JSON NOT NULL,
  updated_at BIGINT NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'claims leave the start time to the worker; schedule fire keys; finished runs by time',
    sql: `
-- The schedule tick a run is for ("<schedule id>@<tick time>"). Taking a tick (schedules.last_tick_at)
-- already admits one run per tick; the key makes that visible on the run and holds even if the
-- schedule's row is reset.
ALTER TABLE runs ADD COLUMN fire_key TEXT COLLATE "C";
CREATE UNIQUE INDEX runs_fire_key ON runs (fire_key) WHERE fire_key IS NOT NULL;
-- Finished runs by time, with their status: the dashboard's throughput per minute and its counts
-- of succeeded, failed and cancelled runs are index-only scans of it (finished_at is set exactly
-- when a run reaches a final state). A completion adds one entry; claims add none (the predicate
-- fails for them). Still no index on status, which every claim and completion would change.
CREATE INDEX runs_finished ON runs (finished_at, status) WHERE finished_at IS NOT NULL AND deleted_at IS NULL;

-- A claimed run has no start time until its worker starts the handler (a run claimed ahead may
-- wait in the worker's buffer); a rescue refunds the attempt of a run that never started. A new
-- function, not a replacement of claim_runs: processes of the previous version, still running
-- during a rolling upgrade, keep claiming with start times (they never write starts), so their
-- runs are never taken for unstarted ones.
CREATE FUNCTION claim_runs_unstarted(p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_limit INTEGER, p_worker TEXT, p_token TEXT, p_lease_until BIGINT)
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
  UPDATE runs r SET status = 'running', attempt = r.attempt + 1, started_at = NULL, updated_at = p_now, worker_id = p_worker,
    lease_token = p_token, lease_expires_at = p_lease_until
  FROM picked WHERE r.id = picked.id
  RETURNING r.id, r.task, r.label, r.queue, r.pool_id, r.args, r.tags, r.attempt, r.attempt_base, r.max_attempts, r.backoff, r.timeout_ms, r.log_count;
END
$$;
`,
  },
  {
    version: 4,
    name: 'claims count the attempt as started unless it is the last',
    sql: `
-- A claim records the attempt as started (started_at = the claim's time) for runs with attempts
-- left, whose handlers the worker may call at once; a run on its last attempt gets no start time,
-- and its worker stores one before calling the handler. A worker that holds a claimed run in its
-- buffer takes the start back until it starts it. So a rescue spends an attempt exactly when the
-- handler may have been called, and a handler is never called more often than max_attempts. A
-- new function, as in migration 3: workers of the previous version keep their own.
CREATE FUNCTION claim_runs_counted(p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_limit INTEGER, p_worker TEXT, p_token TEXT, p_lease_until BIGINT)
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
  UPDATE runs r SET status = 'running', attempt = r.attempt + 1,
    started_at = CASE WHEN r.attempt + 1 - r.attempt_base < r.max_attempts THEN p_now END, updated_at = p_now, worker_id = p_worker,
    lease_token = p_token, lease_expires_at = p_lease_until
  FROM picked WHERE r.id = picked.id
  RETURNING r.id, r.task, r.label, r.queue, r.pool_id, r.args, r.tags, r.attempt, r.attempt_base, r.max_attempts, r.backoff, r.timeout_ms, r.log_count;
END
$$;
`,
  },
]

/** First key of the migration lock (`'task'` in ASCII); the second is a hash of the schema name. */
const LOCK_CLASS = 0x7461736b

/** Applies the missing migrations to `schema` (a validated identifier) through `client`. */
export async function migrate(client: pg.ClientBase, schema: string, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<void> {
  const quoted = `"${schema}"`
  const latest = Math.max(...migrations.map((m) => m.version))
  // Fast path, without a lock or DDL (so roles without CREATE can use a migrated schema).
  const found = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`${quoted}.schema_migrations`])
  if (found.rows[0]?.exists === true) {
    const top = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${quoted}.schema_migrations`)
    if ((top.rows[0]?.version ?? 0) >= latest) return
  }
  await client.query('BEGIN')
  try {
    // Held until COMMIT: a process starting meanwhile waits here, then finds everything applied.
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`)
    await client.query(`SET LOCAL search_path TO ${quoted}`)
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version))
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()])
    }
    await client.query('COMMIT')
  } catch (error) {
    // The migration's error is the one to report; a failed ROLLBACK only means the connection is
    // gone, and the caller destroys a client whose migration failed.
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  }
}
