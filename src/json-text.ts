/**
 * JSON text of values that may hold a `bigint` (an int64 argument, a handler's data): JSON has no
 * bigint, and `JSON.stringify` throws on one; here it becomes its decimal string, as int64
 * arguments are stored.
 */

/** A `JSON.stringify` replacer writing every bigint as its decimal string. */
export function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

/**
 * `JSON.stringify(value, null, space)` with every bigint as its decimal string.
 *
 * @example
 * jsonText({ n: 2n ** 64n }) // '{"n":"18446744073709551616"}'
 */
export function jsonText(value: unknown, space?: number): string {
  return JSON.stringify(value, bigintAsText, space)
}
