/**
 * Reading a route's query, one rule for every API route: a route takes only the parameters it
 * reads (plus `format` (or `t`) and `download` on GETs, and `access_token` anywhere); anything else,
 * a repeat of a one-value parameter, or a bad value is one 400 listing each.
 */
import { describeValue, type FieldIssue } from '../errors.js'
import type { ServerContext } from './caller.js'
import { HttpError } from './http-errors.js'

/** Query parameters every GET route takes (it answers data through `respond`; `t` is short for `format`). */
const FORMAT_QUERY = ['format', 't', 'download'] as const
/** Accepted on every route, unlisted: clients that cannot send headers (browser WebSockets) authenticate with it. */
const TOKEN_QUERY = 'access_token'

/**
 * Reads the query of a route, one rule for all: collects bad values, repeats of parameters
 * that take one value (`?page=1&page=2` would otherwise silently mean page 1), and parameters
 * the route does not read (a typo like `?stauts=failed` would otherwise list everything), and
 * reports them all at once as one 400 from {@link QueryReader.done}. Lists (`list`) take a
 * value repeated or comma-separated. Routes with no parameters of their own call
 * {@link checkQuery}.
 *
 * @example
 * const query = new QueryReader(c)
 * const page = query.int('page', 1, 1_000_000) ?? 1
 * query.done() // before anything is read or changed
 */
export class QueryReader {
  readonly #params: URLSearchParams
  readonly #common: readonly string[]
  readonly #issues: FieldIssue[] = []
  readonly #read = new Set<string>()

  /**
   * `common`: parameters taken besides those read. Default: `format` and `download` on GET,
   * none otherwise. Parameters given as `URLSearchParams` (a filter sent in a body) are read by
   * the same rules.
   */
  constructor(c: ServerContext | URLSearchParams, common: readonly string[] = c instanceof URLSearchParams || c.req.method !== 'GET' ? [] : FORMAT_QUERY) {
    this.#params = c instanceof URLSearchParams ? c : new URL(c.req.url).searchParams
    this.#common = common
  }

  /** One value; empty reads as absent. */
  string(name: string): string | undefined {
    const values = this.#values(name)
    if (values.length > 1) {
      this.#repeated(name, values)
      return undefined
    }
    const value = values[0]
    return value === undefined || value === '' ? undefined : value
  }

  int(name: string, min: number, max: number): number | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const n = Number(text)
    if (!/^-?\d+$/.test(text) || n < min || n > max) {
      this.#issue(name, `int from ${min} to ${max}`, text)
      return undefined
    }
    return n
  }

  time(name: string): Date | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const date = new Date(text)
    if (Number.isNaN(date.getTime())) {
      this.#issue(name, 'an ISO 8601 time', text)
      return undefined
    }
    return date
  }

  /** Values out of `allowed`, comma-separated or the parameter repeated (each value checked); absent is `undefined`. */
  list<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const items: T[] = []
    for (const text of this.#values(name)) {
      const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
      if (parts.some((part) => !(allowed as readonly string[]).includes(part))) this.#issue(name, `${allowed.join(', ')} (comma-separated, or the parameter repeated)`, text)
      else items.push(...(parts as T[]))
    }
    return items.length === 0 ? undefined : [...new Set(items)]
  }

  /** One value out of `allowed`; absent is `undefined`. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    if (!(allowed as readonly string[]).includes(text)) {
      this.#issue(name, `one of ${allowed.join(', ')}`, text)
      return undefined
    }
    return text as T
  }

  /** `true` or `false`; absent is `undefined`. */
  bool(name: string): boolean | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    if (text !== 'true' && text !== 'false') {
      this.#issue(name, 'true or false', text)
      return undefined
    }
    return text === 'true'
  }

  /**
   * Throws one 400 listing every bad parameter, every parameter the route did not read, and
   * every repeat of one that takes a single value.
   */
  done(): void {
    const known = [...this.#read, ...this.#common]
    const params = this.#params
    for (const name of new Set(params.keys())) {
      if (this.#read.has(name)) continue
      const values = params.getAll(name)
      if (known.includes(name) || name === TOKEN_QUERY) {
        if (values.length > 1) this.#repeated(name, values)
        continue
      }
      const received = describeValue(values.length === 1 ? values[0] : values)
      this.#issues.push(
        known.length === 0
          ? { key: name, expected: 'no query parameters', received, message: `${name}: unknown query parameter (this route takes none)` }
          : { key: name, expected: `a known query parameter (${known.join(', ')})`, received, message: `${name}: unknown query parameter (known: ${known.join(', ')})` },
      )
    }
    if (this.#issues.length > 0) {
      throw new HttpError('ERR_VALIDATION', `invalid query: ${this.#issues.map((i) => i.message).join('; ')}`, this.#issues)
    }
  }

  #values(name: string): string[] {
    this.#read.add(name)
    return this.#params.getAll(name)
  }

  #repeated(name: string, values: readonly string[]): void {
    this.#issues.push({ key: name, expected: 'one value', received: describeValue(values), message: `${name}: given ${values.length} times, expected one value` })
  }

  #issue(key: string, expected: string, value: string): void {
    this.#issues.push({ key, expected, received: describeValue(value), message: `${key}: expected ${expected}, got ${describeValue(value)}` })
  }
}

/**
 * For a route without query parameters of its own: 400 for any other than `common` (default:
 * `format` and `download` on GET, none on writes) and `access_token`, or a repeat of them.
 * Call it first, before anything is read or changed.
 */
export function checkQuery(c: ServerContext, common?: readonly string[]): void {
  new QueryReader(c, common).done()
}
