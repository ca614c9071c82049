/**
 * Which attempt wrote each log line of a run. Log lines carry no attempt of their own; a line
 * belongs to the latest attempt that started at or before it (lines before the first: attempt 1).
 * The run page splits and filters its log by it; a run diff compares one attempt's lines.
 */
import type { Run } from '../store/types.js'
import type { LogEntry } from '../task/context.js'

/** The attempt each log line was written in, from the attempts' start times (lines before the first: attempt 1). */
export function attemptsOfLines(run: Run, logs: readonly LogEntry[]): number[] {
  const starts = run.attempts.map((a) => ({ number: a.number, at: a.startedAt.getTime() }))
  const last = starts.at(-1)?.number ?? 0
  if (run.startedAt !== null && run.attempt > last) starts.push({ number: run.attempt, at: run.startedAt.getTime() })
  starts.sort((a, b) => a.at - b.at)
  return logs.map((entry) => {
    let attempt = starts[0]?.number ?? 1
    for (const start of starts) if (start.at <= entry.time.getTime()) attempt = start.number
    return attempt
  })
}
