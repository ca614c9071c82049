/**
 * Reading JSON request bodies: strict UTF-8, `application/json`, well-formed, an object; and
 * collecting every problem with one so that a single 400 lists them all.
 */
import { ValidationError, describeValue, type FieldIssue } from '../errors.js'
import { unknownKeyIssue, unknownKeyIssues } from '../options.js'
import type { ServerContext } from './caller.js'
import { HttpError } from './http-errors.js'

/**
 * The JSON body of a request as an object. An empty body is `{}`; any other body must be
 * `application/json` (415) and well-formed UTF-8 JSON (400 naming the problem).
 */
export async function jsonBody(c: ServerContext): Promise<Record<string, unknown>> {
  const text = utf8Text(await c.req.arrayBuffer())
  if (text.trim() === '') return {}
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') {
    throw new HttpError('ERR_UNSUPPORTED_MEDIA_TYPE', `expected a JSON body (Content-Type: application/json), got ${type === '' ? 'no content type' : `"${type}"`}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new HttpError('ERR_MALFORMED_JSON', `malformed JSON body: ${(error as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError('ERR_VALIDATION', `expected a JSON object as body, got ${describeValue(parsed)}`)
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
    throw new HttpError('ERR_MALFORMED_JSON', 'malformed JSON body: not valid UTF-8 text (JSON bodies must be UTF-8)')
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

  /**
   * Every key of `object` that is not one of `known`, keyed `<prefix><key>` and named with the
   * key it most likely meant (`what` names the kind of thing, e.g. `option`).
   */
  unknownKeys(object: object, known: readonly string[], prefix: string, what: string): void {
    this.#issues.push(...unknownKeyIssues(object, known, prefix, what))
  }

  /** `key` (holding `value`) is not one of `known`: recorded as `<prefix><key>`, with the key it most likely meant. */
  unknown(prefix: string, key: string, value: unknown, known: readonly string[], what: string): void {
    this.#issues.push(unknownKeyIssue(key, value, known, prefix, what))
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

/**
 * `{ args, options }` from a body, recording unknown top-level keys (`known` lists the allowed
 * ones) and malformed `args` or `options` in `issues`; what is malformed reads as `{}`.
 */
export function splitBody(body: Record<string, unknown>, issues: IssueList, known: readonly string[]): { args: Record<string, unknown>; options: Record<string, unknown> } {
  issues.unknownKeys(body, known, '', 'property')
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
  const args = body.args ?? {}
  const options = body.options ?? {}
  if (!isObject(args)) issues.bad('args', 'an object of field values', args)
  if (!isObject(options)) issues.bad('options', 'an object', options)
  return { args: isObject(args) ? args : {}, options: isObject(options) ? options : {} }
}
