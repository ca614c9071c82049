/**
 * Admin pages and the runs API with 100,000 runs (or a size given: `npm run bench:admin -- 1000000`)
 * in one SQLite file, over a real socket.
 *
 * The store is filled the way a busy day leaves it: runs of several tasks, queues and labels, most
 * succeeded, every tenth failed with an error, a share cancelled, some pending (a few far in the
 * future) and log lines on many. The engine executes up to 100,000 of them; beyond that, the week
 * before is filled by SQL with finished runs of the same tasks (`fill-runs.ts`), inserted first
 * as a store that grew over the week has them. The finished runs are folded into per-minute rollups (timed),
 * and the week before them is filled with rollups of the same tasks and queues, one row per task
 * and minute: 7 days of history. Then each page is requested repeatedly and the time to the last
 * byte is reported (median and p95). Target: p95 under 200 ms for the overview (1 h, 24 h, 7 d),
 * the runs list, a filtered list, an args search and a run page. The admin's search reads a slice
 * of the newest runs (SEARCH_SCAN) and links on to the next: both slices are measured, and the
 * API's search of every run beside them.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Engine, defineTask } from '../src/index.js'
import { SEARCH_SCAN } from '../src/server/admin/pages/runs.js'
import { serve } from '../src/server/serve.js'
import { sqliteStore, type SqliteStore } from '../src/store/sqlite/store.js'
import { fillFinishedRuns } from './fill-runs.js'
import { median, percentile, type Row } from './table.js'
import { target } from './targets.js'

/** Runs in the store by default (BENCH_ADMIN_RUNS, or the size after the suite's name). */
export const ADMIN_RUNS = Number(process.env.BENCH_ADMIN_RUNS ?? 100_000)
/** Runs the engine executes; the rest is filled by SQL. */
const ENGINE_RUNS = 100_000
const REQUESTS = Number(process.env.BENCH_ADMIN_REQUESTS ?? 30)
const TASKS = ['sync-users', 'send-mail', 'resize-image', 'backup', 'report']

/**
 * Rollup rows of the week before `now`: each task, each minute, in its queue, and the hourly rows
 * that sum them (as folds keep them). Returns how many minute rows.
 */
function fillWeekOfRollups(store: SqliteStore, now: number): number {
  const columns = '(task, queue, succeeded, failed, cancelled, retries, duration_hist, duration_sum, duration_max, wait_hist, wait_sum, wait_max)'
  const minutes = store.database.prepare(`INSERT OR IGNORE INTO run_rollups (minute, ${columns.slice(1)} VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, 30, ?, ?, 4)`)
  const hours = store.database.prepare(`INSERT OR IGNORE INTO run_rollups_hourly (hour, ${columns.slice(1)} VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, 30, ?, ?, 4)`)
  let rows = 0
  store.database.transaction(() => {
    const first = Math.floor((now - 8 * 86_400_000) / 3_600_000) * 3_600_000
    // Whole hours only, ending before the hour of the runs the bench made.
    for (let hour = first; hour < Math.floor(now / 3_600_000) * 3_600_000 - 3_600_000; hour += 3_600_000) {
      for (const [t, task] of TASKS.entries()) {
        const sum = { n: 0, failed: 0 }
        for (let minute = hour; minute < hour + 3_600_000; minute += 60_000) {
          const n = 1 + ((minute / 60_000 + t) % 7)
          const failed = n % 5 === 0 ? 1 : 0
          rows += minutes.run(minute, task, t % 2 === 0 ? 'default' : 'mail', n - failed, failed, JSON.stringify({ 8: n - 1, 20: 1 }), n * 20, JSON.stringify({ 4: n }), n * 3).changes
          sum.n += n
          sum.failed += failed
        }
        hours.run(hour, task, t % 2 === 0 ? 'default' : 'mail', sum.n - sum.failed, sum.failed, JSON.stringify({ 8: sum.n - 60, 20: 60 }), sum.n * 20, JSON.stringify({ 4: sum.n }), sum.n * 3)
      }
    }
  })()
  return rows
}

/** The pages with a target (p95 ≤ 200 ms), by their row's name. */
const TARGETED = new Set(['overview, 1 h', 'overview, 24 h', 'overview, 7 d', 'runs, newest', 'runs, failed + task', 'runs, tag + queue', 'runs, label', 'runs, args search', 'runs, args search, next slice', 'run page (with logs)'])

export async function benchAdmin(size = ADMIN_RUNS): Promise<{ rows: Row[]; seedMs: number; foldMs: number; rollupRows: number; filled: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-admin-'))
  const tasks = TASKS.map((key) =>
    defineTask({
      key,
      fields: [{ key: 'i', type: 'int', required: true }],
      maxAttempts: 1,
      run(ctx) {
        if (ctx.args.i % 4 === 0) ctx.log(`processing item ${ctx.args.i}`)
        if (ctx.args.i % 10 === 0) throw new Error(`item ${ctx.args.i} could not be processed: upstream answered 503`)
        return { item: ctx.args.i }
      },
    }),
  )
  const store = sqliteStore(join(dir, 'admin.db'))
  const engine = new Engine({ tasks, store, onError: (e) => console.error(e) })
  const seedStart = performance.now()
  const engineRuns = Math.min(size, ENGINE_RUNS)
  const filled = size - engineRuns
  // The week before the engine's runs, inserted first (lower seq), ending an hour ago.
  if (filled > 0) fillFinishedRuns(store, { runs: filled, fromMs: Date.now() - 7 * 86_400_000, toMs: Date.now() - 3_600_000, tasks: TASKS, logEvery: 4 })
  const perTask = Math.floor((engineRuns * 0.95) / TASKS.length)
  for (const [t, task] of tasks.entries()) {
    const argsList = Array.from({ length: perTask }, (_, i) => ({ i }))
    await engine.enqueueMany(task, argsList, { queue: t % 2 === 0 ? 'default' : 'mail', label: `batch-${t}`, tags: [`team-${t % 3}`] })
  }
  await engine.start({ concurrency: 50 })
  while ((await engine.stats()).statuses.pending > 0) await new Promise((r) => setTimeout(r, 50))
  await engine.stop()
  // What is left waiting: due now on a queue nobody serves here, and scheduled for tomorrow.
  const rest = engineRuns - perTask * TASKS.length
  await engine.enqueueMany(tasks[0]!, Array.from({ length: Math.floor(rest / 2) }, (_, i) => ({ i })), { queue: 'reports' })
  await engine.enqueueMany(tasks[1]!, Array.from({ length: rest - Math.floor(rest / 2) }, (_, i) => ({ i })), { delayMs: 86_400_000 })
  const seedMs = performance.now() - seedStart
  // The finished runs folded at once (maintenance folds at most an hour per pass; this is all of them).
  const foldStart = performance.now()
  let folded = 0
  for (;;) {
    const fold = await store.foldRollups(Date.now() + 120_000, Date.now() - 7 * 86_400_000, 7 * 86_400_000)
    folded += fold.rows
    if (fold.to === fold.from) break
  }
  const foldMs = performance.now() - foldStart
  const rollupRows = folded + fillWeekOfRollups(store, Date.now())
  const stats = await engine.stats()
  const total = Object.values(stats.statuses).reduce((a, b) => a + b, 0)
  if (total !== size) throw new Error(`expected ${size} runs in the store, found ${total}`)

  const server = await serve(engine, { port: 0 })
  const some = (await engine.listRuns({ status: 'failed', pageSize: 1 })).data[0]!
  // A run with log lines, from the middle of the store.
  const logged = store.database.prepare('SELECT id FROM runs WHERE log_count > 0 AND seq > (SELECT max(seq) / 2 FROM runs) LIMIT 1').pluck().get() as string
  // A search reads a slice of the newest runs (SEARCH_SCAN); where the next slice starts.
  const argsSearch = '"i":1234}'
  const nextSlice = (await engine.listRuns({ search: argsSearch, scanLimit: SEARCH_SCAN, pageSize: 25, count: false })).scanBefore
  const pages: [string, string][] = [
    ['overview, 1 h', '/admin'],
    ['overview, 24 h', '/admin?range=24h'],
    ['overview, 7 d', '/admin?range=7d'],
    ['task page, 7 d', `/admin/task/${TASKS[0]}?range=7d`],
    ['runs, newest', '/admin/runs'],
    ['runs, failed', '/admin/runs?status=failed'],
    ['runs, failed + task', `/admin/runs?status=failed&task=${TASKS[3]}`],
    ['runs, task + page 200', `/admin/runs?task=${TASKS[2]}&page=200`],
    ['runs, search (no match)', '/admin/runs?search=upstream'],
    // Args search: `"i":1234` matches the runs of every task with that argument.
    ['runs, args search', `/admin/runs?search=${encodeURIComponent(argsSearch)}`],
    ...(nextSlice === undefined ? [] : [['runs, args search, next slice', `/admin/runs?search=${encodeURIComponent(argsSearch)}&before=${nextSlice}`] as [string, string]]),
    ['API runs, args search (every run)', `/api/runs?search=${encodeURIComponent(argsSearch)}`],
    ['runs, tag + queue', '/admin/runs?tag=team-1&queue=mail'],
    ['runs, label', '/admin/runs?label=batch-4'],
    ['run page', `/admin/runs/${some.id}`],
    ['run page (with logs)', `/admin/runs/${logged}`],
    ['task page', `/admin/task/${TASKS[0]}`],
    ['workers', '/admin/workers'],
    ['schedules', '/admin/schedules'],
    ['retention history', '/admin/schedules/taskengine.retention'],
    ['settings', '/admin/settings'],
    ['export: every run (CSV)', '/admin/runs/export?format=csv'],
    ['API runs (JSON)', '/api/runs?pageSize=100'],
    ['API runs (CSV)', '/api/runs?pageSize=100&format=csv'],
  ]
  const rows: Row[] = []
  for (const [name, path] of pages) {
    const url = `${server.url}${path}`
    const samples: number[] = []
    for (let i = 0; i < REQUESTS + 3; i++) {
      const t0 = performance.now()
      const response = await fetch(url)
      const body = await response.text()
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${body.slice(0, 200)}`)
      if (i >= 3) samples.push(performance.now() - t0)
    }
    samples.sort((a, b) => a - b)
    const p50 = median(samples)
    const p95 = percentile(samples, 95)
    rows.push({ page: name, path, 'p50 ms': p50, 'p95 ms': p95, 'max ms': samples.at(-1)!, '< 200 ms': p95 < 200 ? 'yes' : 'NO' })
    if (TARGETED.has(name)) target(`Admin ${name} at ${size.toLocaleString('en-US')} runs, p95`, p95, '≤', 200, 'ms')
  }
  await server.close()
  await engine.close()
  rmSync(dir, { recursive: true, force: true })
  return { rows, seedMs, foldMs, rollupRows, filled }
}
