/**
 * Task requests as they arrive over AMQP: `{ type, title, userId, params, options? }` (the queued
 * task system's message; `type` is the task key, `title` the run's label, `userId` its creator,
 * `params` its arguments, `options` a subset of the enqueue options) in a JSON body, identified by
 * the message's `messageId`, else its `correlationId`. Parsing checks the shape only; the task's
 * fields (and its own checks) are applied by `engine.enqueue`.
 */
import type { EnqueueOptions } from '../engine/durable/enqueue.js'
import { describeValue, type FieldIssue } from '../errors.js'
import { unknownKeyIssues } from '../options.js'

/** The keys of a request message. */
export const REQUEST_KEYS = ['type', 'title', 'userId', 'params', 'options'] as const

/**
 * The enqueue options a request may give (`label`, `createdBy` and `requestId` come from the
 * message itself; pool and schedule wiring stay internal; debounce and throttle do not go with
 * a request id). Times (`runAt`, `notAfter`) are ISO 8601 text or epoch ms.
 */
export const REQUEST_OPTION_KEYS = ['queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'timeoutMs', 'uniqueKey', 'notAfter', 'category', 'tags', 'groupKey'] as const

/** A request the bridge can hand to `engine.enqueue`. */
export interface TaskRequest {
  /** The task key (`type`). */
  readonly task: string
  /** The arguments (`params`), not yet checked against the task's fields. */
  readonly args: Record<string, unknown>
  /** The enqueue options: the message's `options`, with `label`, `createdBy` and `requestId`. */
  readonly options: EnqueueOptions
}

/** Why a message is not a request, as it goes to the dead-letter exchange and into the reply. */
export interface RequestFailure {
  /** A stable code: `ERR_MALFORMED_JSON` (not JSON), `ERR_VALIDATION` (no message id, not the shape, bad arguments or options), `ERR_NOT_FOUND` (unknown task), `ERR_CONFLICT` (the id names a run of another task). */
  readonly code: string
  /** The whole sentence. */
  readonly message: string
  /** Each problem, keyed by what it is about (`params.count`, `options.priority`), when known. */
  readonly issues: readonly FieldIssue[]
}

/** The parsed request, or why there is none. */
export type ParsedRequest = { readonly ok: true; readonly request: TaskRequest; readonly requestId: string } | { readonly ok: false; readonly failure: RequestFailure }

/** The message properties parsing reads. */
export interface RequestProperties {
  readonly messageId?: unknown
  readonly correlationId?: unknown
}

/** The client's id of a message: its `messageId`, else its `correlationId`; `undefined` when it has neither. */
export function requestIdOf(properties: RequestProperties): string | undefined {
  for (const id of [properties.messageId, properties.correlationId]) if (typeof id === 'string' && id !== '') return id
  return undefined
}

/**
 * Parses a request message's body (every problem at once). A message without an id is refused
 * first: without one a redelivery could not be told from a new request.
 *
 * @example
 * parseTaskRequest(Buffer.from('{"type":"backup","params":{"format":"tar"}}'), { messageId: 'm-1' })
 * // { ok: true, requestId: 'm-1', request: { task: 'backup', args: { format: 'tar' }, options: { requestId: 'm-1' } } }
 */
export function parseTaskRequest(content: Buffer, properties: RequestProperties): ParsedRequest {
  const requestId = requestIdOf(properties)
  if (requestId === undefined) {
    return failed('ERR_VALIDATION', 'the message has no id: give it a messageId (or a correlationId), so that a redelivery cannot make a second run')
  }
  let body: unknown
  try {
    body = JSON.parse(content.toString('utf8'))
  } catch (error) {
    return failed('ERR_MALFORMED_JSON', `the body is not JSON: ${(error as Error).message}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return failed('ERR_VALIDATION', `the body must be an object { type, title, userId, params, options }, got ${describeValue(body)}`)
  }
  const message = body as Record<string, unknown>
  const issues = unknownKeyIssues(message, REQUEST_KEYS, '', 'key')
  const bad = (key: string, expected: string, value: unknown): void => {
    issues.push({ key, expected, received: describeValue(value), message: `${key}: expected ${expected}, got ${describeValue(value)}` })
  }
  const { type, title, userId, params, options } = message
  if (typeof type !== 'string' || type === '') bad('type', 'a task key', type)
  if (title !== undefined && title !== null && (typeof title !== 'string' || title === '')) bad('title', 'a non-empty string', title)
  if (userId !== undefined && userId !== null && (typeof userId !== 'string' || userId === '')) bad('userId', 'a non-empty string', userId)
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) bad('params', 'an object of task arguments', params)
  const enqueue = requestOptions(options, bad, issues)
  if (issues.length > 0) return failed('ERR_VALIDATION', `invalid request: ${issues.map((i) => i.message).join('; ')}`, issues)
  return {
    ok: true,
    requestId,
    request: {
      task: type as string,
      args: (params ?? {}) as Record<string, unknown>,
      options: {
        ...enqueue,
        ...(typeof title === 'string' ? { label: title } : {}),
        ...(typeof userId === 'string' ? { createdBy: userId } : {}),
        requestId,
      },
    },
  }
}

/** The enqueue options of a message's `options` (times as Dates); problems go to `issues`. */
function requestOptions(options: unknown, bad: (key: string, expected: string, value: unknown) => void, issues: FieldIssue[]): EnqueueOptions {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    bad('options', 'an object of enqueue options', options)
    return {}
  }
  issues.push(...unknownKeyIssues(options, REQUEST_OPTION_KEYS, 'options.'))
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (!(REQUEST_OPTION_KEYS as readonly string[]).includes(key) || value === undefined) continue
    if ((key === 'runAt' || key === 'notAfter') && typeof value === 'string') {
      const time = new Date(value)
      if (Number.isNaN(time.getTime())) bad(`options.${key}`, 'an ISO 8601 time or epoch ms', value)
      else out[key] = time
    } else out[key] = value
  }
  // The engine checks each value again (and names it `options.<key>`) when the request is enqueued.
  return out
}

function failed(code: string, message: string, issues: readonly FieldIssue[] = []): ParsedRequest {
  return { ok: false, failure: { code, message, issues } }
}
