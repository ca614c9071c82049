/** PostgreSQL migration 4: claims count the attempt as started unless it is the last. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration004: Migration = {
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
}
