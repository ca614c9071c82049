/**
 * The last line of every attempt's log: how it ended and how long its handler took.
 */
import type { RunStatus } from '../../task/context.js'

/** The final log line of an attempt: `completed in 12 ms`, `failed after 12 ms`, `cancelled after 12 ms`. */
export function finalLine(status: RunStatus, durationMs: number): string {
  return status === 'succeeded' ? `completed in ${durationMs} ms` : `${status} after ${durationMs} ms`
}

const FINAL_LINE = /^(completed in|failed after|cancelled after) \d+ ms$/

/** The message with a final line's duration left out (`completed in … ms`), for comparing runs; other messages as they are. */
export function withoutDuration(message: string): string {
  return FINAL_LINE.test(message) ? message.replace(/\d+ ms$/, '… ms') : message
}
