/**
 * Live view of a run on a terminal: log lines as they are written and a progress bar (redrawn
 * in place on a TTY; a progress line on change otherwise), then a one-line summary.
 */
import type { RunEvent } from '../engine/events/run-events.js'
import type { LogEntry, Progress, RunResult } from '../task/context.js'
import { jsonText } from '../json-text.js'
import { resultFinalLine } from '../engine/execute/final-line.js'

/** Where and how to write. */
export interface LiveOutputOptions {
  /** Redraw the bar in place (a terminal). */
  readonly tty: boolean
  /** Use ANSI colours. */
  readonly color: boolean
  /** Terminal width, for the bar. */
  readonly columns?: number
  /** Minimum time between two progress lines when not on a TTY. Default: 250 ms. */
  readonly plainProgressIntervalMs?: number
}

const BAR_WIDTH = 24
const ANSI = { reset: '\x1b[0m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', cyan: '\x1b[36m', bold: '\x1b[1m' }
type Paint = keyof typeof ANSI

/** Renders run events to a writable stream (stderr, usually). */
export class LiveOutput {
  readonly #write: (text: string) => void
  readonly #options: LiveOutputOptions
  #barShown = false
  #progress: Progress | undefined
  #lastPlain = ''
  #lastPlainAt = 0

  constructor(write: (text: string) => void, options: LiveOutputOptions) {
    this.#write = write
    this.#options = options
  }

  /** Feeds one run event. */
  onEvent(event: RunEvent): void {
    if (event.type === 'log') this.#log(event.entry)
    else if (event.type === 'progress') this.#onProgress(event.progress)
  }

  /** Clears the bar and prints the summary line. */
  finish(result: RunResult): void {
    this.#log(resultFinalLine(result))
    this.#clearBar()
    this.#write(renderSummary(result, { color: this.#options.color }))
  }

  /** Clears the bar and prints nothing more (the summary goes elsewhere). */
  end(): void {
    this.#clearBar()
  }

  #log(entry: LogEntry): void {
    this.#clearBar()
    const level = entry.level.padEnd(5)
    const painted = entry.level === 'error' ? this.#paint('red', level) : entry.level === 'warn' ? this.#paint('yellow', level) : entry.level === 'debug' ? this.#paint('dim', level) : this.#paint('cyan', level)
    this.#write(`${this.#paint('dim', clock(entry.time))} ${painted} ${entry.message}\n`)
    this.#drawBar()
  }

  #onProgress(progress: Progress): void {
    this.#progress = progress
    if (this.#options.tty) {
      this.#drawBar()
      return
    }
    // Not a terminal: a line per visible change, at most one per interval (the last one always shows at the end).
    const line = `progress ${describeProgress(progress)}`
    const now = Date.now()
    const interval = this.#options.plainProgressIntervalMs ?? 250
    const done = progress.percent !== undefined && progress.percent >= 100
    if (line !== this.#lastPlain && (done || now - this.#lastPlainAt >= interval)) {
      this.#lastPlain = line
      this.#lastPlainAt = now
      this.#write(`${line}\n`)
    }
  }

  #drawBar(): void {
    if (!this.#options.tty || this.#progress === undefined) return
    const percent = this.#progress.percent ?? 0
    const filled = Math.round((percent / 100) * BAR_WIDTH)
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`
    let line = `${this.#paint('green', bar)} ${describeProgress(this.#progress)}`
    const columns = this.#options.columns ?? 80
    if (line.length > columns + 20) line = line.slice(0, columns + 20)
    this.#write(`\r\x1b[K${line}`)
    this.#barShown = true
  }

  #clearBar(): void {
    if (this.#barShown) {
      this.#write('\r\x1b[K')
      this.#barShown = false
    }
  }

  #paint(color: Paint, text: string): string {
    return this.#options.color ? `${ANSI[color]}${text}${ANSI.reset}` : text
  }
}

/**
 * A finished run in a few lines: a mark, the task, status and duration, the error (with its
 * stack when it failed), and with `data` the handler's result.
 */
export function renderSummary(result: RunResult, { color, data = false }: { readonly color: boolean; readonly data?: boolean }): string {
  const paint = (name: Paint, text: string): string => (color ? `${ANSI[name]}${text}${ANSI.reset}` : text)
  const { status, durationMs } = result
  const mark = status === 'succeeded' ? paint('green', '✔') : status === 'cancelled' ? paint('yellow', '■') : paint('red', '✖')
  let text = `${mark} ${result.task} ${status} in ${formatDuration(durationMs)}`
  if (result.error !== undefined) text += `: ${result.error.message}`
  text += '\n'
  if (status === 'failed' && result.error?.stack !== undefined) text += `${paint('dim', indent(result.error.stack))}\n`
  if (data && result.data !== undefined) {
    const compact = jsonText(result.data)
    // Short data on the line; longer data pretty-printed below it.
    text += compact.length <= 100 ? `data: ${compact}\n` : `data:\n${indent(jsonText(result.data, 2))}\n`
  }
  return text
}

/** `50% (1/2) dumping` */
export function describeProgress(progress: Progress): string {
  const parts: string[] = []
  if (progress.percent !== undefined) parts.push(`${Math.floor(progress.percent)}%`)
  if (progress.step !== undefined && progress.steps !== undefined) parts.push(`(${progress.step}/${progress.steps})`)
  if (progress.message !== undefined && progress.message !== '') parts.push(progress.message)
  return parts.join(' ')
}

/** `850 ms`, `2.4 s`, `3 min 5 s` */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

function clock(time: Date): string {
  return time.toISOString().slice(11, 23)
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
}
