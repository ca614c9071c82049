/** PostgreSQL migration 3: claims leave the start time to the worker; schedule fire keys; finished runs by time. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration003: Migration = {
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
}
