/**
 * What route handlers share: the Hono environment (the caller's identity), body reading with
 * clear errors, query parsing, permission checks.
 */
import type { Context } from 'hono'
import { ValidationError, describeValue, type FieldIssue } from '../errors.js'
import type { Engine } from '../engine/engine.js'
import type { Run } from '../store/types.js'
import { can, type Identity, type Permission } from './auth.js'
import { HttpError } from './http-errors.js'

/** Hono environment of the server's routes. */
export interface ServerEnv {
  Variables: {
    identity: Identity
  }
}

export type ServerContext = Context<ServerEnv>

/** What the routes need from `createServer`. */
export interface RouteDeps {
  readonly engine: Engine
  /** Longest a synchronous run over HTTP may take, in ms. */
  readonly syncRunTimeoutMs: number
  /** Reports errors that are the server's fault (500s). */
  readonly report: (error: Error) => void
}

/** The caller; routes behind the auth middleware always have one. */
export function identity(c: ServerContext): Identity {
  return c.get('identity')
}

/** Throws 403 unless the caller may do `permission`. */
export function requirePermission(c: ServerContext, permission: Permission): Identity {
  const who = identity(c)
  if (!can(who, permission)) throw new HttpError(403, 'ERR_FORBIDDEN', `forbidden: "${who.id}" lacks the "${permission}" permission`)
  return who
}

/** Whether the caller reads every run (`runs:read`) or only its own (`runs:read:own`); 403 when neither. */
export function readScope(c: ServerContext): { all: boolean; id: string } {
  const scope = runScope(c)
  if (scope === null) throw new HttpError(403, 'ERR_FORBIDDEN', `forbidden: "${identity(c).id}" lacks the "runs:read" permission`)
  return scope
}

/** Which runs the caller may read: all, only its own, or none (`null`). */
export function runScope(c: ServerContext): { all: boolean; id: string } | null {
  const who = identity(c)
  if (can(who, 'runs:read')) return { all: true, id: who.id }
  if (can(who, 'runs:read:own')) return { all: false, id: who.id }
  return null
}

/**
 * A schedule as the caller may see it: its last run only when the caller may read that run
 * (schedules:read alone shows the definitions and their state, not other people's runs).
 */
export function scheduleForCaller<S extends { readonly lastRun: Run | null }>(c: ServerContext, schedule: S): S {
  const run = schedule.lastRun
  if (run === null) return schedule
  const scope = runScope(c)
  return scope !== null && (scope.all || run.createdBy === scope.id) ? schedule : { ...schedule, lastRun: null }
}

/**
 * The JSON body of a request as an object. An empty body is `{}`; any other body must be
 * `application/json` (415) and well-formed UTF-8 JSON (400 naming the problem).
 */
export async function jsonBody(c: ServerContext): Promise<Record<string, unknown>> {
  const text = utf8Text(await c.req.arrayBuffer())
  if (text.trim() === '') return {}
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') {
    throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `expected a JSON body (Content-Type: application/json), got ${type === '' ? 'no content type' : `"${type}"`}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new HttpError(400, 'ERR_MALFORMED_JSON', `malformed JSON body: ${(error as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'ERR_VALIDATION', `expected a JSON object as body, got ${describeValue(parsed)}`)
  }
  return parsed as Record<string, unknown>
}

/**
 * Decodes a body strictly: a lenient decoder would turn bytes that are not UTF-8 into U+FFFD
 * and the run would store text the client never sent.
 */
function utf8Text(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new HttpError(400, 'ERR_MALFORMED_JSON', 'malformed JSON body: not valid UTF-8 text (JSON bodies must be UTF-8)')
  }
}

/** Query parameters every GET route takes (it answers data through `respond`). */
const FORMAT_QUERY = ['format', 'download'] as const
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
  readonly #c: ServerContext
  readonly #common: readonly string[]
  readonly #issues: FieldIssue[] = []
  readonly #read = new Set<string>()

  /** `common`: parameters taken besides those read. Default: `format` and `download` on GET, none otherwise. */
  constructor(c: ServerContext, common: readonly string[] = c.req.method === 'GET' ? FORMAT_QUERY : []) {
    this.#c = c
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
    const params = new URL(this.#c.req.url).searchParams
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
      throw new HttpError(400, 'ERR_VALIDATION', `invalid query: ${this.#issues.map((i) => i.message).join('; ')}`, this.#issues)
    }
  }

  #values(name: string): string[] {
    this.#read.add(name)
    return this.#c.req.queries(name) ?? []
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

/**
 * Collects problems with a request body so that one 400 lists every bad field at once
 * (`ValidationError` with `fields`), instead of the client fixing them one round trip at a time.
 */
export class IssueList {
  readonly #issues: FieldIssue[] = []

  /** How many problems were found. */
  get size(): number {
    return this.#issues.length
  }

  /** `key` holds `value`, which is not `expected`. */
  bad(key: string, expected: string, value: unknown): void {
    const received = value === undefined ? undefined : describeValue(value)
    this.#issues.push({ key, expected, received, message: `${key}: expected ${expected}, got ${received ?? 'nothing'}` })
  }

  /** `key` is not one of `known` (`what` names the kind of thing, e.g. `option`). */
  unknown(key: string, known: readonly string[], what: string, value: unknown): void {
    this.#issues.push({ key, expected: `a known ${what} (${known.join(', ')})`, received: describeValue(value), message: `${key}: unknown ${what} (known: ${known.join(', ')})` })
  }

  /**
   * Runs a check that throws a `ValidationError` and records its problems, keys prefixed with
   * `prefix` (e.g. `options.`); other errors pass through.
   */
  collect(check: () => void, prefix = ''): void {
    try {
      check()
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      if (error.fields.length === 0) {
        const key = prefix.replace(/\.$/, '')
        this.#issues.push({ key, expected: 'valid values', received: undefined, message: error.message })
        return
      }
      for (const issue of error.fields) this.#issues.push({ ...issue, key: `${prefix}${issue.key}`, message: `${prefix}${issue.message}` })
    }
  }

  /** Throws one `ValidationError` (400) listing every problem, if there are any. */
  throwIfAny(message: string): void {
    if (this.#issues.length > 0) throw new ValidationError(message, this.#issues)
  }
}
