/**
 * Egress: every run event this engine sees (its own, and with a store that relays them, those of
 * other processes) is published to the topic exchange on a confirm channel. The engine's listener
 * only appends to a buffer (workers never wait on the broker); a pump publishes from it with up
 * to {@link MAX_UNCONFIRMED} messages awaiting their confirm. When the broker is away, events wait
 * in the buffer up to `bufferLimit`; past it the **oldest** are dropped (the latest state of a run
 * matters more than its history), counted and logged. Messages unconfirmed when a connection is
 * lost go back to the front of the buffer in their order, so the events of one run arrive in
 * order (a message may then arrive twice: `seq` tells).
 */
import type { ConfirmChannel } from 'amqplib'
import type { RunEvent } from '../engine/events/run-events.js'
import type { BrokerSession } from './connection.js'
import { eventBody, routingKeyOf } from './event-message.js'

/** Messages published and not yet confirmed, at most. */
export const MAX_UNCONFIRMED = 1_000

interface Outgoing {
  readonly event: RunEvent
  readonly seq: number
}

/** What egress counts (see `AmqpBridgeStats`). */
export interface EgressCounters {
  published: number
  dropped: number
}

/** The publishing side of the bridge. */
export class Egress {
  readonly #exchange: string
  readonly #limit: number
  readonly #log: (message: string) => void
  readonly counters: EgressCounters = { published: 0, dropped: 0 }
  /** Waiting events: `#queue[#head …]`. */
  #queue: Outgoing[] = []
  #head = 0
  /** Published on the current session, awaiting their confirm, by seq (in publish order). */
  readonly #unconfirmed = new Map<number, Outgoing>()
  #seq = 0
  #session: BrokerSession | undefined
  #waitingForDrain = false
  #droppedSinceLog = 0
  #pumpScheduled = false
  #unencodableLogged = false
  #drained: (() => void)[] = []

  constructor(exchange: string, bufferLimit: number, log: (message: string) => void) {
    this.#exchange = exchange
    this.#limit = bufferLimit
    this.#log = log
  }

  /** Events waiting to be published (not counting those awaiting a confirm). */
  get buffered(): number {
    return this.#queue.length - this.#head
  }

  /** The engine's listener: appends, drops the oldest past the limit, never blocks. */
  readonly push = (event: RunEvent): void => {
    if (this.buffered >= this.#limit) {
      this.#head++
      this.counters.dropped++
      if (this.#droppedSinceLog++ === 0) this.#log(`event buffer full (${this.#limit}): dropping the oldest run events until the broker takes them again`)
    }
    this.#queue.push({ event, seq: ++this.#seq })
    // Published a moment later, not inside the engine's emit (a ctx.log or ctx.progress call):
    // one pump at a time takes whatever piled up meanwhile.
    if (!this.#pumpScheduled && this.#session !== undefined) {
      this.#pumpScheduled = true
      queueMicrotask(() => {
        this.#pumpScheduled = false
        if (!this.#waitingForDrain && this.#unconfirmed.size < MAX_UNCONFIRMED) this.#pump()
      })
    }
  }

  /** Publishes on a new session. */
  attach(session: BrokerSession): void {
    this.#session = session
    this.#waitingForDrain = false
    session.publisher.on('drain', () => {
      if (this.#session !== session) return
      this.#waitingForDrain = false
      this.#pump()
    })
    if (this.#droppedSinceLog > 0) this.#log(`${this.#droppedSinceLog} run events were dropped while the broker was away`)
    this.#droppedSinceLog = 0
    this.#pump()
  }

  /** The session ended: what awaited its confirm goes back to the front, in order. */
  lost(session: BrokerSession): void {
    if (this.#session !== session) return
    this.#session = undefined
    if (this.#unconfirmed.size === 0) return
    const back = [...this.#unconfirmed.values()]
    this.#unconfirmed.clear()
    this.#queue = [...back, ...this.#queue.slice(this.#head)]
    this.#head = 0
    // Over the limit now? The oldest go, as with any overflow.
    while (this.buffered > this.#limit) {
      this.#head++
      this.counters.dropped++
    }
  }

  /** Resolves when every event so far is confirmed, or after `timeoutMs` (then what is left is given up). */
  async flush(timeoutMs: number): Promise<void> {
    if (this.buffered === 0 && this.#unconfirmed.size === 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.#drained.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
    const left = this.buffered + this.#unconfirmed.size
    if (left > 0) this.#log(`closing with ${left} run events not confirmed by the broker: given up`)
  }

  #pump(): void {
    const session = this.#session
    if (session === undefined) return
    const channel = session.publisher
    while (this.#head < this.#queue.length && this.#unconfirmed.size < MAX_UNCONFIRMED && !this.#waitingForDrain) {
      const item = this.#queue[this.#head++]!
      let body: Buffer
      try {
        body = eventBody(item.event, item.seq)
      } catch (error) {
        // An event that cannot be written as JSON is dropped, never retried: it would stop every later one.
        this.counters.dropped++
        if (!this.#unencodableLogged) this.#log(`run event ${item.event.type} of run ${item.event.runId} cannot be written as JSON (${(error as Error).message}): dropped (logged once)`)
        this.#unencodableLogged = true
        continue
      }
      this.#unconfirmed.set(item.seq, item)
      if (!this.#publish(channel, session, item, body)) this.#waitingForDrain = true
    }
    if (this.buffered === 0 && this.#unconfirmed.size === 0) for (const wake of this.#drained.splice(0)) wake()
    // Reclaim the consumed front now and then (cheaper than shifting each item).
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }

  /** Publishes one event; `false` when the channel's write buffer is full (wait for `drain`). */
  #publish(channel: ConfirmChannel, session: BrokerSession, item: Outgoing, body: Buffer): boolean {
    const { event, seq } = item
    try {
      return channel.publish(this.#exchange, routingKeyOf(event), body, { contentType: 'application/json', persistent: true, timestamp: Math.floor(event.time.getTime() / 1000), type: event.type, messageId: `${event.runId}:${seq}` }, (error: unknown) => this.#confirmed(session, seq, error))
    } catch {
      // The channel closed under us: the session is ending, and `lost` puts the item back.
      return false
    }
  }

  #confirmed(session: BrokerSession, seq: number, error: unknown): void {
    // A callback of an older session: `lost` already put its items back.
    if (this.#session !== session) return
    const item = this.#unconfirmed.get(seq)
    if (item === undefined) return
    // The channel closed with the message unconfirmed ("channel closed"): the session is ending,
    // and `lost` puts the message back in its place. Only a nack is the broker's refusal.
    if (error !== null && error !== undefined && !(error instanceof Error && error.message === 'message nacked')) return
    this.#unconfirmed.delete(seq)
    if (error === null || error === undefined) this.counters.published++
    else {
      // Nacked: the broker could not take it (an internal error there). Counted as dropped.
      this.counters.dropped++
      this.#log(`the broker refused run event ${item.event.type} of run ${item.event.runId}: dropped`)
    }
    if (this.buffered === 0 && this.#unconfirmed.size === 0) for (const wake of this.#drained.splice(0)) wake()
    else this.#pump()
  }
}
