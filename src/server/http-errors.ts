/**
 * One JSON error shape for the whole API: `{ error: { code, message, fields? } }`, with the
 * status the error catalog gives its code. Stack traces never leave the server.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ERROR_CATALOG, TaskEngineError, ValidationError, coerceError, type ErrorCode, type FieldIssue } from '../errors.js'

/** The HTTP status the API answers a code with: the catalog's, or 500 for the codes runs end with. */
export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return ERROR_CATALOG[code].status ?? 500
}

/** An error raised by the server itself (auth, bodies, routing); its status comes from its code. */
export class HttpError extends TaskEngineError {
  readonly status: ContentfulStatusCode
  readonly fields: readonly FieldIssue[] | undefined

  constructor(code: ErrorCode, message: string, fields?: readonly FieldIssue[], options?: ErrorOptions) {
    super(code, message, options)
    this.status = statusOf(code)
    this.fields = fields
  }
}

/** The error body clients see. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly fields?: readonly FieldIssue[] }
}

/** Maps anything thrown to a status and body. Unknown errors are 500s with a generic message. */
export function toHttpError(error: unknown): { status: ContentfulStatusCode; body: ErrorBody; internal: Error | undefined } {
  if (error instanceof TaskEngineError) {
    const status = statusOf(error.code)
    const issues = error instanceof ValidationError ? error.fields : error instanceof HttpError ? error.fields : undefined
    const fields = issues !== undefined && issues.length > 0 ? { fields: issues } : {}
    return { status, body: { error: { code: error.code, message: error.message, ...fields } }, internal: status === 500 ? error : undefined }
  }
  return { status: 500, body: { error: { code: 'ERR_INTERNAL', message: 'internal server error' } }, internal: coerceError(error) }
}

/** Sends an error as JSON. */
export function errorResponse(c: Context, error: unknown, report: (error: Error) => void): Response {
  const { status, body, internal } = toHttpError(error)
  if (internal !== undefined) report(internal)
  return c.json(body, status)
}

export const notFound = (what: string): HttpError => new HttpError('ERR_NOT_FOUND', what)
