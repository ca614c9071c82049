/**
 * The cross-process event relay (stores that can push: PostgreSQL). A process serving live views
 * observes (`engine.observe()`): it announces itself in the store's worker table (with
 * `observer: true`), listens for `events` signals and re-emits what arrives into its own bus with
 * `remote: true`. A process whose peers include an observer shares its run events: an outbox sent
 * every 200 ms, progress coalesced to the latest per run, at most {@link MAX_SHARED_LOGS} log
 * lines per batch, without the full run and result objects.
 */
import { hostname } from 'node:os'
import { coerceError } from '../../errors.js'
import type { Store, WorkerInfo } from '../../store/types.js'
import type { EventBus } from './bus.js'
import type { RunEvent } from './run-events.js'
import { jsonText } from '../../json-text.js'

/** Log lines pushed to other processes per 200 ms batch, at most. */
const MAX_SHARED_LOGS = 500
/** How long events wait in the outbox before they are sent. */
const OUTBOX_DELAY_MS = 200

/** What the relay needs from the engine. */
export interface RelayHost {
  readonly bus: EventBus
  /** This process, as other processes sharing the store see it (`host:pid:random`). */
  readonly processId: string
  readonly heartbeatMs: number
  now(): number
  /** The store, opened if need be. */
  store(): Promise<Store>
  /** The store if it is open (the outbox is not sent to a closed one). */
  currentStore(): Store | undefined
  /** The worker of this process, if one runs: its row announces the process when it observes. */
  worker(): { readonly id: string; announce(): Promise<void> } | undefined
  /** The task keys registered here (for the process's row). */
  taskKeys(): string[]
  onError(error: Error): void
}

export class EventRelay {
  readonly #host: RelayHost
  /** Live views in this process that want other processes' events (see {@link observe}). */
  #observers = 0
  #stopObserving: (() => void) | undefined
  /** Whether another process serves live views, so this one shares its run events through the store. */
  #shareEvents = false
  #outbox: RunEvent[] = []
  #outboxLogs = 0
  #presenceSince = 0
  #outboxTimer: NodeJS.Timeout | undefined

  constructor(host: RelayHost) {
    this.#host = host
  }

  /** Whether events are wanted: by subscribers here, or by observers elsewhere. */
  listening(): boolean {
    return this.#host.bus.active || this.#shareEvents
  }

  /** Whether this process serves live views. */
  observing(): boolean {
    return this.#observers > 0
  }

  /** Emits an event of this process: to subscribers here, and to observers elsewhere. */
  emit(event: RunEvent): void {
    const bus = this.#host.bus
    if (bus.active) bus.emit(event)
    if (this.#shareEvents && event.remote !== true) this.#share(event)
  }

  /** Learns the live processes sharing the store (at each heartbeat): does any other observe? */
  peers(workers: readonly WorkerInfo[]): void {
    const own = this.#host.worker()?.id
    const processId = this.#host.processId
    this.#shareEvents = workers.some((w) => w.observer && w.id !== own && !w.id.startsWith(processId))
  }

  /**
   * Queues an event for other processes' live views; sent in batches, progress coalesced per run.
   * Log lines beyond {@link MAX_SHARED_LOGS} per batch are not pushed (views following a run read
   * them from the store); state changes always are.
   */
  #share(event: RunEvent): void {
    if (event.type === 'log') {
      if (this.#outboxLogs >= MAX_SHARED_LOGS) return
      this.#outboxLogs++
    } else if (event.type === 'progress' || event.type === 'result') {
      // Both carry the run's whole state so far: the newest replaces an unsent one.
      const at = this.#outbox.findIndex((e) => e.type === event.type && e.runId === event.runId)
      if (at !== -1) this.#outbox.splice(at, 1)
    }
    const { run: _run, result: _result, ...light } = event as RunEvent & { run?: unknown; result?: unknown }
    this.#outbox.push(light as RunEvent)
    this.#outboxTimer ??= setTimeout(() => void this.#sendOutbox(), OUTBOX_DELAY_MS)
    this.#outboxTimer.unref()
  }

  async #sendOutbox(): Promise<void> {
    this.#outboxTimer = undefined
    const events = this.#outbox
    this.#outbox = []
    this.#outboxLogs = 0
    const store = this.#host.currentStore()
    if (events.length === 0 || store?.signal === undefined) return
    await store.signal({ type: 'events', origin: this.#host.processId, events: JSON.parse(jsonText(events)) as unknown[] }).catch((error: unknown) => this.#host.onError(coerceError(error)))
  }

  /** Marks this process as serving live views (see `Engine.observe`). Returns the function that stops observing. */
  observe(): () => void {
    this.#observers++
    if (this.#observers === 1) this.#stopObserving = this.#startObserving()
    let stopped = false
    return () => {
      if (stopped) return
      stopped = true
      this.#observers--
      if (this.#observers === 0) {
        this.#stopObserving?.()
        this.#stopObserving = undefined
      }
    }
  }

  /** The row of this process in the worker table while it serves live views without a worker. */
  get presenceId(): string {
    return `${this.#host.processId}:server`
  }

  /** Says that this process serves live views: through its worker's row, else a row of its own. */
  async announcePresence(): Promise<void> {
    // A worker in this process announces for both; otherwise the server announces itself.
    const worker = this.#host.worker()
    if (worker !== undefined) return worker.announce()
    const host = this.#host
    const store = await host.store()
    await store.saveWorker({ id: this.presenceId, host: hostname(), pid: process.pid, concurrency: 0, busy: 0, queues: null, tasks: host.taskKeys(), running: [], startedAt: this.#presenceSince, heartbeatAt: host.now(), observer: true })
  }

  #startObserving(): () => void {
    const host = this.#host
    let unsubscribe: (() => void) | undefined
    let closed = false
    this.#presenceSince = host.now()
    const announce = (): Promise<void> => this.announcePresence()
    const timer = setInterval(() => void announce().catch((error: unknown) => host.onError(coerceError(error))), host.heartbeatMs)
    timer.unref()
    void (async () => {
      try {
        const store = await host.store()
        if (closed) return
        await announce()
        unsubscribe = store.onSignal?.('events', (message) => {
          if (message.type !== 'events' || message.origin === host.processId || !host.bus.active) return
          for (const raw of message.events) host.bus.emit(reviveEvent(raw))
        })
        // Workers elsewhere start sending events now rather than at their next heartbeat.
        await store.signalsListening?.('events')
        await store.signal?.({ type: 'observing', origin: host.processId })
      } catch (error) {
        host.onError(coerceError(error))
      }
    })()
    return () => {
      closed = true
      clearInterval(timer)
      unsubscribe?.()
      const store = host.currentStore()
      if (store !== undefined) store.removeWorker(this.presenceId).catch(() => undefined)
    }
  }

  /** Stops observing and sends what waits in the outbox (the engine closes). */
  async close(): Promise<void> {
    this.#stopObserving?.()
    this.#stopObserving = undefined
    clearTimeout(this.#outboxTimer)
    await this.#sendOutbox()
  }
}

/** An event received from another process: times back to Dates, marked remote. */
function reviveEvent(raw: unknown): RunEvent {
  const event: Record<string, unknown> = { ...(raw as Record<string, unknown>), remote: true }
  for (const key of ['time', 'runAt']) {
    const value = event[key]
    if (typeof value === 'string') event[key] = new Date(value)
  }
  return event as unknown as RunEvent
}
