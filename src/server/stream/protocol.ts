/**
 * The protocol of the live event stream, `GET /api/stream` (WebSocket, one JSON text message
 * per frame), in types both ends use: the server's session (`session.ts`) reads
 * {@link ClientMessage}s with {@link readClientMessage} and sends {@link ServerMessage}s; the
 * admin UI's script sends the former and reads the latter as `Jsonified<ServerMessage>`.
 *
 * Client → server:
 *
 *   {"type":"subscribe","id":"s1","filter":{},"after":12,"epoch":"…","logsAfter":0}
 *   {"type":"subscribe","id":"b1","bulkId":"…"}
 *   {"type":"unsubscribe","id":"s1"}
 *   {"type":"ping"}
 *
 * Server → client: `hello` once, then answers naming their subscription by the `id` the client
 * chose:
 *
 *   {"type":"hello","epoch":"…","seq":19}
 *   {"type":"subscribed","id":"s1","epoch":"…","seq":21}
 *   {"type":"event","id":"s1","seq":22,"event":{"type":"log","runId":"…",…}}
 *   {"type":"logs","id":"s1","runId":"…","logs":[…]}
 *   {"type":"run","id":"s1","run":{…}}
 *   {"type":"bulk","id":"b1","job":{"id":"…","state":"running","done":500,"skipped":0,"total":1200,…}}
 *   {"type":"gap","id":"s1","epoch":"…","seq":40}
 *   {"type":"unsubscribed","id":"s1"}
 *   {"type":"pong","seq":40}
 *   {"type":"error","id":"s1","message":"…"}
 *
 * A bad message is answered with `error` (with the subscription's `id` when the message named
 * one) and the connection stays open.
 */
import type { RunEvent } from '../../engine/events/run-events.js'
import { describeValue } from '../../errors.js'
import type { BulkJob, Run } from '../../store/types.js'
import type { LogEntry } from '../../task/context.js'

/** What a subscription receives; an empty filter receives every event. */
export interface StreamFilter {
  readonly runId?: string
  readonly task?: string
  readonly poolId?: string
}

// ─── Client → server ─────────────────────────────────────────────────────────

/**
 * Starts a subscription, or replaces the one with the same `id`. With `after` and the `epoch`
 * of the server's `hello`, the server first replays the events after that position, or
 * answers `gap` when it no longer holds them. `logsAfter` (a `runId` filter only) first sends
 * the run's stored log lines after that position, then follows the run in the store.
 */
export interface SubscribeMessage {
  readonly type: 'subscribe'
  /** Names the subscription in every answer: a non-empty string of at most 100 characters. */
  readonly id: string
  /** Absent or `null` receives every event. */
  readonly filter?: StreamFilter | null
  /** The last event position seen (`seq`), to resume after. */
  readonly after?: number
  /** The server's `epoch` that `after` belongs to. */
  readonly epoch?: string
  /** A log position (`LogEntry.seq`) >= 0: send the stored lines after it, then follow the run. */
  readonly logsAfter?: number
  /**
   * Follows a bulk job instead of run events (no `filter`, `after` or `logsAfter` with it): a
   * `bulk` message with the job now, then one each time a batch is saved and when it ends, also
   * for a job worked by another process sharing the store. The caller must be allowed to read
   * the job as `GET /api/runs/bulk/:id` (own-runs callers: only jobs they made).
   */
  readonly bulkId?: string
}

export interface UnsubscribeMessage {
  readonly type: 'unsubscribe'
  readonly id: string
}

export interface PingMessage {
  readonly type: 'ping'
}

export type ClientMessage = SubscribeMessage | UnsubscribeMessage | PingMessage

// ─── Server → client ─────────────────────────────────────────────────────────

/** First message of a connection: the server's numbering (`epoch`) and its newest position. */
export interface HelloMessage {
  readonly type: 'hello'
  readonly epoch: string
  readonly seq: number
}

/** The subscription is live from `seq` on. */
export interface SubscribedMessage {
  readonly type: 'subscribed'
  readonly id: string
  readonly epoch: string
  readonly seq: number
}

/** One run event at its position in the server's stream. */
export interface EventMessage {
  readonly type: 'event'
  readonly id: string
  readonly seq: number
  readonly event: RunEvent
}

/** Stored log lines of the subscription's run: first those after `logsAfter`, then new ones read from the store. */
export interface LogsMessage {
  readonly type: 'logs'
  readonly id: string
  readonly runId: string
  readonly logs: readonly LogEntry[]
}

/** A snapshot of the subscription's run, read from the store, when it changed there. */
export interface RunMessage {
  readonly type: 'run'
  readonly id: string
  readonly run: Run
}

/**
 * A followed bulk job as stored (see {@link SubscribeMessage.bulkId}): sent on subscribing, after
 * each saved batch, and when it ends (`state` other than `running`: the last one).
 */
export interface BulkMessage {
  readonly type: 'bulk'
  readonly id: string
  readonly job: BulkJob
}

/** Events after `after` cannot be replayed (the server restarted, or they are too old): read the state again. */
export interface GapMessage {
  readonly type: 'gap'
  readonly id: string
  readonly epoch: string
  readonly seq: number
}

export interface UnsubscribedMessage {
  readonly type: 'unsubscribed'
  readonly id: string
}

export interface PongMessage {
  readonly type: 'pong'
  readonly seq: number
}

/** A message could not be read or done; `id` names the subscription when the message named one. */
export interface ErrorMessage {
  readonly type: 'error'
  readonly id?: string
  readonly message: string
}

export type ServerMessage =
  | HelloMessage
  | SubscribedMessage
  | EventMessage
  | LogsMessage
  | RunMessage
  | BulkMessage
  | GapMessage
  | UnsubscribedMessage
  | PongMessage
  | ErrorMessage

/** Close code for a client that fell too far behind (more bytes waiting than the server allows): reconnect and resume. */
export const SLOW_CONSUMER_CLOSE = 4008

/** The longest client message read, in characters. */
export const MAX_CLIENT_MESSAGE = 64 * 1024
/** The longest subscription id. */
const MAX_ID = 100

/** A subscribe message as read: its filter checked and never absent. */
export type ReadSubscribe = Omit<SubscribeMessage, 'filter'> & { readonly filter: StreamFilter }

/**
 * Reads one message from a client: the message, or the `error` answer saying what is wrong
 * with it. `admit` is asked about a subscribe's `id` before the rest of the message is read,
 * and says why one more subscription does not fit (`undefined`: it fits).
 *
 * @example
 * const message = readClientMessage(frame, (id) => (tooMany(id) ? 'at most 100 subscriptions per connection' : undefined))
 * if (message.type === 'error') send(message)
 */
export function readClientMessage(data: unknown, admit: (id: string) => string | undefined = () => undefined): ReadSubscribe | UnsubscribeMessage | PingMessage | ErrorMessage {
  if (typeof data !== 'string') return error('messages must be JSON text')
  if (data.length > MAX_CLIENT_MESSAGE) return error('message too large (64 KiB at most)')
  let message: unknown
  try {
    message = JSON.parse(data)
  } catch (cause) {
    return error(`malformed JSON: ${(cause as Error).message}`)
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return error(`expected a JSON object, got ${describeValue(message)}`)
  const m = message as Record<string, unknown>
  switch (m.type) {
    case 'ping':
      return { type: 'ping' }
    case 'unsubscribe':
      return typeof m.id === 'string' ? { type: 'unsubscribe', id: m.id } : error('unsubscribe: expected an "id"')
    case 'subscribe':
      return readSubscribe(m, admit)
    default:
      return error(`unknown message type ${describeValue(m.type)} (expected subscribe, unsubscribe or ping)`)
  }
}

function readSubscribe(m: Record<string, unknown>, admit: (id: string) => string | undefined): ReadSubscribe | ErrorMessage {
  const id = m.id
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID) return error(`subscribe: "id" must be a non-empty string, got ${describeValue(id)}`)
  const refused = admit(id)
  if (refused !== undefined) return error(`subscribe: ${refused}`, id)
  if (m.bulkId !== undefined) return readBulkSubscribe(m, id)
  const filter = readFilter(m.filter)
  if (typeof filter === 'string') return error(`subscribe: ${filter}`, id)
  const after = m.after
  if (after !== undefined && !isPosition(after)) return error(`subscribe: "after" must be an event position, got ${describeValue(after)}`, id)
  const logsAfter = m.logsAfter
  if (logsAfter !== undefined && (filter.runId === undefined || !isPosition(logsAfter))) return error('subscribe: "logsAfter" needs a runId filter and a log position >= 0', id)
  // An epoch that is not text never matches the server's, so resuming with it is a gap.
  const epoch = typeof m.epoch === 'string' ? m.epoch : undefined
  return { type: 'subscribe', id, filter, ...(after === undefined ? {} : { after }), ...(epoch === undefined ? {} : { epoch }), ...(logsAfter === undefined ? {} : { logsAfter }) }
}

/** A subscription to a bulk job: `bulkId` alone (besides `type` and `id`). */
function readBulkSubscribe(m: Record<string, unknown>, id: string): ReadSubscribe | ErrorMessage {
  const bulkId = m.bulkId
  if (typeof bulkId !== 'string' || bulkId === '' || bulkId.length > MAX_ID) return error(`subscribe: "bulkId" must be a non-empty string of at most ${MAX_ID} characters, got ${describeValue(bulkId)}`, id)
  for (const key of ['filter', 'after', 'epoch', 'logsAfter']) if (m[key] !== undefined) return error(`subscribe: "${key}" does not go with "bulkId" (a bulk job's subscription takes no run filter or position)`, id)
  return { type: 'subscribe', id, filter: {}, bulkId }
}

/** A filter, or what is wrong with it. */
function readFilter(value: unknown): StreamFilter | string {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) return `"filter" must be an object, got ${describeValue(value)}`
  const out: { runId?: string; task?: string; poolId?: string } = {}
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key !== 'runId' && key !== 'task' && key !== 'poolId') return `unknown filter "${key}" (expected runId, task or poolId)`
    if (typeof v !== 'string' || v === '') return `filter.${key} must be a non-empty string, got ${describeValue(v)}`
    out[key] = v
  }
  return out
}

function isPosition(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function error(message: string, id?: string): ErrorMessage {
  return { type: 'error', ...(id === undefined ? {} : { id }), message }
}

/** Whether an event is one a filter receives. */
export function matches(filter: StreamFilter, event: RunEvent): boolean {
  if (filter.runId !== undefined && filter.runId !== event.runId) return false
  if (filter.task !== undefined && filter.task !== event.task) return false
  if (filter.poolId !== undefined && filter.poolId !== event.poolId) return false
  return true
}

/**
 * An {@link EventMessage} as text, around the event serialized once for every client: the same
 * text as `JSON.stringify({ type: 'event', id, seq, event })`.
 */
export function eventMessageText(id: string, seq: number, eventJson: string): string {
  return `{"type":"event","id":${JSON.stringify(id)},"seq":${seq},"event":${eventJson}}`
}
