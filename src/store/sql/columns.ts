/**
 * Column values as SQL drivers return them: times are epoch milliseconds (numbers, or strings
 * from drivers that return 64-bit integers as text); structured columns are JSON text (or
 * already-parsed JSON from drivers with a JSON type).
 */

/** JSON text → value; values a driver already parsed pass through. */
export function fromJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null
  return JSON.parse(value) as unknown
}

/** A numeric column as a number. */
export const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value))
/** An epoch-ms column as a `Date`. */
export const date = (value: number | string): Date => new Date(num(value))
/** A nullable epoch-ms column as a `Date` or `null`. */
export const maybeDate = (value: number | string | null): Date | null => (value === null ? null : date(value))

/** A value as JSON text, `null` staying SQL NULL. */
export function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value)
}

/** Tags as JSON text (the common empty list without a stringify). */
export function tagsJson(tags: readonly string[]): string {
  return tags.length === 0 ? '[]' : JSON.stringify(tags)
}
