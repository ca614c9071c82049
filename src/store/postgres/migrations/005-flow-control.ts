/** PostgreSQL migration 5: flow control (group keys, debounce keys, throttle windows, starts under rate limits). Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration005: Migration = {
  version: 5,
  name: 'flow control: group keys, debounce keys, throttle windows, rate-limited starts',
  sql: `
-- A run's group under its task's groupBy (or the enqueue's groupKey): at most groupConcurrency
-- run per key at once, keys served in turn. Claims of a grouped task walk this index; runs
-- without a group never enter it.
ALTER TABLE runs ADD COLUMN group_key TEXT COLLATE "C";
CREATE INDEX runs_pending_groups ON runs (task, group_key, priority DESC, run_at, id) WHERE status = 'pending' AND group_key IS NOT NULL;
-- When each group of a grouped task last had a run handed out: among groups with room, claims
-- serve the one served longest ago first (round robin), so no key starves another.
CREATE TABLE flow_groups (
  task TEXT COLLATE "C" NOT NULL,
  group_key TEXT COLLATE "C" NOT NULL,
  served_at BIGINT NOT NULL,
  PRIMARY KEY (task, group_key)
);
-- Debounce: one pending run per task and key; a later enqueue with the key replaces its
-- arguments and pushes its start back.
ALTER TABLE runs ADD COLUMN debounce_key TEXT COLLATE "C";
CREATE UNIQUE INDEX runs_debounce ON runs (task, debounce_key) WHERE status = 'pending' AND debounce_key IS NOT NULL;
-- Throttle: the run that holds a task's key until a time; an enqueue with the key before then
-- returns that run instead of adding one.
CREATE TABLE throttles (
  task TEXT COLLATE "C" NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  run_id TEXT COLLATE "C" NOT NULL,
  until BIGINT NOT NULL,
  PRIMARY KEY (task, key)
);
-- Starts under a rate limit ("task:<key>" or "queue:<name>"), kept for the limit's window.
CREATE TABLE rate_starts (
  limit_key TEXT COLLATE "C" NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX rate_starts_key_at ON rate_starts (limit_key, at);
-- A claim round when some tasks are grouped: claim_candidates (migration 1) without the grouped
-- runs of those tasks, which are claimed apart, per group.
CREATE FUNCTION claim_candidates_ungrouped(p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_full_tasks TEXT[], p_full_queues TEXT[], p_limit INTEGER, p_grouped TEXT[])
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
    AND (r.group_key IS NULL OR r.task <> ALL (p_grouped))
  ORDER BY r.priority DESC, r.run_at, r.id
  LIMIT p_limit
  FOR UPDATE SKIP LOCKED;
END
$$;
-- A claim under concurrency limits across workers, in one statement when they do not bind: takes
-- the limits' advisory locks (in the order given), counts the runs running per limited task and
-- queue through the partial index of leased runs (its condition stated so that it applies, as it
-- must with stale statistics: a scan of every run per claim would cost more than the claim), in
-- a plain index scan: that one marks the entries of runs no longer leased as dead as it passes
-- them, so later counts skip them; a bitmap scan does not, and would visit every run finished
-- since the last vacuum on each claim)
-- (each statement of a volatile function sees what committed before it, so the count
-- includes the claims of whoever held the locks before), and when every limit leaves room for
-- the whole claim, claims through claim_runs_counted (migration 4). When one would bind it claims nothing and
-- returns one row with a null id: the caller then claims in rounds, in a transaction.
CREATE FUNCTION claim_runs_limited(p_lock_class INTEGER, p_lock_keys TEXT[], p_limited_tasks TEXT[], p_task_limits INTEGER[],
  p_limited_queues TEXT[], p_queue_limits INTEGER[], p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_limit INTEGER, p_worker TEXT,
  p_token TEXT, p_lease_until BIGINT)
RETURNS TABLE (id TEXT, task TEXT, label TEXT, queue TEXT, pool_id TEXT, args JSON, tags JSON, attempt INTEGER, attempt_base INTEGER,
  max_attempts BIGINT, backoff JSON, timeout_ms BIGINT, log_count INTEGER)
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
SET enable_sort = off
SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(k)) FROM unnest(p_lock_keys) AS l(k);
  IF EXISTS (SELECT 1 FROM unnest(p_limited_tasks, p_task_limits) AS l(name, most)
             WHERE l.most - (SELECT count(*) FROM runs r WHERE r.status IN ('running', 'waiting') AND r.status = 'running' AND r.task = l.name) < p_limit)
     OR EXISTS (SELECT 1 FROM unnest(p_limited_queues, p_queue_limits) AS l(name, most)
             WHERE l.most - (SELECT count(*) FROM runs r WHERE r.status IN ('running', 'waiting') AND r.status = 'running' AND r.queue = l.name) < p_limit) THEN
    RETURN QUERY SELECT NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::JSON, NULL::JSON, NULL::INTEGER, NULL::INTEGER,
      NULL::BIGINT, NULL::JSON, NULL::BIGINT, NULL::INTEGER;
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM claim_runs_counted(p_now, p_tasks, p_queues, p_limit, p_worker, p_token, p_lease_until);
END
$$;
`,
}
