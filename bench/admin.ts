/**
 * Admin pages and the runs API with 100,000 runs in one SQLite file, over a real socket.
 *
 * The store is filled the way a busy day leaves it: runs of several tasks, queues and labels, most
 * succeeded, every tenth failed with an error, a share cancelled, some pending (a few far in the
 * future) and log lines on many. The finished runs are folded into per-minute rollups (timed),
 * and the week before them is filled with rollups of the same tasks and queues, one row per task
 * and minute: 7 days of history. Then each page is requested repeatedly and the time to the last
 * byte is reported (median and p95). Target: list and overview pages under 200 ms, the overview
 * at 1 h, 24 h and 7 d included.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Engine, defineTask } from '../src/index.js'
import { serve } from '../src/server/serve.js'
import { sqliteStore, type SqliteStore } from '../src/store/sqlite/store.js'
import { median, percentile, type Row } from './table.js'

export const ADMIN_RUNS = Number(process.env.BENCH_ADMIN_RUNS ?? 100_000)
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

export async function benchAdmin(): Promise<{ rows: Row[]; seedMs: number; foldMs: number; rollupRows: number }> {
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
  const perTask = Math.floor((ADMIN_RUNS * 0.95) / TASKS.length)
  for (const [t, task] of tasks.entries()) {
    const argsList = Array.from({ length: perTask }, (_, i) => ({ i }))
    await engine.enqueueMany(task, argsList, { queue: t % 2 === 0 ? 'default' : 'mail', label: `batch-${t}`, tags: [`team-${t % 3}`] })
  }
  await engine.start({ concurrency: 50 })
  while ((await engine.stats()).statuses.pending > 0) await new Promise((r) => setTimeout(r, 50))
  await engine.stop()
  // What is left waiting: due now on a queue nobody serves here, and scheduled for tomorrow.
  const rest = ADMIN_RUNS - perTask * TASKS.length
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
  if (total !== ADMIN_RUNS) throw new Error(`expected ${ADMIN_RUNS} runs in the store, found ${total}`)

  const server = await serve(engine, { port: 0 })
  const some = (await engine.listRuns({ status: 'failed', pageSize: 1 })).data[0]!
  const pages: [string, string][] = [
    ['overview, 1 h', '/admin'],
    ['overview, 24 h', '/admin?range=24h'],
    ['overview, 7 d', '/admin?range=7d'],
    ['task page, 7 d', `/admin/task/${TASKS[0]}?range=7d`],
    ['runs, newest', '/admin/runs'],
    ['runs, failed', '/admin/runs?status=failed'],
    ['runs, task + page 200', `/admin/runs?task=${TASKS[2]}&page=200`],
    ['runs, search', '/admin/runs?search=upstream'],
    ['runs, tag + queue', '/admin/runs?tag=team-1&queue=mail'],
    ['run page', `/admin/runs/${some.id}`],
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
    rows.push({ page: name, path, 'p50 ms': p50, 'p95 ms': percentile(samples, 95), 'max ms': samples.at(-1)!, '< 200 ms': percentile(samples, 95) < 200 ? 'yes' : 'NO' })
  }
  await server.close()
  await engine.close()
  rmSync(dir, { recursive: true, force: true })
  return { rows, seedMs, foldMs, rollupRows }
}
