/**
 * The batch writer: everything a worker's write buffer gathered in one turn. Each kind of write
 * is one statement over parallel arrays expanded by `unnest`, sorted by run id; several
 * statements share one transaction (with the optional claim), after a first statement that locks
 * every run of the batch in id order, so that a heartbeat renewing the same runs queues behind the
 * batch instead of deadlocking with it. Every write names the lease token in its WHERE clause,
 * which PostgreSQL re-checks on the newest row version after a lock wait.
 */
import type { BatchOutcome, ClaimedRun, WriteBatch } from '../contract/queue.js'
import { jsonOrNull, tagsJson } from '../sql/columns.js'
import { CANCELLED_ERROR_JSON } from '../sql/run-errors.js'
import { attemptJson } from '../sql/run-rows.js'
import { hasGlobalLimits } from '../claim-plan.js'
import { claimAfterUpdate, claimInTransaction, claimThrough, fusable, oneStatement } from './claim-runs.js'
import type { PostgresConnection } from './connection.js'
import { appendAttempt } from './dialect.js'
import { Held, byId, distinctRuns, firstPerKey, keyOf, lastPerKey } from './write-order.js'

/** One statement of a batch write and what to do with its rows. */
interface Step {
  readonly text: string
  readonly values: unknown[]
  readonly done: (rows: Record<string, unknown>[]) => void
  /** A plain `UPDATE … RETURNING <id>, <token>` (see claimAfterUpdate), which a claim may join in one statement. */
  readonly plain?: true
}

/** Writes a batch; runs back to `pending` wake workers (here at once, elsewhere by the statements' NOTIFY). */
export async function writeBatch(conn: PostgresConnection, batch: WriteBatch): Promise<BatchOutcome> {
  const db = await conn.db()
  const t = conn.tables
  const now = Date.now()
  const steps: Step[] = []
  // Keys (run, token) whose write took effect.
  const held = new Held()
  const collect = (rows: Record<string, unknown>[]): void => {
    for (const row of rows) held.add(row.id as string, row.token as string)
  }
  let woke = false
  // Writes that may put runs back to pending wake the workers (here and, by NOTIFY, elsewhere).
  const collectWaking = (rows: Record<string, unknown>[]): void => {
    collect(rows)
    if (rows.some((r) => r.status === 'pending')) woke = true
  }

  if (batch.logs.length > 0) {
    // The run rows are updated (locked) first and the lines inserted only for runs whose token
    // held under that lock, so a rescue racing this batch cannot let a stale line in.
    const logs = batch.logs
    steps.push({
      text: `WITH l AS MATERIALIZED (
          SELECT * FROM unnest($1::text[], $2::text[], $3::int4[], $4::int8[], $5::text[], $6::text[]) AS l(run_id, token, seq, time, level, message)
        ), held AS (
          UPDATE ${t.runs} r SET log_count = greatest(r.log_count, m.top)
          FROM (SELECT run_id, token, max(seq) AS top FROM l GROUP BY run_id, token) m
          WHERE r.id = m.run_id AND r.lease_token = m.token
          RETURNING m.run_id, m.token
        )
        INSERT INTO ${t.logs} (run_id, seq, time, level, message)
        SELECT l.run_id, l.seq, l.time, l.level, l.message FROM l JOIN held h ON h.run_id = l.run_id AND h.token = l.token
        ON CONFLICT DO NOTHING`,
      values: [
        logs.map((l) => l.runId),
        logs.map((l) => l.token),
        logs.map((l) => l.seq),
        logs.map((l) => l.time),
        logs.map((l) => l.level),
        logs.map((l) => withoutNul(l.message)),
      ],
      done: () => undefined,
    })
  }
  const logCounts = batch.logCounts ?? []
  if (logCounts.length > 0) {
    steps.push({
      text: `UPDATE ${t.runs} r SET log_count = greatest(r.log_count, c.count)
        FROM (SELECT id, token, max(count) AS count FROM unnest($1::text[], $2::text[], $3::int4[]) AS u(id, token, count) GROUP BY id, token) c
        WHERE r.id = c.id AND r.lease_token = c.token`,
      values: [logCounts.map((c) => c.id), logCounts.map((c) => c.token), logCounts.map((c) => c.count)],
      done: () => undefined,
    })
  }
  // Several writes to one run under one token: the last one wins, as if applied in order.
  const progress = lastPerKey(batch.progress).sort(byId)
  if (progress.length > 0) {
    steps.push({
      // A partial result (ctx.setResult) is stored as the run's data; without one the data stays.
      text: `UPDATE ${t.runs} r SET progress = p.progress::json, tags = p.tags::json, data = coalesce(p.data::json, r.data), updated_at = $5
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::text[]) AS p(id, token, progress, tags, data)
        WHERE r.id = p.id AND r.lease_token = p.token
        RETURNING p.id, p.token`,
      values: [progress.map((p) => p.id), progress.map((p) => p.token), progress.map((p) => JSON.stringify(p.progress)), progress.map((p) => JSON.stringify(p.tags)), now, progress.map((p) => p.result ?? null)],
      done: collect,
    })
  }
  const holds = lastPerKey(batch.holds ?? []).sort(byId)
  if (holds.length > 0) {
    steps.push({
      text: `UPDATE ${t.runs} r SET started_at = NULL
        FROM unnest($1::text[], $2::text[]) AS h(id, token)
        WHERE r.id = h.id AND r.lease_token = h.token
        RETURNING h.id, h.token`,
      values: [holds.map((h) => h.id), holds.map((h) => h.token)],
      done: collect,
    })
  }
  const starts = lastPerKey(batch.starts ?? []).sort(byId)
  if (starts.length > 0) {
    steps.push({
      text: `UPDATE ${t.runs} r SET started_at = s.started_at
        FROM unnest($1::text[], $2::text[], $3::int8[]) AS s(id, token, started_at)
        WHERE r.id = s.id AND r.lease_token = s.token
        RETURNING s.id, s.token`,
      values: [starts.map((st) => st.id), starts.map((st) => st.token), starts.map((st) => st.startedAt)],
      done: collect,
    })
  }
  const waits = lastPerKey(batch.waits).sort(byId)
  if (waits.length > 0) {
    steps.push({
      text: `UPDATE ${t.runs} r SET status = CASE WHEN w.waiting THEN 'waiting' ELSE 'running' END, updated_at = $4
        FROM unnest($1::text[], $2::text[], $3::bool[]) AS w(id, token, waiting)
        WHERE r.id = w.id AND r.lease_token = w.token AND r.status IN ('running', 'waiting')
        RETURNING w.id, w.token`,
      values: [waits.map((w) => w.id), waits.map((w) => w.token), waits.map((w) => w.waiting), now],
      done: collect,
    })
  }
  // A completion ends the token: a second one under the same token is fenced, as in order.
  const completions = firstPerKey(batch.completions).sort(byId)
  const finals = completions.filter((c) => c.status !== 'pending')
  const retries = completions.filter((c) => c.status === 'pending')
  if (finals.length > 0) {
    // Final outcomes leave the attempt list alone: the last attempt is read from the run's own
    // columns (see run-rows.ts), which keeps the hot path free of JSON work.
    steps.push({
      text: `UPDATE ${t.runs} r SET status = c.status, started_at = c.started_at, finished_at = c.finished_at, updated_at = c.finished_at, data = c.data::json,
          error = c.error::json, progress = c.progress::json, tags = c.tags::json, lease_token = NULL, lease_expires_at = NULL
        FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int8[])
          AS c(id, token, status, finished_at, data, error, progress, tags, started_at)
        WHERE r.id = c.id AND r.lease_token = c.token
        RETURNING c.id, c.token`,
      plain: true,
      values: [
        finals.map((c) => c.id),
        finals.map((c) => c.token),
        finals.map((c) => c.status),
        finals.map((c) => c.finishedAt),
        orNone(finals.map((c) => c.data ?? null)),
        orNone(finals.map((c) => jsonOrNull(c.error))),
        orNone(finals.map((c) => jsonOrNull(c.progress))),
        finals.map((c) => tagsJson(c.tags)),
        finals.map((c) => c.attempt.startedAt.getTime()),
      ],
      done: collect,
    })
  }
  if (retries.length > 0) {
    // A cancel requested elsewhere wins over a retry the worker decided before it heard of it.
    steps.push({
      text: waking(
        `UPDATE ${t.runs} r SET
            status = CASE WHEN r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
            finished_at = CASE WHEN r.cancel_requested_at IS NOT NULL THEN c.finished_at END,
            error = CASE WHEN r.cancel_requested_at IS NOT NULL THEN $10::json ELSE c.error::json END,
            run_at = c.run_at, started_at = c.started_at, progress = c.progress::json, tags = c.tags::json, data = c.data::json,
            attempts = ${appendAttempt('r.attempts', 'c.attempt')},
            attempt_base = r.attempt_base + c.refund,
            lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = c.finished_at
          FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int4[], $13::int8[], $14::text[])
            AS c(id, token, finished_at, run_at, error, progress, tags, attempt, refund, started_at, data)
          WHERE r.id = c.id AND r.lease_token = c.token
          RETURNING c.id, c.token, r.status`,
        '$11',
        '$12',
      ),
      values: [
        retries.map((c) => c.id),
        retries.map((c) => c.token),
        retries.map((c) => c.finishedAt),
        retries.map((c) => c.runAt ?? c.finishedAt),
        retries.map((c) => jsonOrNull(c.error)),
        retries.map((c) => jsonOrNull(c.progress)),
        retries.map((c) => tagsJson(c.tags)),
        retries.map((c) => attemptJson(c.attempt)),
        retries.map((c) => (c.refundAttempt === true ? 1 : 0)),
        CANCELLED_ERROR_JSON,
        conn.schema,
        conn.instance,
        retries.map((c) => c.attempt.startedAt.getTime()),
        retries.map((c) => c.data ?? null),
      ],
      done: collectWaking,
    })
  }

  const releases = firstPerKey(batch.releases ?? []).sort(byId)
  if (releases.length > 0) {
    // As if never claimed: the attempt number goes back and the history stays as it was.
    steps.push({
      text: waking(
        `UPDATE ${t.runs} r SET
            status = CASE WHEN x.cancel OR r.cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
            finished_at = CASE WHEN x.cancel OR r.cancel_requested_at IS NOT NULL THEN x.at END,
            error = CASE WHEN x.cancel THEN x.error::json WHEN r.cancel_requested_at IS NOT NULL THEN $6::json ELSE r.error END,
            attempt = r.attempt - 1, started_at = NULL, lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = x.at
          FROM unnest($1::text[], $2::text[], $3::bool[], $4::int8[], $5::text[]) AS x(id, token, cancel, at, error)
          WHERE r.id = x.id AND r.lease_token = x.token
          RETURNING x.id, x.token, r.status`,
        '$7',
        '$8',
      ),
      values: [
        releases.map((r) => r.id),
        releases.map((r) => r.token),
        releases.map((r) => r.status === 'cancelled'),
        releases.map((r) => r.at),
        releases.map((r) => (r.error === null ? CANCELLED_ERROR_JSON : JSON.stringify(r.error))),
        CANCELLED_ERROR_JSON,
        conn.schema,
        conn.instance,
      ],
      done: collectWaking,
    })
  }

  if (steps.length > 1) {
    // Each statement locks its rows in id order, but one after another they would not: a
    // heartbeat renewing the same runs (in id order, on another connection) could then hold
    // a row the second statement needs while waiting for one the first took. Taking every
    // row of the batch first, in id order, keeps one order for all.
    const ids = new Set<string>()
    for (const l of batch.logs) ids.add(l.runId)
    for (const list of [logCounts, progress, holds, starts, waits, completions, releases]) for (const write of list) ids.add(write.id)
    steps.unshift({ text: `SELECT 1 FROM ${t.runs} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, values: [[...ids].sort()], done: () => undefined })
  }
  const wanted = batch.claim !== undefined && batch.claim.limit > 0 && batch.claim.tasks.length > 0 ? batch.claim : undefined
  // A claim under limits across workers holds their locks until it commits. One that can be a
  // single statement (see oneStatement) goes last in the batch's transaction: the locks are held
  // for its commit only. Others go in a short transaction of their own after the batch's writes,
  // so batches in flight never queue on the locks while they write.
  const separate = wanted !== undefined && hasGlobalLimits(wanted) && !oneStatement(wanted) ? wanted : undefined
  const claim = separate === undefined ? wanted : undefined
  let claimed: ClaimedRun[] | undefined
  const only = steps.length === 1 ? steps[0]! : undefined
  if (only?.plain === true && claim !== undefined && fusable(claim)) {
    // The usual batch of a busy worker: its completions and the claim refilling their slots, as one statement.
    const fused = await claimAfterUpdate(conn, db, only, claim)
    only.done(fused.updated)
    claimed = fused.claimed
  } else if (steps.length + (claim === undefined ? 0 : 1) === 1) {
    // One statement is a transaction of its own.
    const step = steps[0]
    if (step !== undefined) step.done(await conn.query(db, step.text, step.values))
    else if (claim !== undefined) claimed = await claimThrough(conn, db, claim)
  } else if (steps.length > 0 || claim !== undefined) {
    claimed = await conn.transaction(async (client) => {
      // One after another: pg (from 9.0) refuses queries queued on a busy connection.
      for (const step of steps) step.done(await conn.query(client, step.text, step.values))
      return claim === undefined ? undefined : claimInTransaction(conn, client, claim)
    })
  }
  if (separate !== undefined) claimed = await claimThrough(conn, db, separate)
  if (woke) conn.notify()

  const fenced = new Set<string>()
  for (const list of [batch.progress, batch.waits, batch.holds ?? [], batch.starts ?? []]) for (const write of list) if (!held.has(write)) fenced.add(write.id)
  // A second completion or release under one token is fenced (the first ended the token).
  const ends = [...batch.completions, ...(batch.releases ?? [])]
  const seen = distinctRuns(ends) ? undefined : new Set<string>()
  for (const c of ends) {
    if (!held.has(c)) fenced.add(c.id)
    else if (seen !== undefined) {
      const key = keyOf(c)
      if (seen.has(key)) fenced.add(c.id)
      seen.add(key)
    }
  }
  if (batch.claim !== undefined) claimed ??= []
  return claimed === undefined ? { fenced: [...fenced] } : { fenced: [...fenced], claimed }
}

/**
 * `update` (an UPDATE of runs returning `id, token, status`) with the wake-up NOTIFY of the
 * store's channel (`channel`, `payload`: placeholders) in the same statement, sent once when it
 * put a run back to `pending`, so the wake-up belongs to the batch's transaction.
 */
function waking(update: string, channel: string, payload: string): string {
  return `WITH up AS (
          ${update}
        ), wake AS MATERIALIZED (SELECT pg_notify(${channel}, ${payload}) FROM up WHERE status = 'pending' LIMIT 1)
        SELECT up.id, up.token, up.status FROM up LEFT JOIN wake ON true`
}

/**
 * A per-run column, or an empty array when every value is NULL (no data, no error, no progress:
 * the usual success): `unnest` pads it with NULLs, so neither side writes or parses one per run.
 */
function orNone(values: (string | null)[]): (string | null)[] {
  return values.every((v) => v === null) ? [] : values
}

/** PostgreSQL text cannot hold NUL characters; a log line keeps its place with U+FFFD instead. */
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\ufffd') : text
}
