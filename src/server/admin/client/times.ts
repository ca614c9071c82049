/**
 * Times on the page: relative times (`<time data-relative>`) tick every second, and times marked
 * `data-local-title` add the viewer's own clock and offset to their tooltip.
 */
import { relative } from '../shared/format.js'
import { $$ } from './dom.js'

/** Rewrites every relative time that changed. */
export function refreshTimes(): void {
  for (const node of $$<HTMLTimeElement>('time[data-relative]')) {
    const text = relative(new Date(node.dateTime))
    if (node.textContent !== text) node.textContent = text
  }
}

/** Every second, so "in 5 s" counts down and "just now" becomes "3 s ago" as it should. */
export function tickTimes(): void {
  setInterval(refreshTimes, 1000)
}

/** `2026-03-01 02:30:15 (UTC+01:00)`: a time as the viewer's clock shows it. */
export function localTime(date: Date, seconds: boolean): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  const offset = -date.getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  const zone = `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}${seconds ? `:${pad(date.getSeconds())}` : ''}`
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock} (${zone})`
}

/** Adds the viewer's time to the tooltips that ask for it (once each: regions swapped in later get theirs too). */
export function localTitles(): void {
  for (const node of $$('[data-local-title]')) {
    if (node.dataset.localDone !== undefined) continue
    node.dataset.localDone = '1'
    node.title = `${node.title} · your time: ${localTime(new Date(node.dataset.localTitle ?? ''), node.dataset.seconds === 'true')}`
  }
}
