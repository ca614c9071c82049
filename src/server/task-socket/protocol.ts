/**
 * The protocol of the live task socket, `GET /admin/task/:key/start?<args>` (WebSocket): the
 * task registry's message format, `{channel, cmd, param}` as JSON text, in types both ends use.
 * The server sends ({@link TaskSocketMessage}); the arguments come in the query. The browser
 * says one thing, `{cmd: "stop"}` ({@link TaskSocketRequest}): the run stops (cancelled) and
 * its result comes as usual. Closing the socket cancels the run too.
 *
 *   {channel, cmd: "started", param: {runId, label}}                once the run has its id
 *   {channel, cmd: "output", param: {msg, html, level, seq, time}}  per log line
 *   {channel, cmd: "progress", param: {…progress}}                  per progress report
 *   {channel, cmd: "complete", param: {result, html}}               once, with the result
 *   {channel, cmd: "close-connection"}                              then the socket closes (1000)
 *
 * or, instead of a run, `{channel, cmd: "error", param: {message, code?, fields?}}` and a close
 * with one of {@link TASK_SOCKET_CLOSE}. `channel` is `task:<key>`.
 */
import type { ErrorCode, FieldIssue } from '../../errors.js'
import type { LogLevel, Progress, RunResult } from '../../task/context.js'

/** A log line as the registry's `output` command carries it: `msg`, and `html` to show as is. */
export interface OutputParam {
  readonly msg: string
  readonly level: LogLevel
  readonly seq: number
  readonly time: Date
  /** The line as an escaped HTML fragment. */
  readonly html: string
}

/** Why the socket was refused or the run could not start. */
export interface ErrorParam {
  readonly message: string
  /**
   * `ERR_NOT_FOUND` (no such task), `ERR_TICKET` (start ticket used or expired),
   * `ERR_CONFIRMATION_REQUIRED` (a dangerous task without confirmation), `ERR_VALIDATION` (bad
   * arguments, with `fields`) or `ERR_INTERNAL` (the run could not be started).
   */
  readonly code: Extract<ErrorCode, 'ERR_NOT_FOUND' | 'ERR_TICKET' | 'ERR_CONFIRMATION_REQUIRED' | 'ERR_VALIDATION' | 'ERR_INTERNAL'>
  /** Invalid arguments: every bad field. */
  readonly fields?: readonly FieldIssue[]
}

/** What the server sends, without the `channel` every message carries. */
export type TaskSocketCommand =
  | { readonly cmd: 'started'; readonly param: { readonly runId: string; readonly label: string } }
  | { readonly cmd: 'output'; readonly param: OutputParam }
  | { readonly cmd: 'progress'; readonly param: Progress }
  | { readonly cmd: 'complete'; readonly param: { readonly result: RunResult; readonly html: string } }
  | { readonly cmd: 'close-connection' }
  | { readonly cmd: 'error'; readonly param: ErrorParam }

/** One message of the live task socket. */
export type TaskSocketMessage = TaskSocketCommand & { readonly channel: string }

/** Close codes of the live task socket. */
export const TASK_SOCKET_CLOSE = {
  /** The run completed. */
  complete: 1000,
  /** The run could not be started (an internal error). */
  internalError: 1011,
  /** Invalid arguments (`error` lists them in `fields`). */
  invalidArguments: 4000,
  /** A dangerous task without confirmation, or a start ticket used or expired. */
  refused: 4003,
  /** No task with that key. */
  unknownTask: 4004,
} as const

/** The channel of a task's messages. */
export function taskChannel(key: string): string {
  return `task:${key}`
}

/** What the browser may send: stop the run (it ends `cancelled`, and `complete` follows). */
export interface TaskSocketRequest {
  readonly cmd: 'stop'
}

/** Whether a message from the browser asks to stop the run; anything else (bad JSON included) is not. */
export function isStopRequest(data: unknown): boolean {
  if (typeof data !== 'string' || data.length > 100) return false
  try {
    const parsed = JSON.parse(data) as unknown
    return typeof parsed === 'object' && parsed !== null && (parsed as { cmd?: unknown }).cmd === 'stop'
  } catch {
    return false
  }
}
