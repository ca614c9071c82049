/**
 * The page's one connection to the live event stream (`/api/stream`, see
 * `../../stream/protocol.ts`), shared by every feature that follows runs: it subscribes each
 * with its own id, reconnects with backoff when the connection drops, and resumes each
 * subscription after the last event it received (or hears `gap` and reads state again).
 */
import type { RunEvent } from '../../../engine/events/run-events.js'
import type { BulkJob, Run, RunState } from '../../../store/types.js'
import type { LogEntry } from '../../../task/context.js'
import type { Jsonified } from '../../jsonified.js'
import type { ClientMessage, SLOW_CONSUMER_CLOSE, ServerMessage, StreamFilter, SubscribeMessage } from '../../stream/protocol.js'
import { socketUrl } from './dom.js'
import type { LiveState } from './live-state.js'

/** A run event as the stream delivers it (times as ISO 8601 text). */
export type StreamEvent = Jsonified<RunEvent>

/** The status a run has after an event of this type. */
export const STATUS_AFTER: Readonly<Partial<Record<StreamEvent['type'], RunState>>> = {
  started: 'running',
  resumed: 'running',
  waiting: 'waiting',
  retrying: 'pending',
  retried: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
}

/** What a feature wants from the stream. */
export interface Subscription {
  readonly filter: StreamFilter
  /** For a run subscription that follows the store: the log position to send lines after. */
  readonly logsAfter?: () => number
  onEvent(event: StreamEvent): void
  /** Stored log lines of the run (with `logsAfter`). */
  onLogs?(logs: Jsonified<LogEntry>[]): void
  /** A snapshot of the run from the store, when it changed there (with `logsAfter`). */
  onRun?(run: Jsonified<Run>): void
  /** Events were missed (the server restarted, or this page fell behind): read the state again. */
  onGap?(): void
  /** Follows this bulk job instead of run events (`filter` is then not sent): see {@link onBulk}. */
  readonly bulkId?: string
  /** The followed bulk job: as it is on (re)subscribing, after each saved batch, and when it ends. */
  onBulk?(job: Jsonified<BulkJob>): void
  /** The server refused the subscription (`message` says why). */
  onError?(message: string): void
}

/** The server closes a client that fell too far behind with this code; it reconnects and resumes. */
const SLOW_CONSUMER: typeof SLOW_CONSUMER_CLOSE = 4008
/** The first reconnect waits this long, doubling up to {@link MAX_DELAY_MS}. */
const FIRST_DELAY_MS = 500
const MAX_DELAY_MS = 10_000

interface Entry {
  readonly sub: Subscription
  /** The last event position received, to resume after. */
  lastSeq: number | undefined
}

/** One connection with resumable subscriptions. Connects on the first {@link LiveStream.add}. */
export class LiveStream {
  readonly #url: string
  readonly #show: (state: LiveState, text: string) => void
  readonly #subs = new Map<string, Entry>()
  #socket: WebSocket | undefined
  /** The numbering of the server the subscriptions' positions belong to. */
  #epoch: string | undefined
  #delay = FIRST_DELAY_MS
  #opened = false
  #up = false

  /** `show` puts the connection's state in the header's indicator. */
  constructor(base: string, show: (state: LiveState, text: string) => void) {
    this.#url = socketUrl(`${base}/api/stream`)
    this.#show = show
  }

  /** Whether the stream is connected now (the indicator may be showing another socket). */
  get up(): boolean {
    return this.#up
  }

  add(id: string, sub: Subscription): void {
    const entry: Entry = { sub, lastSeq: undefined }
    this.#subs.set(id, entry)
    if (this.#socket === undefined) this.#connect()
    else this.#subscribe(id, entry)
  }

  /** Ends a subscription: the server stops sending it, and a reconnect does not subscribe it again. */
  remove(id: string): void {
    if (this.#subs.delete(id)) this.#send({ type: 'unsubscribe', id })
  }

  #send(message: ClientMessage): void {
    if (this.#socket !== undefined && this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message))
  }

  #subscribe(id: string, { sub, lastSeq }: Entry): void {
    if (sub.bulkId !== undefined) return this.#send({ type: 'subscribe', id, bulkId: sub.bulkId })
    const resume = lastSeq !== undefined && this.#epoch !== undefined ? { after: lastSeq, epoch: this.#epoch } : {}
    const message: SubscribeMessage = { type: 'subscribe', id, filter: sub.filter, ...resume, ...(sub.logsAfter === undefined ? {} : { logsAfter: sub.logsAfter() }) }
    this.#send(message)
  }

  #connect(): void {
    const socket = new WebSocket(this.#url)
    this.#socket = socket
    socket.addEventListener('open', () => {
      this.#opened = true
      this.#up = true
      this.#delay = FIRST_DELAY_MS
      this.#show('live', 'live')
    })
    socket.addEventListener('message', (message: MessageEvent<string>) => {
      let data: Jsonified<ServerMessage>
      try {
        data = JSON.parse(message.data) as Jsonified<ServerMessage>
      } catch {
        return
      }
      this.#receive(data)
    })
    socket.addEventListener('close', (event) => {
      this.#up = false
      this.#show('stale', event.code === SLOW_CONSUMER ? 'behind — reconnecting' : this.#opened ? 'reconnecting…' : 'offline')
      setTimeout(() => this.#connect(), this.#delay)
      this.#delay = Math.min(MAX_DELAY_MS, this.#delay * 2)
    })
  }

  #receive(data: Jsonified<ServerMessage>): void {
    if (data.type === 'hello') {
      // Resume with the positions of the server we were connected to; a new server (another
      // epoch) answers `gap`.
      for (const [id, entry] of this.#subs) this.#subscribe(id, entry)
      this.#epoch = data.epoch
      return
    }
    if (data.type === 'pong') return
    const entry = data.id === undefined ? undefined : this.#subs.get(data.id)
    if (entry === undefined) return
    const { sub } = entry
    switch (data.type) {
      case 'event':
        entry.lastSeq = data.seq
        return sub.onEvent(data.event)
      case 'logs':
        return sub.onLogs?.(data.logs)
      case 'run':
        return sub.onRun?.(data.run)
      case 'bulk':
        return sub.onBulk?.(data.job)
      case 'gap':
        return sub.onGap?.()
      case 'subscribed':
        if (entry.lastSeq === undefined) entry.lastSeq = data.seq
        return
      case 'error':
        return sub.onError?.(data.message)
      case 'unsubscribed':
        return
    }
  }
}
