/**
 * The error catalog. Every error the engine raises on purpose is one of these classes and
 * carries a stable `code`, so callers (and the HTTP API) can branch on it without parsing
 * messages. Handlers may throw {@link UnrecoverableError} or {@link RetryLaterError} to steer
 * retries, and {@link CancelledError} to end a run as cancelled.
 */

/**
 * Every stable error code, with the HTTP status the API answers it with (`null` for the codes a
 * run ends with, which are data, not answers) and what it means. Run errors (`RunError.code`)
 * use the run codes; a handler's own error keeps its own string `code`, else `ERR_HANDLER`. The
 * HTTP API answers `{ error: { code, message, fields? } }`.
 */
export const ERROR_CATALOG = {
  // Input and definitions.
  ERR_VALIDATION: { status: 400, meaning: 'input did not match what was expected; `fields` lists every problem' },
  ERR_TASK_DEFINITION: { status: 400, meaning: 'a task or schedule definition is malformed' },
  ERR_MALFORMED_JSON: { status: 400, meaning: 'a request body is not valid JSON (or not UTF-8)' },
  ERR_BODY_CONSUMED: { status: 500, meaning: 'a host application read the request body before taskengine got it' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, meaning: 'a request body is larger than maxBodyBytes' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'a request body is of a content type the route does not take' },
  ERR_NOT_ACCEPTABLE: { status: 406, meaning: 'no output format the request accepts' },
  // Who may do what.
  ERR_UNAUTHENTICATED: { status: 401, meaning: 'credentials are required' },
  ERR_FORBIDDEN: { status: 403, meaning: 'the caller may not do this' },
  ERR_HOST_NOT_ALLOWED: { status: 403, meaning: 'the request names a host this server does not answer (DNS rebinding guard)' },
  ERR_ORIGIN_NOT_ALLOWED: { status: 403, meaning: 'a browser page of another origin tried to change something' },
  ERR_TICKET: { status: 403, meaning: 'a start ticket of the admin UI is missing, used or expired (the live task socket closes with 4003)' },
  ERR_CONFIRMATION_REQUIRED: { status: 403, meaning: 'a dangerous task was started without confirmation (the live task socket closes with 4003)' },
  // State.
  ERR_NOT_FOUND: { status: 404, meaning: 'a task, run, schedule or other named thing does not exist' },
  ERR_CONFLICT: { status: 409, meaning: 'the request conflicts with the current state' },
  ERR_INTERNAL: { status: 500, meaning: 'an unexpected error on the server (logged there, never shown)' },
  // How runs end.
  ERR_HANDLER: { status: null, meaning: 'a handler threw an error without a code of its own' },
  ERR_CANCELLED: { status: null, meaning: 'the run was cancelled' },
  ERR_TIMEOUT: { status: null, meaning: 'the attempt ran past its timeoutMs' },
  ERR_UNRECOVERABLE: { status: null, meaning: 'the handler asked not to be retried' },
  ERR_RETRY_LATER: { status: null, meaning: 'the handler asked to be tried again later (the attempt does not count)' },
  ERR_SHUTDOWN: { status: null, meaning: 'the engine or worker shut down during the attempt (after its grace period)' },
  ERR_LEASE_LOST: { status: null, meaning: 'the worker lost the run to a rescue, retry or delete elsewhere; it writes nothing more' },
  ERR_WORKER_LOST: { status: null, meaning: 'the worker holding the run died or hung (its lease expired)' },
  ERR_EXPIRED: { status: null, meaning: 'the run did not start before its notAfter time' },
  ERR_NO_WORKER: { status: null, meaning: 'no live worker served the run\'s task on its queue for unservedAfterMs while it was due (it never started)' },
} as const satisfies Readonly<Record<string, { readonly status: number | null; readonly meaning: string }>>

/** Stable codes of the engine's errors (see {@link ERROR_CATALOG}). */
export type ErrorCode = keyof typeof ERROR_CATALOG

/**
 * A run error the engine records itself rather than catching it from a handler (a lost worker,
 * an expired or cancelled run, a stop): plain data whose code is in the catalog.
 */
export function recordedError(code: ErrorCode, name: string, message: string): { readonly message: string; readonly code: ErrorCode; readonly name: string } {
  return { message, code, name }
}

/** Base class of every error the engine raises deliberately. */
export class TaskEngineError extends Error {
  /** Stable machine-readable code, e.g. `ERR_VALIDATION`. */
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** One problem with one input value: which key, what was expected, what was given. */
export interface FieldIssue {
  /** The field key (for batches: `[index].key`). */
  key: string
  /** What the field accepts, e.g. `int`, `one of "sql", "tar"`. */
  expected: string
  /** A short rendering of the value that was given (`"abc" (string)`), or `undefined` when missing. */
  received: string | undefined
  /** The whole sentence, e.g. `count: expected int, got "abc" (string)`. */
  message: string
  /**
   * `'validate'` when the task's own `validate` reported it (a rule across fields): `expected`
   * is then the task's sentence, and `key` is `''` for a rule about the arguments as a whole.
   * Absent for the fields' own checks.
   */
  origin?: 'validate'
}

/** Input did not match a task's fields (or an option was invalid). Lists every bad field at once. */
export class ValidationError extends TaskEngineError {
  /** Every problem found, in field order. */
  readonly fields: readonly FieldIssue[]

  constructor(message: string, fields: readonly FieldIssue[] = [], options?: ErrorOptions) {
    super('ERR_VALIDATION', fields.length > 0 ? `${message}: ${fields.map((f) => f.message).join('; ')}` : message, options)
    this.fields = fields
  }
}

/** A task definition is malformed (bad key, bad field, bad default). Raised by `defineTask`/`register`. */
export class TaskDefinitionError extends TaskEngineError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TASK_DEFINITION', message, options)
  }
}

/** A task, run or other named thing does not exist. */
export class NotFoundError extends TaskEngineError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_NOT_FOUND', message, options)
  }
}

/** The request conflicts with current state: a duplicate key, an invalid status transition. */
export class ConflictError extends TaskEngineError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_CONFLICT', message, options)
  }
}

/** The caller may not do this. */
export class ForbiddenError extends TaskEngineError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_FORBIDDEN', message, options)
  }
}

/**
 * The run was cancelled. The engine uses it as the abort reason of a cancelled run's signal;
 * a handler may throw it to end its own run as `cancelled`.
 */
export class CancelledError extends TaskEngineError {
  constructor(message = 'cancelled', options?: ErrorOptions) {
    super('ERR_CANCELLED', message, options)
  }
}

/** Sets the code of an error whose class extends another's (the base constructor sets the base's code). */
function recode(error: TaskEngineError, code: ErrorCode): void {
  ;(error as { code: ErrorCode }).code = code
}

/**
 * The engine is shutting down: the abort reason of a run's signal when `engine.close()` (or, for
 * durable runs, `engine.stop()`) ends it after the grace period. An in-process run ends
 * `cancelled`; a durable run's attempt counts: it goes back to `pending` while attempts are left,
 * else it ends `failed` with `ERR_SHUTDOWN`. Its code is `ERR_SHUTDOWN`; it is a `CancelledError`,
 * so a handler that checks for cancellation sees it as one.
 */
export class ShutdownError extends CancelledError {
  constructor(message = 'shutting down', options?: ErrorOptions) {
    super(message, options)
    recode(this, 'ERR_SHUTDOWN')
  }
}

/**
 * The worker lost a durable run it was executing (its lease expired and the run was rescued,
 * retried or deleted elsewhere): the abort reason of the handler's signal. Nothing the handler
 * writes afterwards is stored. Its code is `ERR_LEASE_LOST`; it is a `CancelledError`.
 */
export class LeaseLostError extends CancelledError {
  constructor(message = 'lease lost: the run was rescued, retried or deleted elsewhere', options?: ErrorOptions) {
    super(message, options)
    recode(this, 'ERR_LEASE_LOST')
  }
}

/** The run exceeded its time limit. The abort reason of a timed-out run's signal. */
export class TimeoutError extends TaskEngineError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number

  constructor(timeoutMs: number, options?: ErrorOptions) {
    super('ERR_TIMEOUT', `timed out after ${timeoutMs} ms`, options)
    this.timeoutMs = timeoutMs
  }
}

/** Thrown by a handler: fail now and do not retry, whatever attempts are left. */
export class UnrecoverableError extends TaskEngineError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_UNRECOVERABLE', message, options)
  }
}

/** Thrown by a handler: this attempt did not finish; try again after `delayMs`. */
export class RetryLaterError extends TaskEngineError {
  /** How long to wait before the next attempt, in milliseconds. */
  readonly delayMs: number

  constructor(delayMs: number, message = `retry requested in ${delayMs} ms`, options?: ErrorOptions) {
    super('ERR_RETRY_LATER', message, options)
    this.delayMs = delayMs
  }
}

/**
 * Turns anything thrown into an `Error`. Non-errors (strings, objects, `undefined`) are wrapped
 * with the original kept as `cause`, so nothing thrown is ever lost or mistaken for success.
 */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  let message: string
  if (typeof thrown === 'string') message = thrown
  else if (thrown === undefined || thrown === null) message = `non-error thrown: ${String(thrown)}`
  else {
    try {
      message = `non-error thrown: ${safeJson(thrown)}`
    } catch {
      message = `non-error thrown: ${Object.prototype.toString.call(thrown)}`
    }
  }
  return new Error(message, { cause: thrown })
}

/** Renders a value for an error message: strings quoted, others with their type, long ones cut. */
export function describeValue(value: unknown): string {
  let shown: string
  let kind: string = typeof value
  if (value === null) {
    shown = 'null'
    kind = 'null'
  } else if (Array.isArray(value)) {
    kind = 'array'
    shown = safeJson(value)
  } else if (value instanceof Date) {
    kind = 'Date'
    shown = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  } else if (typeof value === 'string') shown = JSON.stringify(value)
  else if (typeof value === 'object') shown = safeJson(value)
  else if (typeof value === 'function') shown = `[function ${value.name || 'anonymous'}]`
  else if (typeof value === 'symbol') shown = value.toString()
  else shown = `${value as number | bigint | boolean | undefined}`
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`
  return `${shown} (${kind})`
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
