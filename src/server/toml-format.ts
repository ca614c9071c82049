/**
 * The `?format=toml` rendering of API data (TOML 1.0, written by `smol-toml`). TOML has no null
 * and its document is a table, so: keys holding `null` (or `undefined`) are left out, as are
 * such items of lists; a list (a page of rows) goes under a key named after the data (`[[runs]]`);
 * a lone value under `value`. Times are TOML date-times; a bigint is its decimal string, as in
 * JSON; everything else is what JSON would show.
 */
import { stringify } from 'smol-toml'

/** `data` as a TOML document; `name` keys a top-level list (e.g. `tasks`). */
export function toToml(data: unknown, name: string): string {
  const value = tomlValue(data)
  const table = Array.isArray(value) ? { [name]: value } : isTable(value) ? value : value === undefined ? {} : { value }
  return stringify(table)
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/** A value as TOML can hold it; `undefined` for what it cannot (null, functions), which is left out. */
function tomlValue(value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value
  if (typeof value !== 'object') return value
  // What JSON would show of it (a Buffer's data, a URL's text), then that.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return tomlValue((value as { toJSON(): unknown }).toJSON())
  if (Array.isArray(value)) return value.map(tomlValue).filter((item) => item !== undefined)
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const converted = tomlValue(item)
    if (converted !== undefined) out[key] = converted
  }
  return out
}
