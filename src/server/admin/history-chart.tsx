/**
 * History on admin pages: the range switch (links, so it works without the script) and the chart
 * of finished runs per bar over the last hour, day or week (`engine.history`).
 */
import type { History, HistoryRange } from '../../engine/history/history.js'
import { HISTORY_RANGES } from '../../engine/history/history.js'
import type { ThroughputBucket } from '../../store/types.js'
import { formatCompact, formatCount } from './shared/format.js'

/** A range as a heading says it. */
export const RANGE_TITLES: Readonly<Record<HistoryRange, string>> = { '1h': 'Last hour', '24h': 'Last 24 hours', '7d': 'Last 7 days' }

/** One bar's width in words: `minute`, `15 min`, `2 h`. */
function barWidth(bucketMs: number): string {
  if (bucketMs === 60_000) return 'minute'
  return bucketMs < 3_600_000 ? `${bucketMs / 60_000} min` : `${bucketMs / 3_600_000} h`
}

/** `1 h · 24 h · 7 d` as links, the current one marked. */
export function RangeSwitch({ current, href }: { current: HistoryRange; href: (range: HistoryRange) => string }) {
  return (
    <nav class="range-switch" aria-label="time range">
      {HISTORY_RANGES.map((range) => (
        <a href={href(range)} aria-current={range === current ? 'true' : undefined} data-range={range}>
          {range.replace(/(\d)([a-z])/, '$1 $2')}
        </a>
      ))}
    </nav>
  )
}

/** The legend, the chart and its caption. */
export function HistoryChart({ history }: { history: History }) {
  return (
    <>
      <span class="legend" aria-hidden="true">
        <span>
          <svg class="sw" viewBox="0 0 10 10">
            <rect class="ok" width="10" height="10" />
          </svg>
          succeeded
        </span>
        <span>
          <svg class="sw" viewBox="0 0 10 10">
            <rect class="bad" width="10" height="10" />
          </svg>
          failed (hatched)
        </span>
      </span>
      <ThroughputChart buckets={history.buckets} range={history.range} bucketMs={history.bucketMs} />
      <p class="faint small">
        Runs finished per {barWidth(history.bucketMs)}; times in UTC; updates live.
      </p>
    </>
  )
}

/** 1, 2, 5, 10, 20, 50, …: the smallest such number at least `n`. */
function niceCeiling(n: number): number {
  if (n <= 1) return 1
  const power = 10 ** Math.floor(Math.log10(n))
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power
  return 10 * power
}

/** A fraction of the chart's width as an SVG length. */
const pct = (fraction: number): string => `${(fraction * 100).toFixed(3)}%`

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/** Whether a bar starts a labelled tick, and its label: every 15 min, 3 h, or day (UTC). */
function tickOf(start: Date, range: HistoryRange): string | null {
  const [hours, minutes] = [start.getUTCHours(), start.getUTCMinutes()]
  if (range === '1h') return minutes % 15 === 0 ? start.toISOString().slice(11, 16) : null
  if (range === '24h') return minutes === 0 && hours % 3 === 0 ? start.toISOString().slice(11, 16) : null
  return minutes === 0 && hours === 0 ? `${DAYS[start.getUTCDay()]} ${start.getUTCDate()}` : null
}

/** A bar's time in its tooltip: `14:05` within a day, `Mon 7 14:00` over a week. */
const barTime = (start: Date, range: HistoryRange): string => (range === '7d' ? `${DAYS[start.getUTCDay()]} ${start.getUTCDate()} ` : '') + start.toISOString().slice(11, 16)

/**
 * Stacked bars (succeeded below, failed above and hatched, so they differ without colour), with
 * count gridlines and clock times. Horizontal positions are percentages of the width and vertical
 * ones pixels of a fixed height, so the chart fills any width while its text keeps its size. SVG
 * attributes and classes only: no inline styles.
 */
function ThroughputChart({ buckets, range, bucketMs }: { buckets: readonly ThroughputBucket[]; range: HistoryRange; bucketMs: number }) {
  const height = 200
  const [top, bottom] = [16, 178]
  const max = niceCeiling(Math.max(1, ...buckets.map((b) => b.succeeded + b.failed)))
  const ticks = max === 1 ? [0, 1] : [0, max / 2, max]
  const n = Math.max(1, buckets.length)
  const y = (count: number): number => bottom - (count / max) * (bottom - top)
  const total = buckets.reduce((sum, b) => sum + b.succeeded + b.failed, 0)
  const per = barWidth(bucketMs)
  return (
    <svg class="chart" width="100%" height={String(height)} role="img" aria-label={`Runs finished per ${per} over the ${RANGE_TITLES[range].toLowerCase()}: ${formatCount(total)} in all, at most ${formatCount(max)} per ${per}`}>
      <defs>
        <pattern id="hatch-failed" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect class="hatch-bg" width="5" height="5" />
          <line class="hatch-line" x1="0" y1="0" x2="0" y2="5" />
        </pattern>
      </defs>
      {buckets.map((b, i) => {
        const label = tickOf(b.start, range)
        return label === null ? null : (
          // Every other 3-hour tick is minor: its label gives way on narrow screens.
          <g class={range === '24h' && b.start.getUTCHours() % 6 !== 0 ? 'x-tick minor' : 'x-tick'}>
            <line class="grid" x1={pct(i / n)} y1={String(top)} x2={pct(i / n)} y2={String(bottom)} />
            <text class="label" x={pct(i / n)} y={String(height - 6)} text-anchor={i / n < 0.04 ? 'start' : i / n > 0.96 ? 'end' : 'middle'}>
              {label}
            </text>
          </g>
        )
      })}
      {ticks.map((tick) => (
        <g class="y-tick">
          <line class={tick === 0 ? 'axis' : 'grid'} x1="0" y1={String(y(tick))} x2="100%" y2={String(y(tick))} />
          {tick === 0 ? null : (
            <text class="label" x="3" y={String(y(tick) - 4)}>
              {tick === max ? `${formatCompact(tick)} run${tick === 1 ? '' : 's'}/${per === 'minute' ? 'min' : per}` : formatCompact(tick)}
            </text>
          )}
        </g>
      ))}
      {buckets.map((b, i) => {
        const x = pct((i + 0.15) / n)
        const w = pct(0.7 / n)
        return (
          <g>
            <title>{`${barTime(b.start, range)} UTC: ${formatCount(b.succeeded)} succeeded, ${formatCount(b.failed)} failed, ${formatCount(b.cancelled)} cancelled`}</title>
            <rect class="slot" x={pct(i / n)} y={String(top)} width={pct(1 / n)} height={String(bottom - top)} />
            {b.succeeded === 0 ? null : <rect class="ok" x={x} y={String(y(b.succeeded))} width={w} height={String(bottom - y(b.succeeded))} />}
            {b.failed === 0 ? null : <rect class="bad" x={x} y={String(y(b.succeeded + b.failed))} width={w} height={String(y(b.succeeded) - y(b.succeeded + b.failed))} />}
          </g>
        )
      })}
    </svg>
  )
}
