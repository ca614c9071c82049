/**
 * OpenTelemetry traces of runs, when `@opentelemetry/api` (an optional peer dependency) is
 * installed: an enqueue makes a PRODUCER span `taskengine.enqueue <task>` under the caller's
 * active span and stores its context with the runs (`traceparent`, `tracestate`); each attempt
 * of a durable run makes a CONSUMER span `taskengine.run <task>` whose parent is that stored
 * context, in whichever process executes it; an in-process run makes an INTERNAL span under the
 * caller's. Handlers run with their attempt's span active; log lines (and progress, at most once a
 * second) become span events.
 *
 * Cost: the package is loaded once, when the first engine is created (`false` never loads it);
 * without it, or with no tracer provider registered, each enqueue and attempt pays one check and
 * builds nothing.
 */
import { createRequire } from 'node:module'
import type * as Otel from '@opentelemetry/api'
import type { ClaimedRun } from '../../store/types.js'
import { VERSION } from '../../version.js'
import type { TracingOption } from './options.js'
import { AttemptSpan, EnqueueSpan, type OtelApi } from './spans.js'
import { parseTraceparent, type AttemptTrace, type EnqueueTrace } from './trace-context.js'

/** The name spans are made under (`trace.getTracer(TRACER_NAME, VERSION)`). */
export const TRACER_NAME = 'taskengine'

let loaded: OtelApi | null | undefined

/**
 * `@opentelemetry/api`, loaded once per process, synchronously (so a run started right after
 * `createEngine` is traced like any other); `undefined` when it is not installed. Its CommonJS
 * build is the one Node gives every `import` of it too, so this is the same module, and the same
 * registered provider, as the application's.
 */
function loadApi(onError: (error: Error) => void): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi
    } catch (error) {
      loaded = null
      // Not installed: tracing is off, silently (the package is optional). Anything else is a
      // broken install the user should hear of.
      const code = (error as { code?: unknown } | null)?.code
      if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') onError(new Error('tracing is off: @opentelemetry/api could not be loaded', { cause: error }))
    }
  }
  return loaded ?? undefined
}

/** The engine's tracing: one per engine, shared by enqueue, the worker and in-process runs. */
export class Tracing {
  readonly #api: OtelApi | undefined
  readonly #tracer: Otel.Tracer | undefined

  constructor(option: TracingOption, onError: (error: Error) => void) {
    this.#tracer = typeof option === 'object' ? (option.tracer as Otel.Tracer) : undefined
    this.#api = option === false ? undefined : loadApi(onError)
  }

  /**
   * The tracer to use now: the option's, else the global provider's when one is registered. The
   * API's default provider is a no-op, and asking its proxy for the registered provider's tracer
   * (`getDelegateTracer`) answers `undefined` without one: then nothing is built at all.
   */
  #tracerNow(): Otel.Tracer | undefined {
    const api = this.#api
    if (api === undefined) return undefined
    if (this.#tracer !== undefined) return this.#tracer
    const provider = api.trace.getTracerProvider() as Otel.TracerProvider & Partial<Otel.TracerDelegator>
    return typeof provider.getDelegateTracer === 'function' ? provider.getDelegateTracer(TRACER_NAME, VERSION) : provider.getTracer(TRACER_NAME, VERSION)
  }

  /** The caller's active context, to parent the spans of a batch started now (`undefined` when off). */
  activeContext(): unknown {
    return this.#tracerNow() === undefined ? undefined : this.#api!.context.active()
  }

  /** The span of an enqueue of `count` runs of `task` into `queue`, under the caller's active span; `undefined` when off. */
  enqueue(task: string, queue: string, count: number): EnqueueTrace | undefined {
    const tracer = this.#tracerNow()
    if (tracer === undefined) return undefined
    const api = this.#api!
    const attributes: Otel.Attributes = { 'taskengine.task': task, 'taskengine.queue': queue, 'messaging.system': 'taskengine', 'messaging.destination.name': queue }
    if (count !== 1) attributes['taskengine.run_count'] = count
    return new EnqueueSpan(api, tracer.startSpan(`taskengine.enqueue ${task}`, { kind: api.SpanKind.PRODUCER, attributes }))
  }

  /**
   * The span of a durable run's attempt on this worker: its parent is the context stored with the
   * run (the enqueue's span, in whichever process enqueued it), else none (a new trace; never the
   * worker loop's own context). `undefined` when off.
   */
  attempt(run: ClaimedRun, workerId: string): AttemptTrace | undefined {
    const tracer = this.#tracerNow()
    if (tracer === undefined) return undefined
    const api = this.#api!
    const parent = remoteParent(api, run.traceparent ?? null, run.tracestate ?? null)
    const attributes: Otel.Attributes = {
      'taskengine.task': run.task,
      'taskengine.run_id': run.id,
      'taskengine.queue': run.queue,
      'taskengine.attempt': run.attempt,
      'taskengine.worker_id': workerId,
      'messaging.system': 'taskengine',
      'messaging.destination.name': run.queue,
    }
    return new AttemptSpan(api, tracer.startSpan(`taskengine.run ${run.task}`, { kind: api.SpanKind.CONSUMER, attributes }, parent), parent)
  }

  /** The span of an in-process run, under `parent` (a context from {@link activeContext}) or the active span; `undefined` when off. */
  inProcess(task: string, runId: string, parent: unknown): AttemptTrace | undefined {
    const tracer = this.#tracerNow()
    if (tracer === undefined) return undefined
    const api = this.#api!
    const context = (parent as Otel.Context | undefined) ?? api.context.active()
    const attributes: Otel.Attributes = { 'taskengine.task': task, 'taskengine.run_id': runId, 'taskengine.attempt': 1 }
    return new AttemptSpan(api, tracer.startSpan(`taskengine.run ${task}`, { kind: api.SpanKind.INTERNAL, attributes }, context), context)
  }
}

/** The context of a stored `traceparent` as a remote parent; the root context when there is none or it is malformed. */
function remoteParent(api: OtelApi, traceparent: string | null, tracestate: string | null): Otel.Context {
  if (traceparent === null) return api.ROOT_CONTEXT
  const parsed = parseTraceparent(traceparent)
  if (parsed === undefined) return api.ROOT_CONTEXT
  const spanContext: Otel.SpanContext = { ...parsed, isRemote: true }
  if (tracestate !== null) spanContext.traceState = api.createTraceState(tracestate)
  return api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext)
}
