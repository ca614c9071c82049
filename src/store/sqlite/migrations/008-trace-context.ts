/** SQLite migration 8: the trace context of each run (OpenTelemetry). Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration008: Migration = {
  version: 8,
  name: 'trace context of runs',
  sql: `
-- The W3C trace context of the span that enqueued the run (traceparent, tracestate), returned
-- with each claim so the worker's span continues that trace. NULL for runs enqueued without
-- tracing: adding nullable columns rewrites no row.
ALTER TABLE runs ADD COLUMN traceparent TEXT;
ALTER TABLE runs ADD COLUMN tracestate TEXT;
`,
}
