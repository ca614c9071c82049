/** PostgreSQL migration 9: the trace context of each run (OpenTelemetry), returned by claims. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

/** What a claim returns (migration 4's columns, then the trace context). */
const CLAIMED = `id TEXT, task TEXT, label TEXT, queue TEXT, pool_id TEXT, args JSON, tags JSON, attempt INTEGER, attempt_base INTEGER,
  max_attempts BIGINT, backoff JSON, timeout_ms BIGINT, log_count INTEGER, traceparent TEXT, tracestate TEXT`

export const migration009: Migration = {
  version: 9,
  name: 'trace context of runs, returned by claims',
  sql: `
-- The W3C trace context of the span that enqueued the run (traceparent, tracestate), returned
-- with each claim so the worker's span continues that trace. NULL for runs enqueued without
-- tracing: adding nullable columns without a default rewrites no row.
ALTER TABLE runs ADD COLUMN traceparent TEXT;
ALTER TABLE runs ADD COLUMN tracestate TEXT;
-- claim_runs_counted (migration 4) and claim_runs_limited (migration 5) returning the trace
-- context too. New functions, as in migrations 3 and 4: workers of the previous version keep
-- their own.
CREATE FUNCTION claim_runs_traced(p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_limit INTEGER, p_worker TEXT, p_token TEXT, p_lease_until BIGINT)
RETURNS TABLE (${CLAIMED})
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
  RETURNING r.id, r.task, r.label, r.queue, r.pool_id, r.args, r.tags, r.attempt, r.attempt_base, r.max_attempts, r.backoff, r.timeout_ms, r.log_count,
    r.traceparent, r.tracestate;
END
$$;
CREATE FUNCTION claim_runs_limited_traced(p_lock_class INTEGER, p_lock_keys TEXT[], p_limited_tasks TEXT[], p_task_limits INTEGER[],
  p_limited_queues TEXT[], p_queue_limits INTEGER[], p_now BIGINT, p_tasks TEXT[], p_queues TEXT[], p_limit INTEGER, p_worker TEXT,
  p_token TEXT, p_lease_until BIGINT)
RETURNS TABLE (${CLAIMED})
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
      NULL::BIGINT, NULL::JSON, NULL::BIGINT, NULL::INTEGER, NULL::TEXT, NULL::TEXT;
    RETURN;
  END IF;
  RETURN QUERY SELECT * FROM claim_runs_traced(p_now, p_tasks, p_queues, p_limit, p_worker, p_token, p_lease_until);
END
$$;
`,
}
