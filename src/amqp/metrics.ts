/**
 * The bridge's counters as Prometheus metrics, read from `bridge.stats()` at each scrape, on a
 * registry of the caller's (the one `serveMetrics` serves: `running.metrics.registry`).
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { AmqpBridge } from './bridge.js'

/**
 * Registers `taskengine_amqp_requests_total{outcome}` (enqueued, deduplicated, dead_lettered, requeued),
 * `taskengine_amqp_events_published_total`, `taskengine_amqp_events_dropped_total`,
 * `taskengine_amqp_events_buffered`, `taskengine_amqp_connected` and
 * `taskengine_amqp_reconnects_total` on `registry`.
 *
 * @example
 * const running = await serveMetrics(engine, { port: 9464 })
 * registerAmqpMetrics(running.metrics.registry, bridge)
 */
export function registerAmqpMetrics(registry: Registry, bridge: AmqpBridge): void {
  const registers = [registry]
  /** A counter whose value is the bridge's own count at scrape time. */
  const counted = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset()
        this.inc(read())
      },
    })
  }
  new Counter({
    name: 'taskengine_amqp_requests_total',
    help: 'AMQP task requests handled by the bridge, by outcome (enqueued: made a new run; deduplicated: their id had made a run before, a redelivery; dead_lettered: rejected with a reason; requeued: given back after a failure not theirs)',
    labelNames: ['outcome'],
    registers,
    collect() {
      const s = bridge.stats()
      this.reset()
      this.inc({ outcome: 'enqueued' }, s.enqueued)
      this.inc({ outcome: 'deduplicated' }, s.deduplicated)
      this.inc({ outcome: 'dead_lettered' }, s.deadLettered)
      this.inc({ outcome: 'requeued' }, s.requeued)
    },
  })
  counted('taskengine_amqp_events_published_total', 'Run events published by the AMQP bridge and confirmed by the broker', () => bridge.stats().eventsPublished)
  counted('taskengine_amqp_events_dropped_total', 'Run events the AMQP bridge dropped: its buffer was full while the broker was away (oldest first), or the broker refused them', () => bridge.stats().eventsDropped)
  counted('taskengine_amqp_reconnects_total', 'Connections to the broker lost and made again by the AMQP bridge', () => bridge.stats().reconnects)
  new Gauge({ name: 'taskengine_amqp_events_buffered', help: 'Run events waiting for the broker', registers, collect() { this.set(bridge.stats().eventsBuffered) } })
  new Gauge({ name: 'taskengine_amqp_connected', help: '1 while the AMQP bridge is connected to the broker', registers, collect() { this.set(bridge.stats().connected ? 1 : 0) } })
}
