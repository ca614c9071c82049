/**
 * What every CLI command shares: its streams and environment, exit codes, error reporting.
 */
import { TaskEngineError, ValidationError, coerceError } from '../errors.js'

/** What the CLI talks to. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Subscribes to interrupt requests (SIGINT/SIGTERM); returns the unsubscribe function. */
  readonly onInterrupt?: (handler: (signal: string) => void) => () => void
}

/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

export function writer(stream: NodeJS.WritableStream): (text: string) => void {
  return (text) => void stream.write(text)
}

/** Prints an error the way the CLI reports them and picks the exit code. */
export function reportError(error: unknown, err: (text: string) => void): number {
  const e = coerceError(error)
  if (e instanceof TaskEngineError) {
    err(`taskengine: ${e.message}\n`)
    return e instanceof ValidationError || e.code === 'ERR_NOT_FOUND' || e.code === 'ERR_TASK_DEFINITION' || e.code === 'ERR_CONFLICT' ? EXIT.usage : EXIT.failed
  }
  err(`taskengine: unexpected error: ${e.stack ?? e.message}\n`)
  return EXIT.failed
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
