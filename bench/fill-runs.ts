/**
 * Fills a SQLite store with finished runs by SQL, for the suites that need a store of a million
 * runs (admin pages, retention): going through the engine would take minutes per million, and
 * what these suites measure is reading and deleting such rows, not making them.
 *
 * The rows are what the engine leaves behind (compared column by column with runs it executed):
 * UUIDv7 ids of their creation time, `{"i":n}` arguments, a label, a queue and a tag per task, one
 * attempt each; most succeeded with `{"item":n}`, every tenth failed with the handler's error, a
 * few cancelled; a share with log lines (and a matching `log_count`). Creation times are spread
 * evenly over `fromMs`..`toMs`, in insertion (`seq`) order as a real store has them.
 */
import { randomBytes } from 'node:crypto'
import type { SqliteStore } from '../src/store/sqlite/store.js'

/** What to fill. */
export interface FillOptions {
  readonly runs: number
  /** Creation time of the first run and (exclusive) of the last. */
  readonly fromMs: number
  readonly toMs: number
  /** Task keys, taken in turn; the task's index picks its queue, label and tag as the admin bench enqueues them. */
  readonly tasks: readonly string[]
  /** Every how many runs has a log line (1: every run). */
  readonly logEvery: number
}

/** Rows per transaction: the fill's memory stays flat and each commit is short. */
const CHUNK = 20_000

/** A UUIDv7 string for `ms` (random tail from 9 bytes of `random` at `at`, as `newId` makes them). */
function idAt(ms: number, random: Buffer, at: number): string {
  const time = ms.toString(16).padStart(12, '0')
  const tail = random.toString('hex', at, at + 9)
  const variant = ((parseInt(tail[3]!, 16) & 0x3) | 0x8).toString(16)
  return `${time.slice(0, 8)}-${time.slice(8)}-7${tail.slice(0, 3)}-${variant}${tail.slice(4, 7)}-${tail.slice(7, 19)}`
}

/** Inserts `options.runs` finished runs (and their log lines); returns how many log lines. */
export function fillFinishedRuns(store: SqliteStore, options: FillOptions): number {
  const db = store.database
  const insertRun = db.prepare(`INSERT INTO runs (id, task, label, queue, status, args, tags, attempt, max_attempts, run_at, created_at, enqueued_at,
      started_at, finished_at, updated_at, worker_id, data, error, cancel_reason, log_count)
    VALUES (@id, @task, @label, @queue, @status, @args, @tags, @attempt, 1, @createdAt, @createdAt, @createdAt, @startedAt, @finishedAt, @finishedAt, @worker, @data, @error, @cancelReason, @logCount)`)
  const insertLog = db.prepare(`INSERT INTO logs (run_id, seq, time, level, message) VALUES (?, 1, ?, 'info', ?)`)
  const step = (options.toMs - options.fromMs) / options.runs
  let logLines = 0
  for (let from = 0; from < options.runs; from += CHUNK) {
    const to = Math.min(options.runs, from + CHUNK)
    const random = randomBytes((to - from) * 9)
    db.transaction(() => {
      for (let n = from; n < to; n++) {
        const t = n % options.tasks.length
        const createdAt = Math.floor(options.fromMs + n * step)
        const startedAt = createdAt + 3 + (n % 40)
        const finishedAt = startedAt + 5 + (n % 90)
        const i = Math.floor(n / options.tasks.length)
        const cancelled = n % 97 === 0
        const failed = !cancelled && i % 10 === 0
        const logged = n % options.logEvery === 0
        const id = idAt(createdAt, random, (n - from) * 9)
        insertRun.run({
          id,
          task: options.tasks[t]!,
          label: `batch-${t}`,
          queue: t % 2 === 0 ? 'default' : 'mail',
          status: cancelled ? 'cancelled' : failed ? 'failed' : 'succeeded',
          args: `{"i":${i}}`,
          tags: `["team-${t % 3}"]`,
          attempt: cancelled ? 0 : 1,
          createdAt,
          startedAt: cancelled ? null : startedAt,
          finishedAt,
          worker: cancelled ? null : 'bench:1:0000fill',
          data: failed || cancelled ? null : `{"item":${i}}`,
          error: failed ? JSON.stringify({ message: `item ${i} could not be processed: upstream answered 503`, code: 'ERR_HANDLER', name: 'Error', stack: `Error: item ${i} could not be processed: upstream answered 503\n    at Object.run (file:///bench/admin.js:1:1)` }) : null,
          cancelReason: cancelled ? 'cancelled by request' : null,
          logCount: logged && !cancelled ? 1 : 0,
        })
        if (logged && !cancelled) {
          insertLog.run(id, startedAt + 1, `processing item ${i}`)
          logLines++
        }
      }
    })()
  }
  return logLines
}
