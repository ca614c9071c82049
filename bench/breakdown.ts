/**
 * Where a durable run's time goes on SQLite (`npm run bench -- breakdown`, also part of the
 * default suites): the same N queued no-op runs processed three ways on the same kind of file.
 *
 * - **engine**: `engine.start({ concurrency })` until every run is stored succeeded (as the
 *   sqlite suite measures it);
 * - **store alone**: the store's own calls with no engine around them, as the worker makes
 *   them: a claim of `BATCH` runs riding on the write batch that completes the previous ones
 *   (one transaction each), no handler, no events, no bookkeeping: the engine's floor on this schema;
 * - **claims only / completions only**: the store-alone loop split into its two statements;
 * - **a minimal queue table**: the same claim and completion statements (same batches, same
 *   pragmas) on a table of four columns with one partial index, what better-sqlite3 does with
 *   nothing else kept: the gap to it is what the runs table holds for everything else (the
 *   lease index the rescue reads, the finished index retention and lists read, the columns).
 *
 * Figures are CPU time per run (user + system of this process: better-sqlite3 runs on the
 * calling thread, so SQLite's work is in it), best of BENCH_REPEATS rounds, taken in
 * alternation so machine noise hits them alike. engine − store alone = the engine's own cost.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Engine, defineTask } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import type { ClaimRequest, ClaimedRun, Completion } from '../src/store/types.js'
import { benchLayouts } from './layouts.js'
import { printTable, settle } from './table.js'

const N = Number(process.env.BENCH_BREAKDOWN_RUNS ?? 100_000)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3)
const CONCURRENCY = 100
const BATCH = 200

const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-breakdown-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
let fileNo = 0
let executed = 0
const noop = defineTask({
  key: 'noop',
  run: () => {
    executed++
  },
})

/** A file with N queued runs of `noop`, enqueued by the engine itself. */
async function seeded(): Promise<string> {
  const path = join(dir, `breakdown-${++fileNo}.db`)
  const engine = new Engine({ tasks: [noop], store: sqliteStore(path) })
  await engine.enqueueMany(noop, Array.from({ length: N }, () => ({})))
  await engine.close()
  return path
}

/** CPU µs spent in `fn`, per run. */
async function cpuPerRun(fn: () => Promise<void>): Promise<number> {
  settle()
  const before = process.cpuUsage()
  await fn()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / N
}

async function engineRound(): Promise<number> {
  const path = await seeded()
  const engine = new Engine({ tasks: [noop], store: sqliteStore(path) })
  executed = 0
  const us = await cpuPerRun(async () => {
    await engine.start({ concurrency: CONCURRENCY })
    while (executed < N) await new Promise((r) => setTimeout(r, 1))
    await engine.stop()
  })
  await engine.close()
  return us
}

function claimRequest(now: number): ClaimRequest {
  return { workerId: 'bench', limit: BATCH, now, leaseUntil: now + 30_000, tasks: ['noop'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() }
}

function completionOf(run: ClaimedRun, now: number): Completion {
  const at = new Date(now)
  return {
    id: run.id,
    token: run.token,
    status: 'succeeded',
    finishedAt: now,
    data: 'null',
    error: null,
    progress: null,
    tags: run.tags,
    attempt: { number: run.attempt, workerId: 'bench', startedAt: at, finishedAt: at, outcome: 'succeeded', error: null },
  }
}

const emptyBatch = { logs: [], progress: [], waits: [] }

/** The store alone; `mode` picks both statements (claims riding on completions), or one of them. */
async function storeRound(mode: 'both' | 'claims' | 'completions'): Promise<number> {
  const store = sqliteStore(await seeded())
  let claimed: ClaimedRun[] = []
  if (mode === 'completions') {
    // Claimed beforehand (not timed): only the completions are.
    claimed = await store.claimRuns({ ...claimRequest(Date.now()), limit: N })
  }
  let done = 0
  const us = await cpuPerRun(async () => {
    if (mode === 'completions') {
      for (let at = 0; at < claimed.length; at += BATCH) await store.writeBatch({ ...emptyBatch, completions: claimed.slice(at, at + BATCH).map((r) => completionOf(r, Date.now())) })
      done = claimed.length
      return
    }
    let held: ClaimedRun[] = []
    for (;;) {
      const now = Date.now()
      const completions = mode === 'both' ? held.map((r) => completionOf(r, now)) : []
      const outcome = await store.writeBatch({ ...emptyBatch, completions, claim: claimRequest(now) })
      done += completions.length
      held = [...(outcome.claimed ?? [])]
      if (held.length === 0) break
      if (mode === 'claims') done += held.length
    }
  })
  await store.close()
  if (done !== N) throw new Error(`store ${mode}: ${done} of ${N} runs went through`)
  return us
}

/** Claims and completions on a minimal queue table, with the store's pragmas (WAL, synchronous=NORMAL). */
async function minimalRound(): Promise<number> {
  const db = new Database(join(dir, `minimal-${++fileNo}.db`))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`CREATE TABLE q (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, token TEXT, args TEXT NOT NULL);
    CREATE INDEX q_pending ON q (seq) WHERE status = 'pending'`)
  const insert = db.prepare("INSERT INTO q (status, args) VALUES ('pending', '{}')")
  db.transaction(() => {
    for (let i = 0; i < N; i++) insert.run()
  })()
  const claim = db
    .prepare(`UPDATE q SET status = 'running', token = ? WHERE seq IN (SELECT seq FROM q INDEXED BY q_pending WHERE status = 'pending' ORDER BY seq LIMIT ${BATCH}) RETURNING seq, args`)
    .raw(true)
  const complete = db.prepare("UPDATE q SET status = 'succeeded', token = NULL WHERE seq = ? AND token = ?")
  let done = 0
  const us = await cpuPerRun(async () => {
    let held: unknown[][] = []
    let token = ''
    for (;;) {
      const previous = token
      token = `t${done}`
      held = db.transaction((rows: unknown[][]) => {
        for (const [seq] of rows) complete.run(seq, previous)
        return claim.all(token) as unknown[][]
      })(held)
      done += held.length
      if (held.length === 0) break
    }
  })
  db.close()
  if (done !== N) throw new Error(`minimal table: ${done} of ${N} runs went through`)
  return us
}

export async function benchBreakdown(): Promise<void> {
  const best: Record<string, number> = { engine: Infinity, both: Infinity, claims: Infinity, completions: Infinity, minimal: Infinity }
  for (let r = 0; r < REPEATS; r++) {
    best.engine = Math.min(best.engine!, await engineRound())
    for (const mode of ['both', 'claims', 'completions'] as const) best[mode] = Math.min(best[mode]!, await storeRound(mode))
    best.minimal = Math.min(best.minimal!, await minimalRound())
  }
  const engine = best.engine!
  const row = (part: string, us: number) => ({ part, 'CPU µs per run': us, 'share of engine': `${((us / engine) * 100).toFixed(0)} %`, 'runs/s at this cost': Math.round(1e6 / us) })
  printTable(
    `Where a durable run's time goes on SQLite: ${N.toLocaleString('en-US')} queued no-op runs, CPU time per run (best of ${REPEATS}); ` +
      `store alone = the worker's own store calls (claims of ${BATCH} riding on the batch that completes the previous ones) without the engine`,
    [
      row(`engine (worker at concurrency ${CONCURRENCY})`, engine),
      row('store alone: claim + complete', best.both!),
      row('  claims only (UPDATE … RETURNING)', best.claims!),
      row('  completions only (UPDATE per run)', best.completions!),
      row('engine − store alone (handler, bookkeeping, events)', engine - best.both!),
      row('a minimal queue table: claim + complete (better-sqlite3 alone)', best.minimal!),
    ],
  )
  benchLayouts(dir, N, REPEATS)
}
