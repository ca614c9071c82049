/**
 * Fills a store with finished runs for the scale curve (`scale.ts`), the way weeks of work leave
 * it: four tasks on three queues (one of them the bench's own `noop` on `default`), 86 % succeeded,
 * 10 % failed after three attempts, 4 % cancelled while running, created evenly over the six days
 * before the seed and finished a little later, each with 2 or 3 log lines. Ids are UUIDv7 of the
 * creation time (the format of `src/engine/ids.ts`, 12-bit counter and random bits included) and
 * `seq` rises with them, as the engine leaves them.
 *
 * The store is opened through the engine first (migrations run), then filled with SQL straight
 * into its tables, chunk by chunk, inside the database: a row at a time through the driver would
 * take many minutes at ten million. The rollup watermark is then moved past the seeded runs, as
 * a live store's maintenance would have left it: unfolded, the measured worker's maintenance
 * would fold an hour of them per pass while the bench times it. Their rollup rows are not built
 * (the store's fold does 50,000–100,000 runs/s here: minutes at ten million); nothing on the path of a
 * claim or a completion reads rollups. PostgreSQL is then vacuumed and analyzed, as autovacuum
 * would have done; SQLite gets no ANALYZE, as the engine never runs one.
 */
import pg from 'pg'
import type { SqliteStore } from '../src/store/sqlite/store.js'

/** Six days, ending an hour before the seed: the runs are history, not the current minute. */
const SPAN_MS = 6 * 86_400_000
const END_GAP_MS = 3_600_000
/** Rows per INSERT (one transaction each). */
const CHUNK = 250_000

/** When the seeded runs start, and the milliseconds between two of them (at least 1, so ids never share a millisecond). */
function timeline(size: number): { start: number; step: number } {
  const end = Date.now() - END_GAP_MS
  const step = Math.max(1, Math.floor(SPAN_MS / Math.max(size, 1)))
  return { start: end - step * size, step }
}

// Per run i: k = i % 4 picks task and queue; status by i; created at start + i * step, waited
// 5–44 ms, ran 3–99 ms (failed runs three times), finished right after.
const TASK = "CASE k WHEN 0 THEN 'noop' WHEN 1 THEN 'send-mail' WHEN 2 THEN 'resize-image' ELSE 'report' END"
const QUEUE = "CASE k WHEN 1 THEN 'mail' WHEN 2 THEN 'media' ELSE 'default' END"
const STATUS = "CASE WHEN i % 10 = 3 THEN 'failed' WHEN i % 25 = 7 THEN 'cancelled' ELSE 'succeeded' END"

const FAILURE = '{"message":"upstream answered 503 Service Unavailable","name":"Error","stack":"Error: upstream answered 503 Service Unavailable\\n    at run (tasks/sync.js:42:11)"}'
const CANCELLED = '{"message":"cancelled: superseded by a newer request","code":"ERR_CANCELLED","name":"CancelledError"}'

/** The SQLite INSERT of runs [@from, @to), with their log lines in a second statement. */
const SQLITE_RUNS = `INSERT INTO runs (seq, id, task, label, queue, status, args, tags, attempt, max_attempts, attempts, run_at, created_at, enqueued_at,
    started_at, finished_at, updated_at, worker_id, data, error, cancel_requested_at, cancel_reason, cancelled_by, log_count)
  WITH RECURSIVE n(i) AS (SELECT CAST(@from AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @to),
  r AS (SELECT i, i % 4 AS k, CAST(@start AS INTEGER) + i * CAST(@step AS INTEGER) AS t, ${STATUS} AS status, 5 + i % 40 AS wait, 3 + i % 97 AS ran FROM n)
  SELECT i + 1, printf('%08x-%04x-7%03x-%04x-%012x', t / 65536, t % 65536, i % 4096, 32768 + abs(random()) % 16384, abs(random()) % 281474976710656),
    ${TASK}, ${TASK}, ${QUEUE}, status,
    printf('{"userId":%d,"email":"user%d@example.com","attempt":"%s","items":[%d,%d,%d]}', i % 50000, i % 50000, hex(randomblob(6)), i % 7, i % 11, i % 13),
    CASE WHEN i % 5 = 0 THEN '["nightly","team-' || (i % 3) || '"]' ELSE '[]' END,
    CASE status WHEN 'failed' THEN 3 ELSE 1 END, 3,
    CASE status WHEN 'failed' THEN printf('[{"number":1,"workerId":"w-%d","startedAt":%d,"finishedAt":%d,"outcome":"failed","error":${FAILURE}},' ||
      '{"number":2,"workerId":"w-%d","startedAt":%d,"finishedAt":%d,"outcome":"failed","error":${FAILURE}}]', k, t + wait, t + wait + ran, k, t + wait + ran + 20, t + wait + 2 * ran + 20) ELSE '[]' END,
    t, t, t, t + wait + (CASE status WHEN 'failed' THEN 2 * (ran + 20) ELSE 0 END), t + wait + (CASE status WHEN 'failed' THEN 3 * ran + 40 ELSE ran END),
    t + wait + (CASE status WHEN 'failed' THEN 3 * ran + 40 ELSE ran END), 'w-' || k,
    CASE status WHEN 'succeeded' THEN printf('{"sent":%d,"ok":true}', i % 100) END,
    CASE status WHEN 'failed' THEN '${FAILURE}' WHEN 'cancelled' THEN '${CANCELLED}' END,
    CASE status WHEN 'cancelled' THEN t + wait + 1 END, CASE status WHEN 'cancelled' THEN 'superseded by a newer request' END,
    CASE status WHEN 'cancelled' THEN 'api:ops' END,
    2 + i % 2
  FROM r`
const SQLITE_LOGS = `INSERT INTO logs (run_id, seq, time, level, message)
  SELECT r.id, l.n, r.started_at + l.n, CASE WHEN l.n = 3 AND r.status = 'failed' THEN 'error' ELSE 'info' END,
    CASE l.n WHEN 1 THEN 'starting ' || r.task || ' for user ' || (r.args ->> '$.userId') WHEN 2 THEN 'fetched ' || (r.seq % 500) || ' records in ' || (r.seq % 90) || ' ms'
      ELSE 'upstream answered 503 after ' || (r.seq % 300) || ' ms; giving up on this attempt' END
  FROM runs r CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) l
  WHERE r.seq > @from AND r.seq <= @to AND l.n <= r.log_count`

/** Fills a freshly migrated SQLite store with `size` finished runs and their logs, marked folded. */
export function seedSqlite(store: SqliteStore, size: number): void {
  const db = store.database
  const { start, step } = timeline(size)
  const runs = db.prepare(SQLITE_RUNS)
  const logs = db.prepare(SQLITE_LOGS)
  const chunk = db.transaction((from: number, to: number) => {
    runs.run({ from, to, start, step })
    logs.run({ from, to })
  })
  for (let from = 0; from < size; from += CHUNK) chunk(from, Math.min(size, from + CHUNK))
  db.prepare('UPDATE rollup_state SET folded_until = ? WHERE id = 1').run(foldedUntil())
}

/** PostgreSQL: the same rows, from generate_series, runs and their logs in one statement per chunk. */
const PG_RUNS = `WITH n AS (SELECT i, i % 4 AS k, $3::bigint + i * $4::bigint AS t, ${STATUS} AS status, 5 + i % 40 AS wait, 3 + i % 97 AS ran
    FROM generate_series($1::bigint, $2::bigint - 1) AS i),
  r AS (SELECT n.*, lpad(to_hex(t >> 16), 8, '0') || '-' || lpad(to_hex(t & 65535), 4, '0') || '-7' || lpad(to_hex(i % 4096), 3, '0') || '-' ||
      to_hex(32768 + floor(random() * 16384)::int) || '-' || lpad(to_hex(floor(random() * 281474976710656)::bigint), 12, '0') AS id,
      t + wait + (CASE status WHEN 'failed' THEN 2 * (ran + 20) ELSE 0 END) AS started_at,
      t + wait + (CASE status WHEN 'failed' THEN 3 * ran + 40 ELSE ran END) AS finished_at FROM n),
  ins AS (INSERT INTO runs (id, task, label, queue, status, args, tags, attempt, max_attempts, attempts, run_at, created_at, enqueued_at,
      started_at, finished_at, updated_at, worker_id, data, error, cancel_requested_at, cancel_reason, cancelled_by, log_count)
    SELECT id, ${TASK}, ${TASK}, ${QUEUE}, status,
      format('{"userId":%s,"email":"user%s@example.com","attempt":"%s","items":[%s,%s,%s]}', i % 50000, i % 50000, md5(random()::text), i % 7, i % 11, i % 13)::json,
      (CASE WHEN i % 5 = 0 THEN '["nightly","team-' || (i % 3) || '"]' ELSE '[]' END)::json,
      CASE status WHEN 'failed' THEN 3 ELSE 1 END, 3,
      (CASE status WHEN 'failed' THEN format('[{"number":1,"workerId":"w-%s","startedAt":%s,"finishedAt":%s,"outcome":"failed","error":${FAILURE}},' ||
        '{"number":2,"workerId":"w-%s","startedAt":%s,"finishedAt":%s,"outcome":"failed","error":${FAILURE}}]', k, t + wait, t + wait + ran, k, t + wait + ran + 20, t + wait + 2 * ran + 20) ELSE '[]' END)::json,
      t, t, t, started_at, finished_at, finished_at, 'w-' || k,
      (CASE status WHEN 'succeeded' THEN format('{"sent":%s,"ok":true}', i % 100) END)::json,
      (CASE status WHEN 'failed' THEN '${FAILURE}' WHEN 'cancelled' THEN '${CANCELLED}' END)::json,
      CASE status WHEN 'cancelled' THEN t + wait + 1 END, CASE status WHEN 'cancelled' THEN 'superseded by a newer request' END,
      CASE status WHEN 'cancelled' THEN 'api:ops' END,
      2 + i % 2
    FROM r ORDER BY id
    RETURNING id, task, status, args, started_at, log_count)
  INSERT INTO logs (run_id, seq, time, level, message)
  SELECT ins.id, l.n, ins.started_at + l.n, CASE WHEN l.n = 3 AND ins.status = 'failed' THEN 'error' ELSE 'info' END,
    CASE l.n WHEN 1 THEN 'starting ' || ins.task || ' for user ' || (ins.args ->> 'userId') WHEN 2 THEN 'fetched ' || (ins.started_at % 500) || ' records'
      ELSE 'upstream answered 503; giving up on this attempt' END
  FROM ins JOIN generate_series(1, 3) AS l(n) ON l.n <= ins.log_count ORDER BY ins.id, l.n`

/** Fills the freshly migrated PostgreSQL `schema` with `size` finished runs and their logs, marked folded, then vacuums and analyzes. */
export async function seedPostgres(url: string, schema: string, size: number): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`SET search_path TO "${schema}"`)
    const { start, step } = timeline(size)
    for (let from = 0; from < size; from += CHUNK) await client.query(PG_RUNS, [from, Math.min(size, from + CHUNK), start, step])
    await client.query('UPDATE rollup_state SET folded_until = $1 WHERE id = 1', [foldedUntil()])
    await client.query('VACUUM (ANALYZE) runs, logs, run_rollups, run_rollups_hourly')
  } finally {
    await client.end()
  }
}

/** The rollup watermark past every seeded run: the minute after the last one finished. */
function foldedUntil(): number {
  return Math.ceil((Date.now() - END_GAP_MS + 60_000) / 60_000) * 60_000
}
