/**
 * The batch writer: everything a worker's write buffer gathered in one turn (logs, log counts,
 * progress, holds, starts, waiting changes, completions, releases, then an optional claim), in one
 * IMMEDIATE transaction, each write fenced by its lease token.
 */
import type { BatchOutcome, ClaimedRun, WriteBatch } from '../contract/queue.js'
import { CANCELLED_ERROR_JSON } from '../sql/run-errors.js'
import { attemptJson } from '../sql/run-rows.js'
import { claimInTransaction } from './claim-runs.js'
import type { SqliteConnection } from './connection.js'
import { appendAttempt } from './dialect.js'
import { jsonOrNull, tagsJson } from '../sql/columns.js'

const INSERT_LOGS = `INSERT OR IGNORE INTO logs (run_id, seq, time, level, message)
           SELECT v.value->>0, v.value->>1, v.value->>2, v.value->>3, v.value->>4 FROM json_each(?) v
           JOIN runs r ON r.id = v.value->>0 AND r.lease_token = v.value->>5`
const COUNT_LOGS = 'UPDATE runs SET log_count = (SELECT coalesce(max(seq), 0) FROM logs WHERE run_id = ?) WHERE id = ?'
const RAISE_LOG_COUNT = 'UPDATE runs SET log_count = max(log_count, ?) WHERE id = ? AND lease_token = ?'
// A partial result (ctx.setResult) is stored as the run's data; without one the data stays.
const SAVE_PROGRESS = 'UPDATE runs SET progress = ?, tags = ?, data = coalesce(?, data), updated_at = ? WHERE id = ? AND lease_token = ?'
const HOLD = 'UPDATE runs SET started_at = NULL WHERE id = ? AND lease_token = ?'
const START = 'UPDATE runs SET started_at = ? WHERE id = ? AND lease_token = ?'
const WAIT = `UPDATE runs SET status = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND status IN ('running', 'waiting')`
// Final outcomes leave the attempt list alone: the last attempt is read from the run's own
// columns (see run-rows.ts), which keeps the hot path free of JSON work.
const FINISH = `UPDATE runs SET status = ?, started_at = ?, finished_at = ?, updated_at = ?, data = ?, error = ?, progress = ?, tags = ?,
             lease_token = NULL, lease_expires_at = NULL
           WHERE id = ? AND lease_token = ?`
// A cancel requested elsewhere wins over a retry the worker decided before it heard of it.
const RETRY = `UPDATE runs SET
             status = CASE WHEN cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
             finished_at = CASE WHEN cancel_requested_at IS NOT NULL THEN @finishedAt END,
             error = CASE WHEN cancel_requested_at IS NOT NULL THEN @cancelError ELSE @error END,
             run_at = @runAt, started_at = @startedAt, progress = @progress, tags = @tags, data = @data,
             attempts = ${appendAttempt('attempts', '@attempt')},
             attempt_base = attempt_base + @refund,
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = @finishedAt
           WHERE id = @id AND lease_token = @token`
// As if never claimed: the attempt number goes back and the history stays as it was.
const RELEASE = `UPDATE runs SET
             status = CASE WHEN @cancel = 1 OR cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'pending' END,
             finished_at = CASE WHEN @cancel = 1 OR cancel_requested_at IS NOT NULL THEN @at END,
             error = CASE WHEN @cancel = 1 THEN @error WHEN cancel_requested_at IS NOT NULL THEN @cancelError ELSE error END,
             attempt = attempt - 1, started_at = NULL, lease_token = NULL, lease_expires_at = NULL, worker_id = NULL, updated_at = @at
           WHERE id = @id AND lease_token = @token`

/** Writes a batch; runs back to `pending` wake this process's workers. */
export function writeBatch(db: SqliteConnection, batch: WriteBatch): BatchOutcome {
  const fenced = new Set<string>()
  let claimed: ClaimedRun[] | undefined
  db.write(() => {
    if (batch.logs.length > 0) {
      db.stmt(INSERT_LOGS).run(JSON.stringify(batch.logs.map((l) => [l.runId, l.seq, l.time, l.level, l.message, l.token])))
      const count = db.stmt(COUNT_LOGS)
      for (const id of new Set(batch.logs.map((l) => l.runId))) count.run(id, id)
    }
    if (batch.logCounts !== undefined && batch.logCounts.length > 0) {
      const count = db.stmt(RAISE_LOG_COUNT)
      for (const c of batch.logCounts) count.run(c.count, c.id, c.token)
    }
    if (batch.progress.length > 0) {
      const save = db.stmt(SAVE_PROGRESS)
      const now = Date.now()
      for (const p of batch.progress) if (save.run(JSON.stringify(p.progress), JSON.stringify(p.tags), p.result ?? null, now, p.id, p.token).changes === 0) fenced.add(p.id)
    }
    if (batch.holds !== undefined && batch.holds.length > 0) {
      const hold = db.stmt(HOLD)
      for (const h of batch.holds) if (hold.run(h.id, h.token).changes === 0) fenced.add(h.id)
    }
    if (batch.starts !== undefined && batch.starts.length > 0) {
      const start = db.stmt(START)
      for (const st of batch.starts) if (start.run(st.startedAt, st.id, st.token).changes === 0) fenced.add(st.id)
    }
    if (batch.waits.length > 0) {
      const wait = db.stmt(WAIT)
      const now = Date.now()
      for (const w of batch.waits) if (wait.run(w.waiting ? 'waiting' : 'running', now, w.id, w.token).changes === 0) fenced.add(w.id)
    }
    if (batch.completions.length > 0) {
      const finish = db.stmt(FINISH)
      const retry = db.stmt(RETRY)
      for (const c of batch.completions) {
        const progress = jsonOrNull(c.progress)
        const tags = tagsJson(c.tags)
        const error = jsonOrNull(c.error)
        const changes =
          c.status === 'pending'
            ? retry.run({
                finishedAt: c.finishedAt,
                cancelError: CANCELLED_ERROR_JSON,
                error,
                runAt: c.runAt ?? c.finishedAt,
                startedAt: c.attempt.startedAt.getTime(),
                progress,
                tags,
                data: c.data ?? null,
                attempt: attemptJson(c.attempt),
                refund: c.refundAttempt === true ? 1 : 0,
                id: c.id,
                token: c.token,
              }).changes
            : finish.run(c.status, c.attempt.startedAt.getTime(), c.finishedAt, c.finishedAt, c.data ?? null, error, progress, tags, c.id, c.token).changes
        if (changes === 0) fenced.add(c.id)
      }
    }
    if (batch.releases !== undefined && batch.releases.length > 0) {
      const release = db.stmt(RELEASE)
      for (const r of batch.releases) {
        const error = r.error === null ? CANCELLED_ERROR_JSON : JSON.stringify(r.error)
        if (release.run({ cancel: r.status === 'cancelled' ? 1 : 0, at: r.at, error, cancelError: CANCELLED_ERROR_JSON, id: r.id, token: r.token }).changes === 0) fenced.add(r.id)
      }
    }
    if (batch.claim !== undefined) claimed = claimInTransaction(db, batch.claim)
  })
  if (batch.completions.some((c) => c.status === 'pending') || (batch.releases ?? []).some((r) => r.status === 'pending')) db.notify()
  return claimed === undefined ? { fenced: [...fenced] } : { fenced: [...fenced], claimed }
}
