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

/** Query parameters every data route takes; `access_token` (for clients that cannot send headers) is accepted too, unlisted. */
const COMMON_QUERY = ['format', 'download'] as const

/**
 * Reads the query of a list route: collects bad values, and parameters the route does not read
 * (a typo like `?stauts=failed` would otherwise list everything), and reports them all at once
 * as one 400 from {@link QueryReader.done}.
 */
export class QueryReader {
  readonly #c: ServerContext
  readonly #issues: FieldIssue[] = []
  readonly #read = new Set<string>()

  constructor(c: ServerContext) {
    this.#c = c
  }

  string(name: string): string | undefined {
    this.#read.add(name)
    const value = this.#c.req.query(name)
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

  list<T extends string>(name: string, allowed: readonly T[]): T[] | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
    const bad = items.filter((item) => !(allowed as readonly string[]).includes(item))
    if (bad.length > 0) this.#issue(name, `a comma-separated list of ${allowed.join(', ')}`, text)
    return items as T[]
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

  /** Throws one 400 listing every bad parameter, and every parameter the route did not read. */
  done(): void {
    const known = [...this.#read, ...COMMON_QUERY]
    for (const name of new Set(new URL(this.#c.req.url).searchParams.keys())) {
      if (known.includes(name) || name === 'access_token') continue
      const value = this.#c.req.query(name) ?? ''
      this.#issues.push({ key: name, expected: `a known query parameter (${known.join(', ')})`, received: describeValue(value), message: `${name}: unknown query parameter (known: ${known.join(', ')})` })
    }
    if (this.#issues.length > 0) {
      throw new HttpError(400, 'ERR_VALIDATION', `invalid query: ${this.#issues.map((i) => i.message).join('; ')}`, this.#issues)
    }
  }

  #issue(key: string, expected: string, value: string): void {
    this.#issues.push({ key, expected, received: describeValue(value), message: `${key}: expected ${expected}, got ${describeValue(value)}` })
  }
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
