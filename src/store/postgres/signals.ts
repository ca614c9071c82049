/**
 * The signal bus over LISTEN/NOTIFY. Each kind of signal travels on a channel after the schema's
 * name: run events, which can be many, on `<schema>_events`, so that only live views listen to
 * them; control messages (cancels, observers arriving, settings), which every worker hears, on
 * `<schema>_control`. One held connection LISTENs per channel while anyone receives on it.
 * Payloads stay under 8,000 bytes: big signals are split, an event too large on its own is left out.
 */
import type { StoreSignal } from '../contract/signals.js'
import type { PostgresConnection } from './connection.js'
import { ChannelListener } from './listener.js'

/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7800

/** The channel (after the schema name) a kind of signal travels on. */
type SignalChannel = 'events' | 'control'

function signalChannel(type: StoreSignal['type']): SignalChannel {
  return type === 'events' ? 'events' : 'control'
}

/** The signal channels of one store: sending, and receivers by kind. */
export class SignalChannels {
  readonly #conn: PostgresConnection
  /** Listeners by channel, each with the receivers of its kinds. */
  readonly #channels = new Map<SignalChannel, { listener: ChannelListener; receivers: Set<(message: StoreSignal) => void> }>()

  constructor(conn: PostgresConnection) {
    this.#conn = conn
  }

  /** NOTIFYs every process sharing the schema, this one included. */
  async signal(message: StoreSignal): Promise<void> {
    const db = await this.#conn.db()
    const channel = `${this.#conn.schema}_${signalChannel(message.type)}`
    for (const payload of signalPayloads(message)) await this.#conn.query(db, 'SELECT pg_notify($1, $2)', [channel, payload])
  }

  /** Receives signals of one kind; returns the function that stops it. */
  onSignal(type: StoreSignal['type'], receive: (message: StoreSignal) => void): () => void {
    if (this.#conn.closed) return () => undefined
    const channel = signalChannel(type)
    let entry = this.#channels.get(channel)
    if (entry === undefined) {
      const receivers = new Set<(message: StoreSignal) => void>()
      const listener = new ChannelListener({
        pool: this.#conn.pool,
        channel: `${this.#conn.schema}_${channel}`,
        onNotify: (payload) => {
          let message: StoreSignal
          try {
            message = JSON.parse(payload) as StoreSignal
          } catch {
            return
          }
          for (const r of receivers) r(message)
        },
        onListening: () => undefined,
        onError: this.#conn.onError,
      })
      entry = { listener, receivers }
      this.#channels.set(channel, entry)
      listener.start()
    }
    // One connection listens per channel; each receiver hears only its kind.
    const receiver = (message: StoreSignal): void => {
      if (message.type === type) receive(message)
    }
    entry.receivers.add(receiver)
    const { listener, receivers } = entry
    return () => {
      receivers.delete(receiver)
      if (receivers.size === 0 && this.#channels.get(channel)?.listener === listener) {
        listener.close()
        this.#channels.delete(channel)
      }
    }
  }

  /** Resolves once signals of this kind are listened for. */
  async listening(type: StoreSignal['type']): Promise<void> {
    await this.#channels.get(signalChannel(type))?.listener.listening()
  }

  /** Stops every listener. */
  close(): void {
    for (const { listener } of this.#channels.values()) listener.close()
    this.#channels.clear()
  }
}

/**
 * A signal as NOTIFY payloads: one normally; events split over several when they do not fit,
 * and an event that cannot fit on its own is left out (watchers catch up from the store).
 */
export function signalPayloads(message: StoreSignal): string[] {
  const whole = JSON.stringify(message)
  if (Buffer.byteLength(whole) <= MAX_PAYLOAD) return [whole]
  if (message.type === 'observing' || message.type === 'settings' || message.type === 'worker') return []
  if (message.type === 'cancel') {
    return message.ids.length <= 1 ? [] : halves(message.ids).flatMap((ids) => signalPayloads({ ...message, ids }))
  }
  const payloads: string[] = []
  let batch: unknown[] = []
  const flush = (): void => {
    if (batch.length > 0) payloads.push(JSON.stringify({ type: 'events', origin: message.origin, events: batch }))
    batch = []
  }
  for (const event of message.events) {
    const size = Buffer.byteLength(JSON.stringify(event))
    if (size > MAX_PAYLOAD - 200) continue
    if (Buffer.byteLength(JSON.stringify({ type: 'events', origin: message.origin, events: [...batch, event] })) > MAX_PAYLOAD) flush()
    batch.push(event)
  }
  flush()
  return payloads
}

function halves<T>(items: readonly T[]): T[][] {
  const half = Math.ceil(items.length / 2)
  return [items.slice(0, half), items.slice(half)]
}
