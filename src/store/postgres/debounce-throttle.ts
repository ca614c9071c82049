/**
 * Debounce and throttle on insert (PostgreSQL), one run at a time, each decided by one atomic
 * statement, whatever the number of concurrent inserters in this process or others:
 *
 * - Debounce: `INSERT … ON CONFLICT (task, debounce_key) WHERE status = 'pending' AND
 *   debounce_key IS NOT NULL DO UPDATE` (the partial unique index `runs_debounce`). A concurrent
 *   inserter of the same key waits on the row and then updates it; a run claimed meanwhile has
 *   left the index, so the insert goes ahead. The start only moves later: an update that comes
 *   last but was made a little earlier (another process's clock) keeps the later start.
 * - Throttle: the run takes the key with `INSERT INTO throttles … ON CONFLICT (task, key) DO
 *   UPDATE … WHERE throttles.until <= now` and is inserted by the same statement only when it
 *   did. PostgreSQL re-checks that condition on the newest version of the row after waiting for a
 *   concurrent taker, so one run per key and window gets through; the others read the holder.
 *   A holder no longer stored (deleted, purged) gives the key up: the next statement names it,
 *   and takes the key only while it still holds it (compare and set).
 */
import pg from 'pg'
import { ConflictError } from '../../errors.js'
import type { InsertOutcome, NewRun } from '../contract/queue.js'
import { runFromNew } from '../new-run.js'
import { jsonOrNull } from '../sql/columns.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection, Queryable } from './connection.js'
import { RUN_COLUMNS } from './dialect.js'

/** Whether a new run needs {@link debounceOrThrottle} (it has a debounce key or a throttle). */
export function isFlowRun(run: NewRun): boolean {
  return (run.debounceKey ?? null) !== null || (run.throttle ?? null) !== null
}

/** Options of {@link debounceOrThrottle}. */
export interface FlowInsertOptions {
  /** The NOTIFY channel. */
  readonly channel: string
  /** The NOTIFY payload. */
  readonly payload: string
  /**
   * Whether a statement that lost a race on the unique key may be sent again (only outside any
   * transaction: inside one, the failed statement has aborted it).
   */
  readonly retry: boolean
}

/** The columns of one new run, as {@link ROW_VALUES} lists them ($1–$23, then the trace context). */
const ROW_COLUMNS = `id, args, args_hash, unique_key, fire_key, status, task, label, queue, priority, tags, category, created_by, parent_id, pool_id,
  schedule_id, max_attempts, backoff, timeout_ms, run_at, not_after, created_at, enqueued_at, updated_at, group_key, debounce_key, traceparent, tracestate`
/**
 * Typed, since they are selected, not inserted as VALUES (whose types would come from the columns).
 * The trace context comes last in each statement's parameters, at `$trace` and the one after.
 */
const ROW_VALUES = (trace: number): string => `$1::text, $2::json, $3::text, $4::text, $5::text, 'pending', $6::text, $7::text, $8::text, $9::int8, $10::json, $11::text, $12::text,
  $13::text, $14::text, $15::text, $16::int8, $17::json, $18::int8, $19::int8, $20::int8, $21::int8, $21::int8, $21::int8, $22::text, $23::text, $${trace}::text, $${trace + 1}::text`

/** The parameters $1–$23 of one new run. */
function rowValues(run: NewRun): unknown[] {
  return [
    run.id,
    run.args,
    run.argsHash,
    run.uniqueKey,
    run.fireKey ?? null,
    run.task,
    run.label,
    run.queue,
    run.priority,
    JSON.stringify(run.tags),
    run.category,
    run.createdBy,
    run.parentId,
    run.poolId,
    run.scheduleId,
    run.maxAttempts,
    jsonOrNull(run.backoff),
    run.timeoutMs,
    run.runAt,
    run.notAfter,
    run.createdAt,
    run.groupKey ?? null,
    run.debounceKey ?? null,
  ]
}

/** A throttle row with its holder's columns (all `null` when the holder is no longer stored). */
type HolderRow = Omit<RunRow, 'id'> & { id: string | null; throttle_run_id: string; throttle_until: number | string }

/** How often a throttle's holder may change under one insert before it gives up (each change is another inserter's success). */
const THROTTLE_ROUNDS = 8

/**
 * Applies a run's debounce or throttle (a run with both is debounced only: the engine never sends
 * both). Returns the outcome when the run was inserted or an
 * existing run answers for it (the pending run with its debounce key, now carrying the new
 * values; or the throttle's holder); `{ inserted }` when the unique or fire key held it back, for
 * the caller to find the holder.
 */
export async function debounceOrThrottle(conn: PostgresConnection, db: Queryable, run: NewRun, options: FlowInsertOptions): Promise<InsertOutcome | { inserted: ReadonlySet<string> }> {
  if ((run.debounceKey ?? null) !== null) return debounce(conn, db, run, options)
  return throttle(conn, db, run, options)
}

/**
 * Runs whose unique or fire key another active run holds are not inserted (the arbiter of the
 * upsert is the debounce index only, so those keys are checked first; a race with an insert of
 * the same unique key fails the statement with a unique violation, sent again where allowed).
 */
async function debounce(conn: PostgresConnection, db: Queryable, run: NewRun, options: FlowInsertOptions): Promise<InsertOutcome | { inserted: ReadonlySet<string> }> {
  const t = conn.tables.runs
  const keyed = run.uniqueKey !== null || (run.fireKey ?? null) !== null
  const guard = keyed
    ? `WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE unique_key = $4 AND status IN ('pending', 'running', 'waiting') AND NOT (status = 'pending' AND task = $6 AND debounce_key = $23))
         AND NOT EXISTS (SELECT 1 FROM ${t} WHERE fire_key = $5)`
    : ''
  const text = `WITH up AS (
      INSERT INTO ${t} AS r (${ROW_COLUMNS}) SELECT ${ROW_VALUES(26)} ${guard}
      ON CONFLICT (task, debounce_key) WHERE status = 'pending' AND debounce_key IS NOT NULL
      DO UPDATE SET args = EXCLUDED.args, args_hash = EXCLUDED.args_hash, label = EXCLUDED.label, tags = EXCLUDED.tags, priority = EXCLUDED.priority,
        run_at = GREATEST(r.run_at, EXCLUDED.run_at), not_after = EXCLUDED.not_after, group_key = EXCLUDED.group_key, updated_at = EXCLUDED.updated_at
      RETURNING ${RUN_COLUMNS}
    ),
    wake AS MATERIALIZED (SELECT pg_notify($24, $25) FROM up WHERE up.id = $1)
    SELECT up.* FROM up LEFT JOIN wake ON true`
  const values = [...rowValues(run), options.channel, options.payload, run.traceparent ?? null, run.tracestate ?? null]
  let rows: RunRow[]
  try {
    rows = await conn.query<RunRow>(db, text, values)
  } catch (error) {
    if (!(keyed && options.retry && isUniqueViolation(error))) throw error
    // An insert of the same unique key committed between the guard's look and ours: look again.
    rows = await conn.query<RunRow>(db, text, values)
  }
  const [row] = rows
  if (row === undefined) return { inserted: new Set() }
  return row.id === run.id ? { run: runFromNew(run), created: true } : { run: toRun(row), created: false }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === '23505'
}

async function throttle(conn: PostgresConnection, db: Queryable, run: NewRun, options: FlowInsertOptions): Promise<InsertOutcome | { inserted: ReadonlySet<string> }> {
  const { key, ms } = run.throttle!
  const runs = conn.tables.runs
  const throttles = conn.tables.throttles
  // Takes the key when it is free, has expired, or is held by the run named in $29 (a holder no
  // longer stored), and inserts the run only then: both or neither, in one statement.
  const take = `WITH took AS (
      INSERT INTO ${throttles} AS t (task, key, run_id, until) VALUES ($6, $26, $1, $27)
      ON CONFLICT (task, key) DO UPDATE SET run_id = EXCLUDED.run_id, until = EXCLUDED.until
      WHERE t.until <= $28 OR t.run_id = $29
      RETURNING t.run_id
    ),
    ins AS (INSERT INTO ${runs} (${ROW_COLUMNS}) SELECT ${ROW_VALUES(30)} FROM took ON CONFLICT DO NOTHING RETURNING id),
    wake AS MATERIALIZED (SELECT pg_notify($24, $25) FROM (SELECT 1 FROM ins LIMIT 1) one)
    SELECT (SELECT count(*) FROM took)::int AS took, (SELECT count(*) FROM ins)::int AS inserted FROM (SELECT 1) x LEFT JOIN wake ON true`
  const holderSql = `SELECT t.run_id AS throttle_run_id, t.until AS throttle_until, ${RUN_COLUMNS.split(',')
    .map((c) => `r.${c.trim()}`)
    .join(', ')}
    FROM ${throttles} t LEFT JOIN ${runs} r ON r.id = t.run_id AND r.deleted_at IS NULL WHERE t.task = $1 AND t.key = $2`
  const base = [...rowValues(run), options.channel, options.payload, key, run.createdAt + ms, run.createdAt]
  let gone: string | null = null
  for (let round = 0; round < THROTTLE_ROUNDS; round++) {
    const [taken] = await conn.query<{ took: number; inserted: number }>(db, take, [...base, gone, run.traceparent ?? null, run.tracestate ?? null])
    if (taken!.took > 0) return taken!.inserted > 0 ? { run: runFromNew(run), created: true } : { inserted: new Set() }
    const [holder] = await conn.query<HolderRow>(db, holderSql, [run.task, key])
    // Taken by another run meanwhile, which is stored and holds it past now: that run answers.
    if (holder !== undefined && holder.id !== null && Number(holder.throttle_until) > run.createdAt) return { run: toRun(holder as RunRow), created: false }
    // Otherwise the key has expired since (the next round takes it), or its holder is no longer
    // stored: the next round takes it from that holder, unless another run took it first.
    gone = holder !== undefined && holder.id === null ? holder.throttle_run_id : null
  }
  throw new ConflictError(`throttle "${key}" of task "${run.task}": its holder changed ${THROTTLE_ROUNDS} times during one enqueue; try again`)
}
