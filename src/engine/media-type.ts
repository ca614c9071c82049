/**
 * Media types (RFC 9110 §8.3.1): what an artifact's content type must be, checked when a handler
 * stores it, so that serving it later can never fail or inject a header.
 */

/** Characters of a token (RFC 9110 §5.6.2). */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
/** A quoted parameter value: printable characters and tabs, quotes and backslashes escaped. */
const QUOTED = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*"'
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`)

/** The longest content type accepted, in characters. */
export const MAX_MEDIA_TYPE_LENGTH = 255

/**
 * Whether `value` is a media type such as `text/plain` or `text/csv; charset=utf-8`.
 *
 * @example
 * isMediaType('application/json') // true
 * isMediaType('text/plain\r\nX-Injected: 1') // false
 */
export function isMediaType(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_MEDIA_TYPE_LENGTH && MEDIA_TYPE.test(value)
}
