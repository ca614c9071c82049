/**
 * Inserting runs: one statement for any batch, however large, and the outcome of each run
 * (inserted, or the active run holding its unique key or the run holding its fire key or request id).
 *
 * Rows of one enqueueMany share everything but id, arguments and keys, so the shared columns
 * travel once per group and only the varying ones per row, all as parallel arrays expanded by
 * `unnest` (arrays of text, not one JSON document: JSON functions reject a `\u0000` escape that
 * the arguments may legitimately hold). The statement also NOTIFYs the store's channel, so the
 * wake-up belongs to the insert's transaction and fires on its commit. Runs with a debounce key
 * or a throttle take statements of their own (`debounce-throttle.ts`); batches without them
 * never touch those.
 */
import type pg from 'pg'
import { ConflictError, ValidationError, describeValue } from '../../errors.js'
import type { InsertOptions, InsertOutcome, NewRun } from '../contract/queue.js'
import { runFromNew, runsFromNew } from '../new-run.js'
import { jsonOrNull } from '../sql/columns.js'
import { groupRuns } from '../sql/run-groups.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import type { PostgresConnection, Queryable } from './connection.js'
import { debounceOrThrottle, isFlowRun } from './debounce-throttle.js'
import { RUN_COLUMNS } from './dialect.js'

/** Options of {@link insertStatement}. */
export interface InsertStatementOptions {
  /** Return the ids actually inserted (needed with unique keys, where some may be skipped); without, no row may conflict. */
  readonly returnIds: boolean
  /** The NOTIFY channel. */
  readonly channel: string
  /** The NOTIFY payload. */
  readonly payload: string
}

/** The INSERT of `runs` into `table` (a quoted, schema-qualified name), with its parameters. */
export function insertStatement(table: string, runs: readonly NewRun[], options: InsertStatementOptions): { text: string; values: unknown[] } {
  const grouped = groupRuns(runs)
  const groups = grouped.map((g) => g.shared)
  const groupIndex = new Map(grouped.flatMap((g, i) => g.rows.map((r) => [r, i + 1] as const)))
  const groupOf = runs.map((r) => groupIndex.get(r)!)
  const baseColumns = `id, args, args_hash, unique_key, fire_key, status, task, label, queue, priority, tags, category, created_by, parent_id, pool_id,
    schedule_id, max_attempts, backoff, timeout_ms, run_at, not_after, created_at, enqueued_at, updated_at`
  const shared = `g.task, g.label, g.queue, g.priority, g.tags::json, g.category, g.created_by, g.parent_id, g.pool_id, g.schedule_id,
    g.max_attempts, g.backoff::json, g.timeout_ms, g.run_at, g.not_after, g.created_at, g.created_at, g.created_at`
  const groupColumns = (value: (r: NewRun) => unknown): unknown[] => groups.map(value)
  const values: unknown[] = [
    runs.map((r) => r.id),
    runs.map((r) => r.args),
    orEmpty(runs, (r) => r.argsHash),
    orEmpty(runs, (r) => r.uniqueKey),
    groupColumns((r) => r.task),
    groupColumns((r) => r.label),
    groupColumns((r) => r.queue),
    groupColumns((r) => r.priority),
    groupColumns((r) => JSON.stringify(r.tags)),
    groupColumns((r) => r.category),
    groupColumns((r) => r.createdBy),
    groupColumns((r) => r.parentId),
    groupColumns((r) => r.poolId),
    groupColumns((r) => r.scheduleId),
    groupColumns((r) => r.maxAttempts),
    groupColumns((r) => jsonOrNull(r.backoff)),
    groupColumns((r) => r.timeoutMs),
    groupColumns((r) => r.runAt),
    groupColumns((r) => r.notAfter),
    groupColumns((r) => r.createdAt),
    options.channel,
    options.payload,
    orEmpty(runs, (r) => r.fireKey ?? null),
  ]
  // Group and debounce keys go per row, and only when some row has one: batches without them
  // keep the statement they always had.
  const keyed = runs.some((r) => (r.groupKey ?? null) !== null || (r.debounceKey ?? null) !== null)
  const extraColumns = keyed ? ', group_key, debounce_key' : ''
  const extraValues = keyed ? ', v.group_key, v.debounce_key' : ''
  // The per-row arrays: the parameter and the name of each.
  const perRow: [string, string][] = [
    ['$1::text[]', 'id'],
    ['$2::text[]', 'args'],
    ['$3::text[]', 'args_hash'],
    ['$4::text[]', 'unique_key'],
    ['$23::text[]', 'fire_key'],
  ]
  if (keyed) {
    values.push(
      runs.map((r) => r.groupKey ?? null),
      runs.map((r) => r.debounceKey ?? null),
    )
    perRow.push(['$24::text[]', 'group_key'], ['$25::text[]', 'debounce_key'])
  }
  // So do trace contexts (runs enqueued under a tracer).
  const traced = runs.some((r) => (r.traceparent ?? null) !== null)
  let columns = `${baseColumns}${extraColumns}`
  let perRowValues = ''
  if (traced) {
    values.push(
      runs.map((r) => r.traceparent ?? null),
      runs.map((r) => r.tracestate ?? null),
    )
    perRow.push([`$${values.length - 1}::text[]`, 'traceparent'], [`$${values.length}::text[]`, 'tracestate'])
    columns += ', traceparent, tracestate'
    perRowValues = ', v.traceparent, v.tracestate'
  }
  // And request ids (runs enqueued with a requestId, e.g. by the AMQP bridge).
  if (runs.some((r) => (r.requestId ?? null) !== null)) {
    values.push(runs.map((r) => r.requestId ?? null))
    perRow.push([`$${values.length}::text[]`, 'request_id'])
    columns += ', request_id'
    perRowValues += ', v.request_id'
  }
  const g = `unnest($5::text[], $6::text[], $7::text[], $8::int8[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
      $15::int8[], $16::text[], $17::int8[], $18::int8[], $19::int8[], $20::int8[])
    WITH ORDINALITY AS g(task, label, queue, priority, tags, category, created_by, parent_id, pool_id, schedule_id, max_attempts, backoff, timeout_ms, run_at, not_after, created_at, n)`
  // One group: a cross join with its single row. Several: a join on the group number.
  if (groups.length > 1) {
    values.push(groupOf)
    perRow.push([`$${values.length}::int4[]`, 'grp'])
  }
  // The rows come from unnest in the select list, which streams them (in step, shorter arrays
  // padded with NULLs); unnest in FROM would first store them all, on disk past work_mem.
  const rows = `(SELECT ${perRow.map(([param, name]) => `unnest(${param}) AS ${name}`).join(', ')}) v`
  const select = `SELECT v.id, v.args::json, v.args_hash, v.unique_key, v.fire_key, 'pending', ${shared}${extraValues}${perRowValues}
      FROM ${rows} ${groups.length === 1 ? `CROSS JOIN ${g}` : `JOIN ${g} ON g.n = v.grp`}`
  // The NOTIFY is part of the statement, so it belongs to the same transaction as the insert:
  // listeners hear it on commit (the caller's commit, when inserting through their client).
  // Runs without keys take a plain INSERT: ON CONFLICT would make every row a speculative
  // insertion (a probe of each unique index, a second WAL record; measured: a third of the
  // insert's time), and their fresh ids conflict with nothing (a repeated id fails loudly).
  const text = options.returnIds
    ? `WITH ins AS (INSERT INTO ${table} (${columns}) ${select} ON CONFLICT DO NOTHING RETURNING id),
         wake AS MATERIALIZED (SELECT pg_notify($21, $22) FROM (SELECT 1 FROM ins LIMIT 1) one)
       SELECT ins.id FROM ins LEFT JOIN wake ON true`
    : `WITH ins AS (INSERT INTO ${table} (${columns}) ${select}) SELECT pg_notify($21, $22)::text AS id`
  return { text, values }
}

/**
 * A per-row column as an array, or an empty one when no row has a value: `unnest` pads the
 * shorter arrays with NULLs, so neither side serialises or parses a NULL per row.
 */
function orEmpty(runs: readonly NewRun[], value: (r: NewRun) => string | null): (string | null)[] {
  const column = runs.map(value)
  return column.every((v) => v === null) ? [] : column
}

/**
 * Inserts runs; through the caller's `client`, inside their transaction. Wakes this process's
 * workers (the statement's NOTIFY wakes the others on commit).
 */
export async function insertRuns(conn: PostgresConnection, runs: readonly NewRun[], options: InsertOptions): Promise<InsertOutcome[]> {
  const client = options.client
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof (client as { query?: unknown }).query !== 'function')) {
    throw new ValidationError(`client: expected a pg client (pg.Client, or a PoolClient from pool.connect()) inside your transaction, got ${describeValue(client)}`)
  }
  const pool = await conn.db()
  if (runs.length === 0) return []
  // Through the caller's client the insert is part of their transaction: the NOTIFY fires when
  // they commit, and this store's listener must hear it too (empty payload), since it cannot
  // wake its workers itself at the right moment.
  const caller = client as pg.ClientBase | undefined
  if (runs.some(isFlowRun)) {
    // One debounced or throttled run (what the engine sends) needs no transaction of its own:
    // each of its statements is atomic. A batch with more goes in one transaction.
    // On the pool, outside any transaction, a statement may be sent again after a unique-key
    // race: its failure aborts nothing else.
    if (caller !== undefined) return insertWithFlow(conn, caller, runs, { viaClient: true, retry: false })
    if (runs.length === 1) return insertWithFlow(conn, pool, runs, { viaClient: false, retry: true })
    return conn.transaction((tx) => insertWithFlow(conn, tx, runs, { viaClient: false, retry: false }))
  }
  return insertPlain(conn, caller ?? pool, runs, caller !== undefined)
}

/** Inserts runs without debounce or throttle in one statement (see {@link insertStatement}). */
async function insertPlain(conn: PostgresConnection, db: Queryable, runs: readonly NewRun[], viaClient: boolean): Promise<InsertOutcome[]> {
  const hasUnique = runs.some((r) => r.uniqueKey !== null || (r.fireKey ?? null) !== null || (r.requestId ?? null) !== null)
  const { text, values } = insertStatement(conn.tables.runs, runs, { returnIds: hasUnique, channel: conn.schema, payload: viaClient ? '' : conn.instance })
  const rows = await conn.query<{ id: string | null }>(db, text, values)
  if (!hasUnique) {
    if (!viaClient) conn.notify()
    return runsFromNew(runs).map((run) => ({ run, created: true }))
  }
  const inserted = new Set(rows.map((r) => r.id))
  const outcomes = await insertOutcomes(conn, db, runs, inserted)
  if (inserted.size > 0 && !viaClient) conn.notify()
  return outcomes
}

/**
 * Inserts a batch holding debounced or throttled runs: the others in one statement, then each
 * of those with its own (in order), on `db` (the pool for one run, else a transaction's client).
 */
async function insertWithFlow(conn: PostgresConnection, db: Queryable, runs: readonly NewRun[], { viaClient, retry }: { viaClient: boolean; retry: boolean }): Promise<InsertOutcome[]> {
  const outcomes = new Map<NewRun, InsertOutcome>()
  const plain = runs.filter((r) => !isFlowRun(r))
  if (plain.length > 0) (await insertPlain(conn, db, plain, viaClient)).forEach((outcome, i) => outcomes.set(plain[i]!, outcome))
  let created = false
  for (const run of runs) {
    if (!isFlowRun(run)) continue
    const result = await debounceOrThrottle(conn, db, run, { channel: conn.schema, payload: viaClient ? '' : conn.instance, retry })
    const outcome = 'run' in result ? result : (await insertOutcomes(conn, db, [run], result.inserted))[0]!
    created ||= outcome.created
    outcomes.set(run, outcome)
  }
  if (created && !viaClient) conn.notify()
  return runs.map((r) => outcomes.get(r)!)
}

/** The outcome of each run of an insert: inserted (in `inserted`), or the run holding its fire key or unique key. */
async function insertOutcomes(conn: PostgresConnection, db: Queryable, runs: readonly NewRun[], inserted: ReadonlySet<string | null>): Promise<InsertOutcome[]> {
  const skipped = runs.filter((r) => !inserted.has(r.id))
  const lost = [...new Set(skipped.map((r) => r.uniqueKey).filter((k) => k !== null))]
  const lostTicks = [...new Set(skipped.map((r) => r.fireKey ?? null).filter((k) => k !== null))]
  const lostRequests = [...new Set(skipped.map((r) => r.requestId ?? null).filter((k) => k !== null))]
  const holders = new Map<string | null, RunRow>()
  const tickHolders = new Map<string | null, RunRow>()
  const requestHolders = new Map<string | null, RunRow>()
  if (lostRequests.length > 0) {
    for (const row of await conn.query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${conn.tables.runs} WHERE request_id = ANY($1::text[])`, [lostRequests])) {
      requestHolders.set(row.request_id ?? null, row)
    }
  }
  if (lost.length > 0) {
    for (const row of await conn.query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${conn.tables.runs} WHERE unique_key = ANY($1::text[]) AND status IN ('pending', 'running', 'waiting')`, [lost])) {
      holders.set(row.unique_key, row)
    }
  }
  if (lostTicks.length > 0) {
    for (const row of await conn.query<RunRow>(db, `SELECT ${RUN_COLUMNS} FROM ${conn.tables.runs} WHERE fire_key = ANY($1::text[])`, [lostTicks])) tickHolders.set(row.fire_key, row)
  }
  return runs.map((r) => {
    if (inserted.has(r.id)) return { run: runFromNew(r), created: true }
    const holder = requestHolders.get(r.requestId ?? null) ?? tickHolders.get(r.fireKey ?? null) ?? holders.get(r.uniqueKey)
    if (holder === undefined) throw new ConflictError(`run ${r.id} was not inserted and no run holds its request id, fire key or unique key ${describeValue(r.uniqueKey)}`)
    return { run: toRun(holder), created: false }
  })
}
