/**
 * The HTML fragments of the registry protocol's `html` fields, the only HTML the server builds
 * outside JSX. Everything in them that comes from a run goes through `escapeHtml`.
 */
import type { LogLevel, RunResult } from '../../task/context.js'

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/** A log line: `<div class="log log-info"><span class="level">info</span> …</div>`. */
export function logHtml(level: LogLevel, message: string): string {
  return `<div class="log log-${escapeHtml(level)}"><span class="level">${escapeHtml(level)}</span> ${escapeHtml(message)}</div>`
}

/** A result: its status, duration and error message. */
export function resultHtml(result: RunResult): string {
  const error = result.error === undefined ? '' : `<div class="error">${escapeHtml(result.error.message)}</div>`
  return `<div class="result result-${result.status}"><strong>${escapeHtml(result.status)}</strong> in ${result.durationMs} ms${error}</div>`
}
