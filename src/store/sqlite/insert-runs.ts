/**
 * Inserting runs: any batch in a few multi-row INSERTs (one per chunk size), and the outcome of
 * each run (inserted, or the active run holding its unique key or the run holding its fire key or
 * request id).
 * Runs with a debounce key or a throttle take their own path (`debounce-throttle.ts`) in the
 * same transaction; batches without them never touch it.
 */
import type Database from 'better-sqlite3'
import { ConflictError, ValidationError } from '../../errors.js'
import type { ClaimRequest, ClaimedRun, InsertAndClaim, InsertOptions, InsertOutcome, NewRun } from '../contract/queue.js'
import { runFromNew, runsFromNew } from '../new-run.js'
import { groupRuns } from '../sql/run-groups.js'
import { toRun, type RunRow } from '../sql/run-rows.js'
import { claimInTransaction } from './claim-runs.js'
import type { SqliteConnection } from './connection.js'
import { jsonOrNull, tagsJson } from '../sql/columns.js'
import { debounceOrThrottle, isFlowRun } from './debounce-throttle.js'

/** Rows per INSERT statement. */
const INSERT_CHUNK = 512

/** Inserts runs in one transaction and wakes this process's workers. */
export function insertRuns(db: SqliteConnection, runs: readonly NewRun[], options: InsertOptions): InsertOutcome[] {
  if (options.client !== undefined) throw new ValidationError('client: the SQLite store has no client connections; enqueue without `client`')
  if (runs.length === 0) return []
  if (!runs.some(isFlowRun)) {
    const inserted = db.write(() => insertRows(db, runs))
    return insertOutcomes(db, runs, inserted)
  }
  return db.write(() => insertFlowRuns(db, runs))
}

/**
 * Inserts runs and claims in the same transaction (see `QueueStore.insertRunsAndClaim`); wakes
 * this process's workers only when an inserted run was left unclaimed.
 */
export function insertRunsAndClaim(db: SqliteConnection, runs: readonly NewRun[], claim: ClaimRequest): InsertAndClaim {
  let claimed: ClaimedRun[] = []
  const taken = new Set<string>()
  const unclaimed = (id: string): boolean => !taken.has(id)
  // The wake-ups of the insert are microtasks: they run after this transaction and see what the claim took.
  const thenClaim = <T>(insert: () => T): T =>
    db.write(() => {
      const inserted = insert()
      claimed = claimInTransaction(db, claim)
      for (const run of claimed) taken.add(run.id)
      return inserted
    })
  const outcomes =
    runs.length === 0
      ? thenClaim(() => [])
      : runs.some(isFlowRun)
        ? thenClaim(() => insertFlowRuns(db, runs, unclaimed))
        : insertOutcomes(db, runs, thenClaim(() => insertRows(db, runs)), unclaimed)
  return { outcomes, claimed }
}

/**
 * Debounced and throttled runs, one at a time inside the caller's IMMEDIATE transaction: the
 * write lock serializes every other inserter, in this process and others, so the look at the
 * pending run or the throttle and the write that follows cannot interleave with theirs.
 */
function insertFlowRuns(db: SqliteConnection, runs: readonly NewRun[], unclaimed?: (id: string) => boolean): InsertOutcome[] {
  const plain = runs.filter((r) => !isFlowRun(r))
  const outcomes = new Map<NewRun, InsertOutcome>()
  if (plain.length > 0) insertOutcomes(db, plain, insertRows(db, plain), unclaimed).forEach((outcome, i) => outcomes.set(plain[i]!, outcome))
  for (const run of runs) {
    if (!isFlowRun(run)) continue
    const inserted = debounceOrThrottle(db, run, (r) => insertRows(db, [r]))
    outcomes.set(run, 'run' in inserted ? inserted : insertOutcomes(db, [run], inserted.inserted, unclaimed)[0]!)
  }
  return runs.map((r) => outcomes.get(r)!)
}

/**
 * Inserts rows (inside the caller's transaction); returns the ids inserted, or `undefined` when
 * no row has a unique or fire key (then all were).
 */
export function insertRows(db: SqliteConnection, runs: readonly NewRun[]): Set<string> | undefined {
  // Rows of one enqueueMany share everything but id, arguments and keys: the shared values go
  // once per statement as named parameters, the varying ones as positional parameters of a
  // multi-row VALUES (measured: ~40% faster than one JSON array expanded by json_each, whose
  // per-row extractions cost more than binding). Rows without hash or keys bind two values.
  const hasUnique = runs.some((r) => r.uniqueKey !== null || (r.fireKey ?? null) !== null || (r.requestId ?? null) !== null)
  // Group keys and debounce keys travel per row, in statements of their own: batches without
  // them keep the statement they always had.
  const grouped = runs.some((r) => (r.groupKey ?? null) !== null || (r.debounceKey ?? null) !== null)
  // So do trace contexts (runs enqueued under a tracer).
  const traced = runs.some((r) => (r.traceparent ?? null) !== null)
  // And request ids (runs enqueued with a requestId, e.g. by the AMQP bridge).
  const requested = runs.some((r) => (r.requestId ?? null) !== null)
  const inserted = new Set<string>()
  for (const { shared, rows } of groupRuns(runs)) {
    const params = {
      task: shared.task,
      label: shared.label,
      queue: shared.queue,
      priority: shared.priority,
      tags: tagsJson(shared.tags),
      category: shared.category,
      createdBy: shared.createdBy,
      parentId: shared.parentId,
      poolId: shared.poolId,
      scheduleId: shared.scheduleId,
      maxAttempts: shared.maxAttempts,
      backoff: jsonOrNull(shared.backoff),
      timeoutMs: shared.timeoutMs,
      runAt: shared.runAt,
      notAfter: shared.notAfter,
      createdAt: shared.createdAt,
    }
    const keyed = hasUnique || rows.some((r) => r.argsHash !== null)
    const width = (keyed ? 5 : 2) + (grouped ? 2 : 0) + (traced ? 2 : 0) + (requested ? 1 : 0)
    for (let at = 0; at < rows.length; ) {
      const count = chunkSize(rows.length - at)
      const values = new Array<unknown>(count * width)
      for (let i = 0, v = 0; i < count; i++) {
        const r = rows[at + i]!
        values[v++] = r.id
        values[v++] = r.args
        if (keyed) {
          values[v++] = r.argsHash
          values[v++] = r.uniqueKey
          values[v++] = r.fireKey ?? null
        }
        if (grouped) {
          values[v++] = r.groupKey ?? null
          values[v++] = r.debounceKey ?? null
        }
        if (traced) {
          values[v++] = r.traceparent ?? null
          values[v++] = r.tracestate ?? null
        }
        if (requested) values[v++] = r.requestId ?? null
      }
      at += count
      const statement = insertStatement(db, count, { keyed, grouped, traced, requested }, hasUnique)
      if (hasUnique) for (const id of statement.all(values, params) as string[]) inserted.add(id)
      else statement.run(values, params)
    }
  }
  return hasUnique ? inserted : undefined
}

/**
 * The INSERT of `count` rows, binding id and arguments (with `keyed`, hash, unique and fire key;
 * with `grouped`, group and debounce key; with `traced`, the trace context; with `requested`, the
 * request id) per row.
 */
function insertStatement(db: SqliteConnection, count: number, parts: { keyed: boolean; grouped: boolean; traced: boolean; requested: boolean }, returning: boolean): Database.Statement {
  const { keyed, grouped, traced, requested } = parts
  return db.cached(`insert:${count}:${keyed}:${grouped}:${traced}:${requested}:${returning}`, () => {
    const row = `(?, ?, ${keyed ? '?, ?, ?' : 'NULL, NULL, NULL'}, ${grouped ? '?, ?, ' : ''}${traced ? '?, ?, ' : ''}${requested ? '?, ' : ''}'pending', @task, @label, @queue, @priority, @tags, @category, @createdBy, @parentId,
        @poolId, @scheduleId, @maxAttempts, @backoff, @timeoutMs, @runAt, @notAfter, @createdAt, @createdAt, @createdAt)`
    const sql = `INSERT INTO runs (id, args, args_hash, unique_key, fire_key, ${grouped ? 'group_key, debounce_key, ' : ''}${traced ? 'traceparent, tracestate, ' : ''}${requested ? 'request_id, ' : ''}status, task, label, queue, priority, tags, category, created_by, parent_id, pool_id,
          schedule_id, max_attempts, backoff, timeout_ms, run_at, not_after, created_at, enqueued_at, updated_at)
        VALUES ${Array.from({ length: count }, () => row).join(', ')} ON CONFLICT DO NOTHING${returning ? ' RETURNING id' : ''}`
    const statement = db.db.prepare(sql)
    if (returning) statement.pluck()
    return statement
  })
}

/**
 * The outcomes of an insert (after its transaction), waking workers when runs were added (with
 * `unclaimed`, only when one of them is: the wake-up comes after the transaction, see notify).
 */
export function insertOutcomes(db: SqliteConnection, runs: readonly NewRun[], inserted: Set<string> | undefined, unclaimed?: (id: string) => boolean): InsertOutcome[] {
  if (inserted === undefined) {
    wakeFor(db, () => runs.map((r) => r.id), unclaimed)
    return runsFromNew(runs).map((run) => ({ run, created: true }))
  }
  const byKey = db.stmt(`SELECT * FROM runs WHERE unique_key = ? AND status IN ('pending', 'running', 'waiting')`)
  const byFireKey = db.stmt('SELECT * FROM runs WHERE fire_key = ?')
  const outcomes = runs.map((r) => {
    if (inserted.has(r.id)) return { run: runFromNew(r), created: true }
    const holder =
      ((r.requestId ?? null) === null ? undefined : db.stmt('SELECT * FROM runs WHERE request_id = ?').get(r.requestId)) ??
      ((r.fireKey ?? null) === null ? undefined : byFireKey.get(r.fireKey)) ??
      byKey.get(r.uniqueKey)
    if (holder === undefined) throw new ConflictError(`run ${r.id} was not inserted and no run holds its request id, fire key or unique key ${String(r.uniqueKey)}`)
    return { run: toRun(holder as RunRow), created: false }
  })
  if (inserted.size > 0) wakeFor(db, () => inserted, unclaimed)
  return outcomes
}

/** Wakes this process's workers for new runs (`ids`, read only when needed): always, or with `unclaimed` when one of them is. */
function wakeFor(db: SqliteConnection, ids: () => Iterable<string>, unclaimed: ((id: string) => boolean) | undefined): void {
  if (unclaimed === undefined) return db.notify()
  db.notifyIf(() => {
    for (const id of ids()) if (unclaimed(id)) return true
    return false
  })
}

/**
 * How many of `left` rows the next INSERT takes: a full chunk, else the largest power of two that
 * fits, so that a few statements (one per size, prepared once) serve every batch size.
 */
function chunkSize(left: number): number {
  if (left >= INSERT_CHUNK) return INSERT_CHUNK
  return 2 ** Math.floor(Math.log2(left))
}
