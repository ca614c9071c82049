/**
 * Live events over WebSocket (`GET /api/stream`).
 *
 * The server keeps one subscription to the engine and numbers every event in a ring buffer
 * (`EventLog`). Clients subscribe with a filter (everything, a task, a pool, one run) and
 * receive `{type: "event", sub, seq, event}` messages. To resume after a reconnect without gaps
 * a client sends the last `seq` it saw (with the server's `epoch`): the server replays what it
 * still holds, or says `gap` when it cannot (restarted, or too far behind) so the client
 * refetches state. A run subscription may also ask for stored log lines after a position
 * (`logsAfter`), which survive restarts.
 *
 * A run subscription with `logsAfter` also follows the run in the store (every
 * `pollIntervalMs`): stored log lines it has not sent yet arrive as `logs` messages and state
 * changes as `run` snapshots, so a run executed by a worker in another process (or on another
 * machine) streams too, and nothing is doubled.
 *
 * Protocol (client → server), JSON text messages:
 *   {"type":"subscribe","id":"s1","filter":{"runId"|"task"|"poolId":"…"} | {},"after":12,"epoch":"…","logsAfter":0}
 *   {"type":"unsubscribe","id":"s1"}
 *   {"type":"ping"}
 * Server → client: hello, subscribed, event, logs, run, gap, unsubscribed, pong, error.
 *
 * A client that cannot keep up (too many bytes waiting to be sent) is closed with code 4008
 * and a reason, so it never slows the engine or other clients.
 */
import { randomUUID } from 'node:crypto'
import type { WSContext } from 'hono/ws'
import type { Engine } from '../engine/engine.js'
import type { RunEvent } from '../engine/events/run-events.js'
import { ValidationError, describeValue } from '../errors.js'

/** An event with its position in the server's stream. */
export interface StreamEntry {
  readonly seq: number
  readonly event: RunEvent
  /** The event as JSON, serialized once for every client. */
  readonly json: string
}

/** What a subscription receives; an empty filter receives everything. */
export interface StreamFilter {
  readonly runId?: string
  readonly task?: string
  readonly poolId?: string
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
    const entry: StreamEntry = { seq: ++this.#seq, event, json: JSON.stringify(event) }
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

/** Limits of one stream connection. */
export interface StreamLimits {
  /** Bytes waiting to be sent before the client is dropped as too slow. */
  readonly maxBufferedBytes: number
  readonly maxSubscriptions: number
  /** How often a run subscription reads the store for lines and changes made elsewhere. */
  readonly pollIntervalMs: number
}

/** Whose runs a client may see: every run (`runs:read`), or only those it created (`runs:read:own`). */
export interface StreamScope {
  readonly all: boolean
  /** The caller, compared with a run's `createdBy` when `all` is false. */
  readonly id: string
}

interface Subscription {
  readonly filter: StreamFilter
  /** Live entries after this position are for it; older ones come only from a replay. */
  readonly from: number
  /** Live entries held back while a replay or stored logs are being read (so none are lost or doubled). */
  pending: StreamEntry[] | undefined
  /** Log lines up to here were sent (from the store or live); later copies are skipped. */
  logsThrough: number
  /** Whether it follows the run in the store (runId subscriptions with logsAfter). */
  readonly follows: boolean
  /** The next read of the store, while following. */
  poll: NodeJS.Timeout | undefined
  /** The run's `updatedAt` last sent, to send a snapshot only on change. */
  runVersion: number
}

/** One WebSocket client of `/api/stream`. */
export class StreamClient {
  readonly #ws: WSContext
  readonly #engine: Engine
  readonly #log: EventLog
  readonly #limits: StreamLimits
  readonly #onOverflow: () => void
  readonly #subs = new Map<string, Subscription>()
  readonly #unlisten: () => void
  /** Decides which runs an own-runs-only client sees; absent when it sees every run. */
  readonly #owners: OwnerGate | undefined
  #closed = false

  constructor(ws: WSContext, engine: Engine, log: EventLog, limits: StreamLimits, scope: StreamScope, onOverflow: () => void) {
    this.#ws = ws
    this.#engine = engine
    this.#log = log
    this.#limits = limits
    this.#onOverflow = onOverflow
    if (scope.all) {
      this.#owners = undefined
      this.#unlisten = log.listen((entry) => this.#deliver(entry))
    } else {
      const owners = new OwnerGate(engine, scope.id, (entry) => this.#deliver(entry), () => this.#overflow())
      this.#owners = owners
      this.#unlisten = log.listen((entry) => owners.admit(entry))
    }
    this.#send({ type: 'hello', epoch: log.epoch, seq: log.seq })
  }

  /** Handles one text message from the client. */
  receive(data: unknown): void {
    if (typeof data !== 'string') return this.#error('messages must be JSON text')
    if (data.length > 64 * 1024) return this.#error('message too large (64 KiB at most)')
    let message: unknown
    try {
      message = JSON.parse(data)
    } catch (error) {
      return this.#error(`malformed JSON: ${(error as Error).message}`)
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return this.#error(`expected a JSON object, got ${describeValue(message)}`)
    const m = message as Record<string, unknown>
    switch (m.type) {
      case 'ping':
        return this.#send({ type: 'pong', seq: this.#log.seq })
      case 'subscribe':
        return void this.#subscribe(m)
      case 'unsubscribe': {
        if (typeof m.id !== 'string') return this.#error('unsubscribe: expected an "id"')
        clearTimeout(this.#subs.get(m.id)?.poll)
        this.#subs.delete(m.id)
        return this.#send({ type: 'unsubscribed', id: m.id })
      }
      default:
        return this.#error(`unknown message type ${describeValue(m.type)} (expected subscribe, unsubscribe or ping)`)
    }
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#unlisten()
    this.#owners?.close()
    for (const sub of this.#subs.values()) clearTimeout(sub.poll)
    this.#subs.clear()
  }

  async #subscribe(m: Record<string, unknown>): Promise<void> {
    const id = m.id
    if (typeof id !== 'string' || id === '' || id.length > 100) return this.#error(`subscribe: "id" must be a non-empty string, got ${describeValue(id)}`)
    if (!this.#subs.has(id) && this.#subs.size >= this.#limits.maxSubscriptions) return this.#error(`subscribe: at most ${this.#limits.maxSubscriptions} subscriptions per connection`, id)
    const filter = parseFilter(m.filter)
    if (typeof filter === 'string') return this.#error(`subscribe: ${filter}`, id)
    const after = m.after
    if (after !== undefined && (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0)) return this.#error(`subscribe: "after" must be an event position, got ${describeValue(after)}`, id)
    const logsAfter = m.logsAfter
    if (logsAfter !== undefined && (filter.runId === undefined || typeof logsAfter !== 'number' || !Number.isSafeInteger(logsAfter) || logsAfter < 0)) {
      return this.#error('subscribe: "logsAfter" needs a runId filter and a log position >= 0', id)
    }
    // From here on, live entries wait in `pending` until the replay, the owner check and the
    // stored logs are through; the replay is taken now, before anything can await.
    const from = this.#log.seq
    const sub: Subscription = { filter, from, pending: [], logsThrough: 0, follows: logsAfter !== undefined, poll: undefined, runVersion: 0 }
    clearTimeout(this.#subs.get(id)?.poll)
    this.#subs.set(id, sub)
    const missed = after === undefined ? [] : m.epoch === this.#log.epoch ? this.#log.since(after) : undefined
    const current = (): boolean => !this.#closed && this.#subs.get(id) === sub
    const owners = this.#owners
    if (owners !== undefined && filter.runId !== undefined && !(await owners.visible(filter.runId))) {
      // Someone else's run does not exist for this caller: no events, no stored lines.
      if (!current()) return
      this.#subs.delete(id)
      return this.#error(`subscribe: unknown run "${filter.runId}"`, id)
    }
    if (!current()) return
    this.#send({ type: 'subscribed', id, epoch: this.#log.epoch, seq: from })
    if (missed === undefined) this.#send({ type: 'gap', id, epoch: this.#log.epoch, seq: from })
    else {
      const wanted = missed.filter((entry) => matches(filter, entry.event))
      if (owners !== undefined) await owners.resolve(wanted)
      if (!current()) return
      for (const entry of wanted) if (owners === undefined || owners.known(entry) === true) this.#sendEntry(id, entry)
    }
    if (logsAfter !== undefined) {
      try {
        const logs = await this.#engine.getLogs(filter.runId!, { after: logsAfter, limit: 10_000 })
        if (!current()) return
        sub.logsThrough = logs.at(-1)?.seq ?? logsAfter
        this.#send({ type: 'logs', id, runId: filter.runId, logs })
      } catch (error) {
        this.#error(`could not read stored logs: ${(error as Error).message}`, id)
      }
    }
    if (!current()) return
    const held = sub.pending ?? []
    sub.pending = undefined
    for (const entry of held) this.#deliverTo(id, sub, entry)
    if (sub.follows) this.#follow(id, sub)
  }

  /** Reads the run's new log lines and state from the store, sends what changed, and comes back while the run is active. */
  #follow(id: string, sub: Subscription): void {
    sub.poll = setTimeout(() => {
      void (async () => {
        if (this.#closed || this.#subs.get(id) !== sub) return
        try {
          const runId = sub.filter.runId!
          const run = await this.#engine.getRun(runId)
          const logs = await this.#engine.getLogs(runId, { after: sub.logsThrough, limit: 10_000 })
          if (this.#closed || this.#subs.get(id) !== sub) return
          const fresh = logs.filter((l) => l.seq > sub.logsThrough)
          if (fresh.length > 0) {
            sub.logsThrough = fresh.at(-1)!.seq
            this.#send({ type: 'logs', id, runId, logs: fresh })
          }
          if (run !== undefined && run.updatedAt.getTime() !== sub.runVersion) {
            const first = sub.runVersion === 0
            sub.runVersion = run.updatedAt.getTime()
            if (!first) this.#send({ type: 'run', id, run })
          }
          if (run === undefined || run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled') return
        } catch {
          // The store is unreachable for now; try again on the next round.
        }
        this.#follow(id, sub)
      })()
    }, this.#limits.pollIntervalMs)
    sub.poll.unref()
  }

  #deliver(entry: StreamEntry): void {
    for (const [id, sub] of this.#subs) {
      if (entry.seq <= sub.from || !matches(sub.filter, entry.event)) continue
      if (sub.pending !== undefined) sub.pending.push(entry)
      else this.#deliverTo(id, sub, entry)
    }
  }

  #deliverTo(id: string, sub: Subscription, entry: StreamEntry): void {
    if (entry.event.type === 'log') {
      const seq = entry.event.entry.seq
      if (seq <= sub.logsThrough) return
      if (sub.follows) {
        // Following the store: lines go out in order. After a line that was not pushed live (a
        // busy worker elsewhere sends only so many), the next read of the store fills in.
        if (seq !== sub.logsThrough + 1) return
        sub.logsThrough = seq
      }
    }
    this.#sendEntry(id, entry)
  }

  #sendEntry(id: string, entry: StreamEntry): void {
    this.#sendText(`{"type":"event","id":${JSON.stringify(id)},"seq":${entry.seq},"event":${entry.json}}`)
  }

  #error(message: string, id?: string): void {
    this.#send({ type: 'error', ...(id === undefined ? {} : { id }), message })
  }

  #send(message: Record<string, unknown>): void {
    this.#sendText(JSON.stringify(message))
  }

  #sendText(text: string): void {
    if (this.#closed) return
    const buffered = (this.#ws.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0
    if (buffered + text.length > this.#limits.maxBufferedBytes) return this.#overflow()
    this.#ws.send(text)
  }

  /** Drops the slow client rather than buffer without bound or slow anyone else down. */
  #overflow(): void {
    if (this.#closed) return
    this.#onOverflow()
    this.close()
    this.#ws.close(4008, 'slow consumer: too many undelivered events; reconnect and resume')
  }
}

/** Runs whose owner an own-runs-only client remembers (the oldest are forgotten and read again if needed). */
const OWNERS_KEPT = 10_000
/** Entries an own-runs-only client may have waiting for owner lookups before it is dropped as too slow. */
const OWNER_QUEUE_LIMIT = 10_000

/**
 * Lets through, in stream order, the entries of runs the caller created. Events do not carry
 * the run's creator: it is learned from events that carry the run (`created`, `retried`) or
 * read from the store once per run; while a read is pending, later entries wait behind it so
 * the client still receives them in order. Runs the store does not know (in-process runs) are
 * nobody's.
 */
class OwnerGate {
  readonly #engine: Engine
  readonly #caller: string
  readonly #deliver: (entry: StreamEntry) => void
  readonly #onOverflow: () => void
  /** Run id → whether the caller created it. */
  readonly #owned = new Map<string, boolean>()
  readonly #queue: StreamEntry[] = []
  #waiting = false
  #closed = false

  constructor(engine: Engine, caller: string, deliver: (entry: StreamEntry) => void, onOverflow: () => void) {
    this.#engine = engine
    this.#caller = caller
    this.#deliver = deliver
    this.#onOverflow = onOverflow
  }

  /** Takes a live entry; it is delivered once its run's owner is known, if it is the caller. */
  admit(entry: StreamEntry): void {
    if (this.#closed) return
    if (this.#queue.length === 0 && !this.#waiting) {
      const owned = this.known(entry)
      if (owned !== undefined) {
        if (owned) this.#deliver(entry)
        return
      }
    }
    if (this.#queue.length >= OWNER_QUEUE_LIMIT) return this.#onOverflow()
    this.#queue.push(entry)
    if (!this.#waiting) this.#drain()
  }

  /** Whether the caller created the entry's run, when that is known without reading the store. */
  known(entry: StreamEntry): boolean | undefined {
    const carried = (entry.event as { run?: { createdBy?: unknown } }).run
    if (carried !== undefined && carried !== null && 'createdBy' in carried) this.#remember(entry.event.runId, carried.createdBy === this.#caller)
    return this.#owned.get(entry.event.runId)
  }

  /** Whether the caller created the run (read from the store when not known yet). */
  async visible(runId: string): Promise<boolean> {
    const owned = this.#owned.get(runId)
    if (owned !== undefined) return owned
    let run: Awaited<ReturnType<Engine['getRun']>>
    try {
      run = await this.#engine.getRun(runId)
    } catch {
      // Unknown owner: show nothing rather than someone else's run.
      return false
    }
    const mine = run !== undefined && run.createdBy === this.#caller
    this.#remember(runId, mine)
    return mine
  }

  /** Learns the owners of the entries' runs, so that {@link known} answers for each. */
  async resolve(entries: readonly StreamEntry[]): Promise<void> {
    for (const entry of entries) if (this.known(entry) === undefined) await this.visible(entry.event.runId)
  }

  close(): void {
    this.#closed = true
    this.#queue.length = 0
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const entry = this.#queue[0]!
      const owned = this.known(entry)
      if (owned === undefined) {
        this.#waiting = true
        void this.visible(entry.event.runId).then(() => {
          this.#waiting = false
          this.#drain()
        })
        return
      }
      this.#queue.shift()
      if (owned) this.#deliver(entry)
    }
  }

  #remember(runId: string, owned: boolean): void {
    this.#owned.delete(runId)
    this.#owned.set(runId, owned)
    if (this.#owned.size > OWNERS_KEPT) this.#owned.delete(this.#owned.keys().next().value!)
  }
}

function parseFilter(value: unknown): StreamFilter | string {
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

function matches(filter: StreamFilter, event: RunEvent): boolean {
  if (filter.runId !== undefined && filter.runId !== event.runId) return false
  if (filter.task !== undefined && filter.task !== event.task) return false
  if (filter.poolId !== undefined && filter.poolId !== event.poolId) return false
  return true
}
