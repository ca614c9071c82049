/**
 * The last line of a run's log: how it ended and how long its handler took (`completed in 12
 * ms`). It is derived from the run's own times where a log is shown, never stored, so a run pays
 * nothing for it on the hot path: the logs API, the run page, the embed and `taskengine runs logs`
 * add it after a finished run's stored lines ({@link withFinalLine}); the CLI's run output, the
 * live view and the result page after an in-process result's ({@link resultFinalLine}).
 * `engine.getLogs()`, the stream and diffs hold the handler's own lines only.
 */
import type { Run } from '../../store/types.js'
import type { LogEntry, RunStatus } from '../../task/context.js'

/** The final line's text: `completed in 12 ms`, `failed after 12 ms`, `cancelled after 12 ms`. */
export function finalLine(status: RunStatus, durationMs: number): string {
  return status === 'succeeded' ? `completed in ${durationMs} ms` : `${status} after ${durationMs} ms`
}

/**
 * A finished run's final line, numbered after its stored lines; `undefined` while it is active
 * or when no handler ended it (cancelled or expired while pending, failed for want of a worker,
 * lost with its worker).
 */
export function finalLineOf(run: Run): LogEntry | undefined {
  const last = run.attempts.at(-1)
  if (last === undefined || last.outcome !== run.status) return undefined
  return { seq: run.logCount + 1, time: last.finishedAt, level: 'info', message: finalLine(run.status, last.finishedAt.getTime() - last.startedAt.getTime()) }
}

/** `lines` (a page after `after`, at most `limit`) with the run's final line added when the page reaches it. */
export function withFinalLine(run: Run | undefined, lines: LogEntry[], after: number, limit: number): LogEntry[] {
  if (run === undefined || lines.length >= limit) return lines
  const final = finalLineOf(run)
  if (final === undefined || final.seq <= after) return lines
  // Lines kept elsewhere may outnumber the stored count: the final line goes after the last one read.
  const lastSeq = lines.at(-1)?.seq ?? 0
  return [...lines, lastSeq >= final.seq ? { ...final, seq: lastSeq + 1 } : final]
}

const FINAL_LINE = /^(completed in|failed after|cancelled after) \d+ ms$/

/** The message with a final line's duration left out (`completed in … ms`), for comparing runs; other messages as they are. */
export function withoutDuration(message: string): string {
  return FINAL_LINE.test(message) ? message.replace(/\d+ ms$/, '… ms') : message
}

/** An in-process result's final line, numbered after its last line, for displays of the result (the CLI, the live view, the result page). */
export function resultFinalLine(result: { readonly status: RunStatus; readonly durationMs: number; readonly finishedAt: Date; readonly logs: readonly LogEntry[] }): LogEntry {
  return { seq: (result.logs.at(-1)?.seq ?? 0) + 1, time: result.finishedAt, level: 'info', message: finalLine(result.status, result.durationMs) }
}
