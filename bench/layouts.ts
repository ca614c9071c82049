/**
 * What the runs table costs, and what other layouts would (part of `npm run bench -- breakdown`):
 * the same work, enqueue N runs in transactions of 1,000, then claim and complete them (claims of
 * BATCH riding on the transaction that completes the previous ones), in SQL through better-sqlite3
 * alone, with the store's pragmas, on four layouts:
 *
 * - **runs table**: the store's schema (every migration) and its claim and completion statements;
 * - **runs table, claim index only**: the same with every secondary index but `runs_pending`
 *   dropped, so the rest is the row itself (47 columns read and rewritten per update);
 * - **hot table + history row**: a prototype of the usual answer, a narrow table of what claims
 *   need beside the full row: a run is inserted into both, claims touch only the narrow row, and a
 *   completion deletes it and writes the history row once (the status of a claimed run would be
 *   read from the hot table);
 * - **minimal queue table**: four columns and one partial index, what SQLite does with nothing else kept.
 *
 * Figures are CPU µs per run (this process: better-sqlite3 runs on the calling thread), best of
 * BENCH_REPEATS rounds taken in alternation.
 */
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { newId } from '../src/engine/ids.js'
import { PACKED_CLAIM_COLUMNS } from '../src/store/sql/claim-rows.js'
import { migrate } from '../src/store/sqlite/migrations/index.js'
import { printTable, settle } from './table.js'

type Row = unknown[]
interface Layout {
  enqueue(now: number): void
  claim(now: number, token: string): Row[]
  complete(row: Row, token: string, now: number): void
}

const CLAIM_SET = `status = 'running', attempt = attempt + 1, started_at = CASE WHEN attempt + 1 - attempt_base < max_attempts THEN @now END,
  updated_at = @now, worker_id = 'bench', lease_token = @token, lease_expires_at = @now + 30000`
const INSERT_RUN = `INSERT INTO runs (id, task, label, queue, priority, status, args, max_attempts, run_at, created_at, enqueued_at, updated_at)
  VALUES (?, 'noop', 'noop', 'default', 0, 'pending', '{}', 3, @now, @now, @now, @now)`
const FINISH = `UPDATE runs SET status = 'succeeded', started_at = @now, finished_at = @now, updated_at = @now, data = 'null', error = NULL, progress = NULL,
  tags = '[]', lease_token = NULL, lease_expires_at = NULL WHERE id = @id AND lease_token = @token`

function runsTable(db: Database.Database, claimIndexOnly: boolean): Layout {
  migrate(db)
  if (claimIndexOnly) {
    const secondary = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL AND name <> 'runs_pending'").pluck().all() as string[]
    for (const name of secondary) db.exec(`DROP INDEX ${name}`)
  }
  const insert = db.prepare(INSERT_RUN.replaceAll('@now', '?'))
  const claim = db
    .prepare(
      `UPDATE runs SET ${CLAIM_SET} WHERE seq IN (SELECT seq FROM runs INDEXED BY runs_pending WHERE status = 'pending' AND run_at <= @now
        AND (not_after IS NULL OR not_after > @now) AND task IN (SELECT value FROM json_each('["noop"]')) ORDER BY priority DESC, run_at, seq LIMIT ${BATCH})
      RETURNING ${PACKED_CLAIM_COLUMNS}`,
    )
    .raw(true)
  const finish = db.prepare(FINISH)
  return {
    enqueue: (now) => insert.run(newId(), now, now, now, now),
    claim: (now, token) => claim.all({ now, token }) as Row[],
    complete: (row, token, now) => finish.run({ id: row[0], token, now }),
  }
}

function hotTable(db: Database.Database): Layout {
  migrate(db)
  db.exec(`CREATE TABLE hot (seq INTEGER PRIMARY KEY, priority INTEGER NOT NULL, run_at INTEGER NOT NULL, task TEXT NOT NULL, queue TEXT NOT NULL,
      token TEXT, lease_expires_at INTEGER);
    CREATE INDEX hot_pending ON hot (priority DESC, run_at, seq) WHERE token IS NULL;
    CREATE INDEX hot_leased ON hot (lease_expires_at) WHERE token IS NOT NULL`)
  const insert = db.prepare(INSERT_RUN.replaceAll('@now', '?'))
  const insertHot = db.prepare("INSERT INTO hot (seq, priority, run_at, task, queue) VALUES (?, 0, ?, 'noop', 'default')")
  const claim = db
    .prepare(
      `UPDATE hot SET token = @token, lease_expires_at = @now + 30000 WHERE seq IN (SELECT seq FROM hot INDEXED BY hot_pending WHERE token IS NULL
        AND run_at <= @now AND task IN (SELECT value FROM json_each('["noop"]')) ORDER BY priority DESC, run_at, seq LIMIT ${BATCH}) RETURNING seq`,
    )
    .pluck()
  const payload = db.prepare(`SELECT seq, ${PACKED_CLAIM_COLUMNS} FROM runs WHERE seq IN (SELECT value FROM json_each(?))`).raw(true)
  const release = db.prepare('DELETE FROM hot WHERE seq = ? AND token = ?')
  const finish = db.prepare(`UPDATE runs SET status = 'succeeded', attempt = attempt + 1, started_at = @now, finished_at = @now, updated_at = @now,
    data = 'null', error = NULL, progress = NULL, tags = '[]', worker_id = 'bench' WHERE seq = @seq`)
  return {
    enqueue: (now) => insertHot.run(insert.run(newId(), now, now, now, now).lastInsertRowid, now),
    claim: (now, token) => {
      const seqs = claim.all({ now, token })
      return seqs.length === 0 ? [] : (payload.all(JSON.stringify(seqs)) as Row[])
    },
    complete: (row, token, now) => {
      if (release.run(row[0], token).changes === 1) finish.run({ seq: row[0], now })
    },
  }
}

function minimalTable(db: Database.Database): Layout {
  db.exec(`CREATE TABLE q (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, token TEXT, args TEXT NOT NULL);
    CREATE INDEX q_pending ON q (seq) WHERE status = 'pending'`)
  const insert = db.prepare("INSERT INTO q (status, args) VALUES ('pending', '{}')")
  const claim = db.prepare(`UPDATE q SET status = 'running', token = ? WHERE seq IN (SELECT seq FROM q INDEXED BY q_pending WHERE status = 'pending' ORDER BY seq LIMIT ${BATCH}) RETURNING seq, args`).raw(true)
  const complete = db.prepare("UPDATE q SET status = 'succeeded', token = NULL WHERE seq = ? AND token = ?")
  return {
    enqueue: () => insert.run(),
    claim: (_now, token) => claim.all(token) as Row[],
    complete: (row, token) => complete.run(row[0], token),
  }
}

const BATCH = 200
const LAYOUTS = {
  'runs table (the store’s schema and statements)': (db: Database.Database) => runsTable(db, false),
  'runs table, claim index only (no secondary indexes)': (db: Database.Database) => runsTable(db, true),
  'hot table + history row (prototype)': hotTable,
  'minimal queue table (4 columns, 1 index)': minimalTable,
} satisfies Record<string, (db: Database.Database) => Layout>

function cpuPerRun(n: number, fn: () => void): number {
  settle()
  const before = process.cpuUsage()
  fn()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n
}

/** One round of a layout on a new file: [enqueue, claim + complete] CPU µs per run. */
function round(path: string, n: number, open: (db: Database.Database) => Layout): [number, number] {
  const db = new Database(path)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    const layout = open(db)
    const now = Date.now()
    const enqueue = cpuPerRun(n, () => {
      const some = db.transaction((count: number) => {
        for (let i = 0; i < count; i++) layout.enqueue(now)
      })
      for (let at = 0; at < n; at += 1000) some(Math.min(1000, n - at))
    })
    let done = 0
    const processing = cpuPerRun(n, () => {
      const step = db.transaction((held: Row[], previous: string, token: string) => {
        const at = Date.now()
        for (const row of held) layout.complete(row, previous, at)
        return layout.claim(at, token)
      })
      let held: Row[] = []
      for (let token = 'claim-0', k = 1; ; k++) {
        const next = `claim-${k}`
        done += held.length
        held = step(held, token, next)
        token = next
        if (held.length === 0) break
      }
    })
    if (done !== n) throw new Error(`layouts: ${done} of ${n} runs went through`)
    return [enqueue, processing]
  } finally {
    db.close()
  }
}

/** Prints the layouts table; files go in `dir`. */
export function benchLayouts(dir: string, n: number, repeats: number): void {
  const best = new Map<string, [number, number]>()
  let fileNo = 0
  for (let r = 0; r < repeats; r++) {
    for (const [name, open] of Object.entries(LAYOUTS)) {
      const [enqueue, processing] = round(join(dir, `layout-${++fileNo}.db`), n, open)
      const [e, p] = best.get(name) ?? [Infinity, Infinity]
      best.set(name, [Math.min(e, enqueue), Math.min(p, processing)])
    }
  }
  const runsTableCost = [...best.values()][0]![1]
  printTable(
    `The same work in SQL on four layouts (better-sqlite3 alone, no engine, no store code): ${n.toLocaleString('en-US')} runs enqueued in transactions of 1,000, ` +
      `then claimed ${BATCH} at a time riding on the transaction that completes the previous claim; CPU µs per run, best of ${repeats}`,
    [...best].map(([layout, [enqueue, processing]]) => ({
      layout,
      'enqueue µs': enqueue,
      'claim + complete µs': processing,
      'claim + complete ÷ runs table': `${((processing / runsTableCost) * 100).toFixed(0)} %`,
      'runs/s at that cost': Math.round(1e6 / processing),
    })),
  )
}
