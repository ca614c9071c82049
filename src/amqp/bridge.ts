/**
 * The AMQP bridge: one link to the broker (reconnecting), ingress (task requests in, runs
 * enqueued) and egress (run events out), started on an engine and closed as one.
 */
import type { Engine } from '../engine/engine.js'
import { BrokerLink } from './connection.js'
import { Egress } from './egress.js'
import { Ingress } from './ingress.js'
import { resolveBridgeOptions, type AmqpBridgeOptions } from './options.js'

/** What the bridge has done since it started. */
export interface AmqpBridgeStats {
  /** Whether it is connected to the broker (and set up) now. */
  readonly connected: boolean
  /** Connections lost and made again. */
  readonly reconnects: number
  /** Request messages delivered to it (redeliveries included). */
  readonly received: number
  /** Requests that made a new run. */
  readonly enqueued: number
  /** Requests whose id had already made a run (a redelivery): they got that run. */
  readonly deduplicated: number
  /** Requests copied to the dead-letter exchange with their reason. */
  readonly deadLettered: number
  /** Requests given back to the queue after a failure that was not theirs (the store was down). */
  readonly requeued: number
  /** Replies sent to `replyTo`. */
  readonly replies: number
  /** Run events published and confirmed by the broker. */
  readonly eventsPublished: number
  /** Run events waiting for the broker. */
  readonly eventsBuffered: number
  /** Run events dropped: the buffer was full while the broker was away (oldest first), or the broker refused them. */
  readonly eventsDropped: number
}

/** A running bridge. */
export interface AmqpBridge {
  /** Resolves once the bridge first connected, declared its queues and exchanges, and consumes. */
  readonly ready: Promise<void>
  /** Counters (see {@link AmqpBridgeStats}). */
  stats(): AmqpBridgeStats
  /**
   * Stops consuming and lets the requests in hand finish (at most `closeTimeoutMs`); events are
   * still published. For a process that closes its engine next: stop requests, close the engine
   * (runs finishing in its grace period still send their events), then `close()`.
   */
  stopIngress(): Promise<void>
  /**
   * Stops consuming (as {@link stopIngress}), lets the requests in hand finish, waits (at most `closeTimeoutMs`) for
   * buffered events to be confirmed, and disconnects. The engine stays open.
   */
  close(): Promise<void>
}

/**
 * Starts the bridge on `engine`: consumes task requests from `queue` and publishes run events
 * to `exchange` (those of this engine; see the `events` option). Returns at once; it connects (and reconnects, with backoff) in the
 * background: await `ready` to know it consumes.
 *
 * @example
 * const bridge = startAmqpBridge(engine, { url: 'amqp://127.0.0.1', queue: 'tasks', exchange: 'taskengine.events' })
 * await bridge.ready
 * // …
 * await bridge.close()
 */
export function startAmqpBridge(engine: Engine, options: AmqpBridgeOptions): AmqpBridge {
  const o = resolveBridgeOptions(options)
  const ingress = new Ingress(engine, o)
  const egress = o.events ? new Egress(o.exchange, o.bufferLimit, o.onLog) : undefined
  const link = new BrokerLink(
    { url: o.url, connectionName: o.connectionName, reconnectDelayMs: o.reconnectDelayMs, maxReconnectDelayMs: o.maxReconnectDelayMs, log: o.onLog },
    {
      async setup(session) {
        await ingress.setup(session)
        egress?.attach(session)
      },
      lost(session) {
        ingress.lost(session)
        egress?.lost(session)
      },
    },
  )
  // Events of other processes reach this one through the engine's relay (stores that push),
  // marked `remote`: published with events 'all' only.
  const unsubscribe = egress === undefined ? undefined : engine.subscribe(o.events === 'all' ? egress.push : (event) => {
    if (event.remote !== true) egress.push(event)
  })
  const stopObserving = o.events === 'all' ? engine.observe() : undefined
  link.start()
  let closing: Promise<void> | undefined
  let stopping: Promise<void> | undefined
  const stopIngress = (): Promise<void> => (stopping ??= ingress.stop(o.closeTimeoutMs))
  return {
    ready: link.ready,
    stats() {
      return {
        connected: link.session !== undefined,
        reconnects: link.reconnects,
        ...ingress.counters,
        eventsPublished: egress?.counters.published ?? 0,
        eventsBuffered: egress?.buffered ?? 0,
        eventsDropped: egress?.counters.dropped ?? 0,
      }
    },
    stopIngress,
    close() {
      closing ??= (async () => {
        await stopIngress()
        unsubscribe?.()
        stopObserving?.()
        if (egress !== undefined && link.session !== undefined) await egress.flush(o.closeTimeoutMs)
        await link.close()
      })()
      return closing
    },
  }
}
