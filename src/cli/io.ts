/**
 * What every CLI command shares: its streams and environment, exit codes, error reporting.
 */
import { userInfo } from 'node:os'
import { TaskEngineError, ValidationError, coerceError } from '../errors.js'

/** What the CLI talks to. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Where passwords are read from (`users add`, `users password`); default `process.stdin`. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean }
  /** Subscribes to interrupt requests (SIGINT/SIGTERM); returns the unsubscribe function. */
  readonly onInterrupt?: (handler: (signal: string) => void) => () => void
}

/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

export function writer(stream: NodeJS.WritableStream): (text: string) => void {
  return (text) => void stream.write(text)
}

/**
 * A failure the CLI can explain: the environment is not as the command needs it (a port in
 * use, a database that does not exist). Its message says what happened and what to do; it is
 * printed without a stack (unless `--debug`) and exits 1.
 */
export class CliFailure extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'CliFailure'
  }
}

/** How {@link reportError} prints. */
export interface ReportOptions {
  /** Print the stack (and causes) of every error, not only of unexpected ones. */
  readonly debug?: boolean
}

/**
 * Prints an error the way the CLI reports them and picks the exit code. The engine's own
 * errors and {@link CliFailure}s print their message; anything else is unexpected: its message
 * and a hint to run again with `--debug`, which prints the stack.
 */
export function reportError(error: unknown, err: (text: string) => void, { debug = false }: ReportOptions = {}): number {
  const e = coerceError(error)
  const stack = debug ? `${indent(stackWithCauses(e))}\n` : ''
  if (e instanceof TaskEngineError) {
    err(`taskengine: ${e.message}\n${stack}`)
    return e instanceof ValidationError || e.code === 'ERR_NOT_FOUND' || e.code === 'ERR_TASK_DEFINITION' || e.code === 'ERR_CONFLICT' ? EXIT.usage : EXIT.failed
  }
  if (e instanceof CliFailure) {
    err(`taskengine: ${e.message}\n${stack}`)
    return EXIT.failed
  }
  err(`taskengine: unexpected error: ${e.message}\n${debug ? stack : '  (run again with --debug for the stack)\n'}`)
  return EXIT.failed
}

/** The stack of `error` followed by those of its causes. */
function stackWithCauses(error: Error): string {
  const parts: string[] = []
  const seen = new Set<unknown>()
  for (let e: unknown = error; e !== undefined && e !== null && !seen.has(e); e = e instanceof Error ? e.cause : undefined) {
    seen.add(e)
    const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : coerceError(e).message
    parts.push(parts.length === 0 ? text : `caused by: ${text}`)
  }
  return parts.join('\n')
}

const indent = (text: string): string => text.replace(/^/gm, '    ')

/**
 * Who the CLI records as the creator of the runs it makes (`enqueue`, `schedules trigger`):
 * `$USER`, else the login name of the process's user, else `local` — the name the HTTP API
 * gives anonymous callers on loopback.
 */
export function cliUser(io: CliIo): string {
  const fromEnv = io.env.USER
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv
  try {
    const { username } = userInfo()
    if (username !== '') return username
  } catch {
    // No passwd entry for this uid (containers run with arbitrary ids): fall through.
  }
  return 'local'
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM); never when the CLI cannot hear signals. */
export function interrupted(io: CliIo): Promise<string> {
  return new Promise((resolve) => {
    const off = io.onInterrupt?.((signal) => {
      off?.()
      resolve(signal)
    })
  })
}

/** Aligned text table; the last column is not padded. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return `${[line(header), ...rows.map(line)].join('\n')}\n`
}

/** A time as `YYYY-MM-DD HH:MM:SS`, UTC (the CLI's tables say "(UTC)" in the header). */
export function utc(at: Date): string {
  return at.toISOString().replace('T', ' ').slice(0, 19)
}
