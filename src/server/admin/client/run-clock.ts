/**
 * The run page's clock (`#run-clock`, drawn by `run-parts.tsx`): how long the running attempt
 * has been going, ticking every second, and about how long it has left at its progress rate,
 * updated with each progress report the stream brings.
 */
import { runClock, type ProgressShape } from '../shared/estimate.js'
import { formatDuration } from '../shared/format.js'
import { $ } from './dom.js'

/** Starts the clock; returns what takes a new progress report (a no-op without a clock). */
export function startRunClock(): (progress: ProgressShape | null | undefined) => void {
  const clock = $('#run-clock')
  const startedAt = Number(clock?.dataset.startedAt ?? Number.NaN)
  if (clock === null || !Number.isFinite(startedAt)) return () => undefined
  const fraction = Number(clock.dataset.fraction === '' ? Number.NaN : clock.dataset.fraction)
  let latest: ProgressShape | null = Number.isFinite(fraction) ? { percent: fraction * 100 } : null
  const elapsed = $('[data-part="elapsed"]', clock)
  const remaining = $('[data-part="remaining"]', clock)
  const draw = (): void => {
    const { elapsedMs, remainingMs } = runClock(startedAt, Date.now(), latest)
    if (elapsed !== null) elapsed.textContent = `Running for ${formatDuration(elapsedMs)}`
    if (remaining !== null) remaining.textContent = remainingMs === undefined ? '' : ` · about ${formatDuration(remainingMs)} left`
  }
  setInterval(draw, 1000)
  return (progress) => {
    if (progress !== null && progress !== undefined) latest = progress
    draw()
  }
}
