/**
 * How long a run has been going and how long it has left, from its progress rate: the same
 * sums for the run page the server renders and for the script that keeps it ticking.
 *
 * The browser loads this module as it is (`/admin/assets/shared/estimate.js`): it must stay
 * pure, with no imports.
 */

/** What an estimate reads of a progress report. */
export interface ProgressShape {
  readonly percent?: number | undefined
  readonly step?: number | undefined
  readonly steps?: number | undefined
}

/**
 * How far a run is, from 0 to 1, when its progress has a total (`percent`, or `step` of
 * `steps`); `undefined` when it has none (a message alone says nothing of how far).
 */
export function progressFraction(progress: ProgressShape | null | undefined): number | undefined {
  if (progress === null || progress === undefined) return undefined
  if (typeof progress.percent === 'number' && Number.isFinite(progress.percent)) return Math.min(1, Math.max(0, progress.percent / 100))
  if (typeof progress.step === 'number' && typeof progress.steps === 'number' && progress.steps > 0) return Math.min(1, Math.max(0, progress.step / progress.steps))
  return undefined
}

/** A running run's clock: time since its attempt started, and the time left at its rate so far. */
export interface RunClock {
  readonly elapsedMs: number
  /** At the rate so far; only when progress has a total and has moved (more than 0, less than all). */
  readonly remainingMs: number | undefined
}

/**
 * The clock of a run whose attempt started at `startedAt` (ms since the epoch), seen at `now`.
 *
 * @example
 * runClock(0, 60_000, { step: 1, steps: 4 }) // { elapsedMs: 60000, remainingMs: 180000 }
 */
export function runClock(startedAt: number, now: number, progress: ProgressShape | null | undefined): RunClock {
  const elapsedMs = Math.max(0, now - startedAt)
  const fraction = progressFraction(progress)
  if (fraction === undefined || fraction <= 0 || fraction >= 1 || elapsedMs === 0) return { elapsedMs, remainingMs: undefined }
  return { elapsedMs, remainingMs: Math.round((elapsedMs * (1 - fraction)) / fraction) }
}
