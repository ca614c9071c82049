/**
 * One JSON error shape for the whole API: `{ error: { code, message, fields? } }`, with the
 * status that fits. Stack traces never leave the server.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { TaskEngineError, ValidationError, coerceError, type FieldIssue } from '../errors.js'

/** An error with an HTTP status, raised by the server itself (auth, bodies, routing). */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode
  readonly code: string
  readonly fields: readonly FieldIssue[] | undefined

  constructor(status: ContentfulStatusCode, code: string, message: string, fields?: readonly FieldIssue[]) {
    super(message)
    this.status = status
    this.code = code
    this.fields = fields
  }
}

/** The error body clients see. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly fields?: readonly FieldIssue[] }
}

const STATUS_BY_CODE: Readonly<Record<string, ContentfulStatusCode>> = {
  ERR_VALIDATION: 400,
  ERR_TASK_DEFINITION: 400,
  ERR_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  ERR_FORBIDDEN: 403,
}

/** Maps anything thrown to a status and body. Unknown errors are 500s with a generic message. */
export function toHttpError(error: unknown): { status: ContentfulStatusCode; body: ErrorBody; internal: Error | undefined } {
  if (error instanceof HttpError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, ...(error.fields === undefined ? {} : { fields: error.fields }) } }, internal: undefined }
  }
  if (error instanceof TaskEngineError) {
    const status = STATUS_BY_CODE[error.code] ?? 500
    const fields = error instanceof ValidationError && error.fields.length > 0 ? { fields: error.fields } : {}
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

export const notFound = (what: string): HttpError => new HttpError(404, 'ERR_NOT_FOUND', what)
