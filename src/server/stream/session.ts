/**
 * One WebSocket client of `/api/stream`: its subscriptions, replay on resume, stored log lines
 * and following a run in the store, and the limit on what it may leave unread.
 *
 * A run subscription with `logsAfter` also follows the run in the store (every
 * `pollIntervalMs`): stored log lines it has not sent yet arrive as `logs` messages and state
 * changes as `run` snapshots, so a run executed by a worker in another process (or on another
 * machine) streams too, and nothing is doubled.
 *
 * A bulk job subscription (`bulkId`) receives the job as `bulk` messages as it moves on
 * (`bulk-follow.ts`), whichever process works it.
 *
 * A client that cannot keep up (too many bytes waiting to be sent) is closed with code 4008
 * and a reason, so it never slows the engine or other clients.
 */
import type { WSContext } from 'hono/ws'
import type { Engine } from '../../engine/engine.js'
import { mayRead, type RunScope } from '../caller.js'
import type { EventLog, StreamEntry } from './event-log.js'
import { BulkFollow } from './bulk-follow.js'
import { OwnerGate } from './owner-gate.js'
import { SLOW_CONSUMER_CLOSE, eventMessageText, matches, readClientMessage, type ReadSubscribe, type ServerMessage, type StreamFilter } from './protocol.js'

/** Limits of one stream connection. */
export interface StreamLimits {
  /** Bytes waiting to be sent before the client is dropped as too slow. */
  readonly maxBufferedBytes: number
  readonly maxSubscriptions: number
  /** How often a run subscription reads the store for lines and changes made elsewhere. */
  readonly pollIntervalMs: number
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
  /** The bulk job a bulk subscription follows (it receives no run events). */
  readonly bulkId: string | undefined
  /** Its follower, once the caller may read the job. */
  bulk: BulkFollow | undefined
}

/** One WebSocket client of `/api/stream`. */
export class StreamSession {
  readonly #ws: WSContext
  readonly #engine: Engine
  readonly #log: EventLog
  readonly #limits: StreamLimits
  readonly #onOverflow: () => void
  readonly #subs = new Map<string, Subscription>()
  readonly #unlisten: () => void
  /** Decides which runs an own-runs-only client sees; absent when it sees every run. */
  readonly #owners: OwnerGate | undefined
  readonly #scope: RunScope
  #closed = false

  constructor(ws: WSContext, engine: Engine, log: EventLog, limits: StreamLimits, scope: RunScope, onOverflow: () => void) {
    this.#ws = ws
    this.#engine = engine
    this.#log = log
    this.#limits = limits
    this.#onOverflow = onOverflow
    this.#scope = scope
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

  /** Handles one message from the client. */
  receive(data: unknown): void {
    const max = this.#limits.maxSubscriptions
    const message = readClientMessage(data, (id) => (!this.#subs.has(id) && this.#subs.size >= max ? `at most ${max} subscriptions per connection` : undefined))
    switch (message.type) {
      case 'error':
        return this.#send(message)
      case 'ping':
        return this.#send({ type: 'pong', seq: this.#log.seq })
      case 'subscribe':
        return void (message.bulkId === undefined ? this.#subscribe(message) : this.#subscribeBulk(message.id, message.bulkId))
      case 'unsubscribe':
        this.#drop(message.id)
        return this.#send({ type: 'unsubscribed', id: message.id })
    }
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#unlisten()
    this.#owners?.close()
    for (const id of [...this.#subs.keys()]) this.#drop(id)
  }

  /** Ends a subscription's reads of the store and forgets it. */
  #drop(id: string): void {
    const sub = this.#subs.get(id)
    clearTimeout(sub?.poll)
    sub?.bulk?.close()
    this.#subs.delete(id)
  }

  /** Follows a bulk job the caller may read (as `GET /api/runs/bulk/:id` decides); any other id is unknown. */
  async #subscribeBulk(id: string, bulkId: string): Promise<void> {
    const sub: Subscription = { filter: {}, from: this.#log.seq, pending: undefined, logsThrough: 0, follows: false, poll: undefined, runVersion: 0, bulkId, bulk: undefined }
    this.#drop(id)
    this.#subs.set(id, sub)
    const current = (): boolean => !this.#closed && this.#subs.get(id) === sub
    let job: Awaited<ReturnType<Engine['bulk']['get']>>
    try {
      job = await this.#engine.bulk.get(bulkId)
    } catch (error) {
      if (current()) this.#subs.delete(id)
      return this.#error(`subscribe: could not read bulk job "${bulkId}": ${(error as Error).message}`, id)
    }
    if (!current()) return
    if (job === undefined || !mayRead(this.#scope, job)) {
      // Someone else's job does not exist for an own-runs-only caller.
      this.#subs.delete(id)
      return this.#error(`subscribe: unknown bulk job "${bulkId}"`, id)
    }
    this.#send({ type: 'subscribed', id, epoch: this.#log.epoch, seq: sub.from })
    sub.bulk = new BulkFollow(this.#engine, bulkId, this.#limits.pollIntervalMs, (changed) => this.#send({ type: 'bulk', id, job: changed }))
    sub.bulk.start(job)
  }

  async #subscribe(m: ReadSubscribe): Promise<void> {
    const { id, filter, after, logsAfter } = m
    // From here on, live entries wait in `pending` until the replay, the owner check and the
    // stored logs are through; the replay is taken now, before anything can await.
    const from = this.#log.seq
    const sub: Subscription = { filter, from, pending: [], logsThrough: 0, follows: logsAfter !== undefined, poll: undefined, runVersion: 0, bulkId: undefined, bulk: undefined }
    this.#drop(id)
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
      // readClientMessage takes logsAfter only with a runId filter.
      const runId = filter.runId!
      try {
        const logs = await this.#engine.getLogs(runId, { after: logsAfter, limit: 10_000 })
        if (!current()) return
        sub.logsThrough = logs.at(-1)?.seq ?? logsAfter
        this.#send({ type: 'logs', id, runId, logs })
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
      if (sub.bulkId !== undefined || entry.seq <= sub.from || !matches(sub.filter, entry.event)) continue
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
    this.#sendText(eventMessageText(id, entry.seq, entry.json))
  }

  #error(message: string, id?: string): void {
    this.#send({ type: 'error', ...(id === undefined ? {} : { id }), message })
  }

  #send(message: ServerMessage): void {
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
    this.#ws.close(SLOW_CONSUMER_CLOSE, 'slow consumer: too many undelivered events; reconnect and resume')
  }
}

