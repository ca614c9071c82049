/**
 * The server's numbered ring buffer of recent run events: every event gets the next position
 * (`seq`) under the server's `epoch`, so a client that reconnects can resume after the last
 * position it saw, or learn that it cannot (a gap).
 */
import { randomUUID } from 'node:crypto'
import type { RunEvent } from '../../engine/events/run-events.js'
import { ValidationError, describeValue } from '../../errors.js'
import { jsonText } from '../../json-text.js'

/** An event with its position in the server's stream. */
export interface StreamEntry {
  readonly seq: number
  readonly event: RunEvent
  /** The event as JSON, serialized once for every client. */
  readonly json: string
}

/**
 * The numbered ring buffer of recent events. Appending is O(1) whatever the capacity (it runs on
 * the engine's synchronous event path); the entry numbered `seq` lives at slot
 * `(seq - 1) % capacity` while it is among the newest `capacity` ones.
 */
export class EventLog {
  /** Identifies this server process's numbering; a different epoch means numbers restarted. */
  readonly epoch = randomUUID()
  readonly #capacity: number
  readonly #ring: (StreamEntry | undefined)[]
  #seq = 0
  readonly #listeners = new Set<(entry: StreamEntry) => void>()

  /** @param capacity - events kept for resuming clients; `0` keeps none (every resume is a gap). */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new ValidationError(`streamBufferEvents: expected an integer >= 0, got ${describeValue(capacity)}`)
    this.#capacity = capacity
    this.#ring = new Array<StreamEntry | undefined>(capacity)
  }

  /** The newest position. */
  get seq(): number {
    return this.#seq
  }

  append(event: RunEvent): StreamEntry {
    const entry: StreamEntry = { seq: ++this.#seq, event, json: jsonText(event) }
    if (this.#capacity > 0) this.#ring[(entry.seq - 1) % this.#capacity] = entry
    for (const listener of this.#listeners) listener(entry)
    return entry
  }

  /** Entries after `seq`, oldest first, or `undefined` when some of them are no longer held. */
  since(seq: number): StreamEntry[] | undefined {
    if (seq >= this.#seq) return []
    const oldest = Math.max(1, this.#seq - this.#capacity + 1)
    if (seq < oldest - 1) return undefined
    const out: StreamEntry[] = []
    for (let s = seq + 1; s <= this.#seq; s++) out.push(this.#ring[(s - 1) % this.#capacity]!)
    return out
  }

  listen(listener: (entry: StreamEntry) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }
}
