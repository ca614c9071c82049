/**
 * Progress reports: what a handler's `ctx.progress()` merges into the run's progress.
 */
import type { Progress, ProgressUpdate } from '../../task/context.js'

/**
 * Merges a progress report into the previous one. `percent` is clamped to 0–100 and derived
 * from `step`/`steps` when the report does not give it.
 */
export function mergeProgress(previous: Progress | undefined, update: ProgressUpdate): Progress {
  if (typeof update !== 'object' || update === null) throw new TypeError(`progress() takes an object, got ${String(update)}`)
  const next: { -readonly [K in keyof Progress]: Progress[K] } = { ...previous }
  for (const key of ['step', 'steps'] as const) {
    const value = update[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`progress ${key} must be a number >= 0, got ${String(value)}`)
    next[key] = value
  }
  // A message belongs to its step: a new step without a message of its own clears the old one.
  if (update.step !== undefined && update.step !== previous?.step && update.message === undefined) delete next.message
  for (const key of ['message', 'dest'] as const) {
    const value = update[key]
    if (value === undefined) continue
    if (typeof value !== 'string') throw new TypeError(`progress ${key} must be a string, got ${String(value)}`)
    next[key] = value
  }
  if (update.percent !== undefined) {
    if (typeof update.percent !== 'number' || Number.isNaN(update.percent)) throw new TypeError(`progress percent must be a number, got ${String(update.percent)}`)
    next.percent = Math.min(100, Math.max(0, update.percent))
  } else if ((update.step !== undefined || update.steps !== undefined) && next.steps !== undefined && next.steps > 0 && next.step !== undefined) {
    next.percent = Math.min(100, (next.step / next.steps) * 100)
  }
  return next
}
