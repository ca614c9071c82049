/**
 * How the admin UI writes counts, durations, relative times, progress and JSON, in one place for the
 * server-rendered views (`ui.tsx`) and the browser script (`client/`), so a value reads the
 * same whether the server rendered it or a live update wrote it.
 *
 * The browser loads this module as it is (`/admin/assets/shared/format.js`): it must stay pure,
 * with no imports.
 */

/** `850 ms`, `2.4 s`, `3 min 5 s`, `2 h 10 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

/**
 * `just now`, `3 min ago`, `in 2 h`: a short relative time, seen from `now` (ms since the epoch).
 *
 * @example
 * relative(new Date(Date.now() - 90_000)) // "2 min ago"
 */
export function relative(date: Date, now: number = Date.now()): string {
  const seconds = Math.round((date.getTime() - now) / 1000)
  const abs = Math.abs(seconds)
  if (abs < 2) return 'just now'
  const [n, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86_400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86_400), 'd']
  return seconds < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`
}

/** `1 item`, `2 items`, `20,001 items` (the count grouped, as {@link formatCount}). */
export function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`
}

/**
 * A count with its thousands grouped by commas, rounded to a whole number.
 *
 * @example
 * formatCount(20001) // "20,001"
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  const whole = Math.round(Math.abs(n))
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return n < 0 && whole !== 0 ? `-${grouped}` : grouped
}

/**
 * A count in at most four characters, for tight spaces (keep the exact {@link formatCount} in a
 * `title`): `950`, `1.2k`, `20k`, `3.4M`, `12B`. Rounds down, so `999,999` is `999k`, never `1000k`.
 *
 * @example
 * formatCompact(20001) // "20k"
 */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  const abs = Math.abs(n)
  const sign = n < 0 ? '-' : ''
  if (abs < 1000) return sign + String(Math.round(abs))
  for (const [unit, size] of [['B', 1e9], ['M', 1e6], ['k', 1e3]] as const) {
    if (abs < size) continue
    const value = abs / size
    // One decimal below 10 (1.2k), none above (20k); truncated, so a value never reads as the next unit's 1000.
    const text = value < 10 ? (Math.floor(value * 10) / 10).toFixed(1).replace(/\.0$/, '') : String(Math.floor(value))
    return `${sign}${text}${unit}`
  }
  return sign + String(Math.round(abs))
}

/** A share (0–1) as a percentage: `0%`, `0.4%`, `12%`, `100%` (one decimal below 10%). */
export function formatPercent(fraction: number): string {
  const percent = fraction * 100
  if (percent === 0 || percent >= 10) return `${Math.round(percent)}%`
  return `${percent.toFixed(1).replace(/\.0$/, '')}%`
}

/** A log line's time on screen: `14:03:59` (UTC), from an ISO 8601 time. */
export function clockTime(iso: string): string {
  return iso.slice(11, 19)
}

/** What a progress caption says: `42%`, `3/10` and the message; empty parts are `''`. */
export interface ProgressCaption {
  readonly percent: string
  readonly steps: string
  readonly message: string
}

/** The caption of a progress report (the bar's value is `Math.round(percent)`). */
export function progressCaption(progress: { readonly percent?: number | undefined; readonly step?: number | undefined; readonly steps?: number | undefined; readonly message?: string | undefined }): ProgressCaption {
  return {
    percent: progress.percent === undefined ? '' : `${Math.floor(progress.percent)}%`,
    steps: progress.step !== undefined && progress.steps !== undefined ? `${progress.step}/${progress.steps}` : '',
    message: progress.message ?? '',
  }
}

/**
 * JSON as a collapsible tree, described as data: the views draw it with JSX, the browser with
 * DOM nodes, and both draw the same thing. Scalars are one row (`class` is the CSS class of
 * the value: `s` string, `n` number, `b` boolean, `z` null and empty containers); objects and
 * arrays a branch that is open at the top two levels.
 */
export type JsonTree =
  | { readonly kind: 'row'; readonly key: string | undefined; readonly class: 's' | 'n' | 'b' | 'z'; readonly text: string }
  | {
      readonly kind: 'branch'
      readonly key: string | undefined
      readonly open: '{' | '['
      readonly close: '}' | ']'
      /** `3 keys`, `1 item`. */
      readonly size: string
      readonly expanded: boolean
      readonly children: readonly JsonTree[]
    }

/**
 * The tree of a JSON value (as `JSON.parse` returns it). `key` is what a row shows before
 * the value, e.g. `"name": `.
 *
 * @example
 * jsonTree({ a: 1 }) // { kind: 'branch', key: undefined, open: '{', close: '}', size: '1 key', expanded: true, children: [{ kind: 'row', key: '"a": ', class: 'n', text: '1' }] }
 */
export function jsonTree(value: unknown, depth = 0, name?: string): JsonTree {
  const key = name === undefined ? undefined : `${JSON.stringify(name)}: `
  if (value === null) return { kind: 'row', key, class: 'z', text: 'null' }
  if (typeof value === 'string') return { kind: 'row', key, class: 's', text: JSON.stringify(value) }
  if (typeof value === 'number') return { kind: 'row', key, class: 'n', text: String(value) }
  if (typeof value === 'boolean') return { kind: 'row', key, class: 'b', text: String(value) }
  const array = Array.isArray(value)
  const entries: [string | undefined, unknown][] = array ? (value as unknown[]).map((v) => [undefined, v]) : Object.entries(value as Record<string, unknown>)
  const [open, close] = array ? (['[', ']'] as const) : (['{', '}'] as const)
  if (entries.length === 0) return { kind: 'row', key, class: 'z', text: open + close }
  return {
    kind: 'branch',
    key,
    open,
    close,
    size: plural(entries.length, array ? 'item' : 'key'),
    expanded: depth < 2,
    children: entries.map(([k, v]) => jsonTree(v, depth + 1, k)),
  }
}

/** A value as the raw text a JSON view keeps for copying: indented JSON, `null` for nothing. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null, null, 2) ?? 'null'
}
