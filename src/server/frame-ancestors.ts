/**
 * Which pages of other origins may show the embeddable views (`/admin/embed/…`) in a frame: the
 * `allowedFrameAncestors` option, checked when the server is built, and the CSP directive it
 * becomes on those views only. Every other response stays unframeable (`frame-ancestors 'none'`
 * and `X-Frame-Options: DENY`), so a sign-in page or a form can never be framed for clickjacking.
 */
import { ValidationError, describeValue } from '../errors.js'

/**
 * Checks `allowedFrameAncestors` and returns the origins, normalized (lower case, default ports
 * dropped). Entries are origins (`https://app.example.com`, `http://localhost:3000`): scheme,
 * host and port, nothing else.
 *
 * @example
 * frameAncestors(['https://app.example.com']) // ['https://app.example.com']
 * frameAncestors(['https://app.example.com/path']) // throws ValidationError quoting the entry
 */
export function frameAncestors(entries: unknown, option = 'allowedFrameAncestors'): readonly string[] {
  if (entries === undefined) return []
  if (!Array.isArray(entries)) throw new ValidationError(`${option}: expected an array of origins such as ["https://app.example.com"], got ${describeValue(entries)}`)
  return entries.map((entry: unknown, i) => {
    const bad = (why: string): ValidationError =>
      new ValidationError(`${option}[${i}]: expected an origin such as "https://app.example.com" or "http://localhost:3000" (scheme, host and port; no path, wildcard or quotes), got ${describeValue(entry)}: ${why}`)
    if (typeof entry !== 'string') throw bad('not a string')
    if (!/^https?:\/\//i.test(entry)) throw bad('the scheme must be http or https')
    let url: URL
    try {
      url = new URL(entry)
    } catch {
      throw bad('not a URL')
    }
    // Nothing a CSP source would read differently: no path, query, credentials, wildcard or separators.
    // (A default port may be written: `https://app.example:443` is `https://app.example`.)
    if (/[\s;,'*"]/.test(entry) || !/^https?:\/\/[^/?#@]+\/?$/i.test(entry)) throw bad('an origin only')
    return url.origin
  })
}

/** The `frame-ancestors` directive of an embeddable view: the allowed origins, or `'none'`. */
export function frameAncestorsDirective(origins: readonly string[]): string {
  return `frame-ancestors ${origins.length === 0 ? "'none'" : origins.join(' ')}`
}
