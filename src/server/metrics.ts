/**
 * Prometheus metrics (`GET /metrics`) on a registry of the server's own: runs created, started
 * and completed by task and status, queue length, depth and oldest due run by queue (idle queues
 * included), running runs, run duration, wait from due to start (`wait-metric.ts`), worker
 * count, the process's own (`taskengine_process_*`, `taskengine_nodejs_*`), and what local buffers dropped (stream clients that fell behind, log lines of
 * in-process runs past the in-memory limit). Counters follow the engine's events in this
 * process; gauges are read from the store at scrape time (so they count every process). A
 * worker process serves its own (`taskengine worker --metrics-port`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Engine } from '../engine/engine.js'
import type { RunEvent } from '../engine/events/run-events.js'
import type { EngineStats } from '../engine/engine.js'
import { RollupWaitHistogram } from './wait-metric.js'

/** The metrics of one engine in this process, on a registry of their own (`registry.metrics()` is the scrape). */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly #created: Counter<'task'>
  readonly #started: Counter<'task'>
  readonly #completed: Counter<'task' | 'status'>
  readonly #duration: Histogram<'task' | 'status'>
  readonly overflow: Counter<'stream'>
  readonly #droppedLogs: Counter<'task'>
  readonly #engine: Engine
  /** The run counts of the scrape in progress, shared by the gauges that need them. */
  #stats: Promise<EngineStats> | undefined

  constructor(engine: Engine) {
    this.#engine = engine
    const scrapeStats = (): Promise<EngineStats> => this.#scrapeStats()
    // prom-client's own names start with process_ or nodejs_: the prefix is ours alone.
    collectDefaultMetrics({ register: this.registry, prefix: 'taskengine_' })
    this.#created = new Counter({ name: 'taskengine_runs_created_total', help: 'Durable runs created through this process', labelNames: ['task'], registers: [this.registry] })
    this.#started = new Counter({ name: 'taskengine_runs_started_total', help: 'Attempts started in this process (durable and in-process runs)', labelNames: ['task'], registers: [this.registry] })
    this.#completed = new Counter({
      name: 'taskengine_runs_completed_total',
      help: 'Runs finished in this process, by final status',
      labelNames: ['task', 'status'],
      registers: [this.registry],
    })
    this.#duration = new Histogram({
      name: 'taskengine_run_duration_seconds',
      help: 'Duration of finished attempts',
      labelNames: ['task', 'status'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600],
      registers: [this.registry],
    })
    this.overflow = new Counter({
      name: 'taskengine_stream_overflow_total',
      help: 'Live-view clients dropped because their send buffer overflowed',
      labelNames: ['stream'],
      registers: [this.registry],
    })
    this.#droppedLogs = new Counter({
      name: 'taskengine_logs_dropped_total',
      help: 'Log lines of in-process runs dropped from memory past the engine\'s maxLogLines (oldest first)',
      labelNames: ['task'],
      registers: [this.registry],
    })
    new Gauge({
      name: 'taskengine_queue_length',
      help: 'Pending runs by queue (all processes)',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        this.reset()
        const stats = await scrapeStats()
        for (const queue of stats.queues) this.set({ queue: queue.queue }, queue.pending)
      },
    })
    new Gauge({
      name: 'taskengine_queue_depth',
      help: 'Pending runs by queue, due or not, idle queues included (all processes)',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        this.reset()
        const stats = await scrapeStats()
        for (const queue of stats.flow.queues) this.set({ queue: queue.name }, queue.pending)
      },
    })
    new Gauge({
      name: 'taskengine_queue_oldest_due_seconds',
      help: 'How long the longest-waiting due run of each queue has been due, in seconds; 0 when none is due (all processes)',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        this.reset()
        const stats = await scrapeStats()
        const now = Date.now()
        for (const queue of stats.flow.queues) this.set({ queue: queue.name }, queue.oldestPendingAt === null ? 0 : Math.max(0, now - queue.oldestPendingAt.getTime()) / 1000)
      },
    })
    this.registry.registerMetric(new RollupWaitHistogram(engine).asMetric())
    new Gauge({
      name: 'taskengine_runs_running',
      help: 'Runs executing now (all processes; waiting runs included)',
      registers: [this.registry],
      async collect() {
        const stats = await scrapeStats()
        this.set((stats.statuses.running ?? 0) + (stats.statuses.waiting ?? 0))
      },
    })
    new Gauge({
      name: 'taskengine_workers',
      help: 'Live worker processes sharing the store',
      registers: [this.registry],
      async collect() {
        // Processes that execute runs; servers that only serve live views have no slots.
        this.set((await engine.workers()).filter((w) => w.concurrency > 0).length)
      },
    })
  }

  /**
   * The store's run counts, read once per scrape: the registry collects every gauge at the
   * same time, so gauges asking while a read is in flight share it.
   */
  #scrapeStats(): Promise<EngineStats> {
    this.#stats ??= this.#engine.stats().finally(() => {
      this.#stats = undefined
    })
    return this.#stats
  }

  /** Counts one engine event. */
  observe(event: RunEvent): void {
    switch (event.type) {
      case 'created':
        this.#created.inc({ task: event.task })
        break
      case 'started':
        this.#started.inc({ task: event.task })
        break
      case 'succeeded':
      case 'failed':
      case 'cancelled': {
        this.#completed.inc({ task: event.task, status: event.type })
        const ms = event.result?.durationMs ?? event.durationMs
        if (ms !== undefined) this.#duration.observe({ task: event.task, status: event.type }, ms / 1000)
        const dropped = event.result?.droppedLogs ?? 0
        if (dropped > 0) this.#droppedLogs.inc({ task: event.task }, dropped)
        break
      }
      default:
        break
    }
  }
}
