/**
 * The spans themselves, over `@opentelemetry/api` (loaded by `tracing.ts` only when installed):
 * the enqueue's PRODUCER span and an attempt's CONSUMER (durable) or INTERNAL (in-process) span.
 */
import type * as Otel from '@opentelemetry/api'
import type { LogEntry, Progress, RunError } from '../../task/context.js'
import { formatTraceparent, type AttemptTrace, type EnqueueTrace, type TraceContext } from './trace-context.js'

/** The API as `import('@opentelemetry/api')` gives it. */
export type OtelApi = typeof Otel

/** Progress events on a span: at most one per this many ms. */
const PROGRESS_EVENT_MS = 1000

/** The span of one enqueue call. */
export class EnqueueSpan implements EnqueueTrace {
  readonly #api: OtelApi
  readonly #span: Otel.Span
  readonly context: TraceContext | undefined

  constructor(api: OtelApi, span: Otel.Span) {
    this.#api = api
    this.#span = span
    this.context = traceContextOf(api, span)
  }

  stored(runIds: readonly string[]): void {
    if (runIds.length === 1) this.#span.setAttribute('taskengine.run_id', runIds[0]!)
    else this.#span.setAttribute('taskengine.run_ids', runIds.length <= 100 ? [...runIds] : runIds.slice(0, 100))
  }

  end(error?: unknown): void {
    if (error !== undefined) {
      const err = error instanceof Error ? error : new Error(typeof error === 'string' ? error : JSON.stringify(error))
      this.#span.recordException(err)
      this.#span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: err.message })
    }
    this.#span.end()
  }
}

/** The span of one attempt, with the context the handler runs in. */
export class AttemptSpan implements AttemptTrace {
  readonly #api: OtelApi
  readonly #span: Otel.Span
  readonly #context: Otel.Context
  #lastProgress = 0

  constructor(api: OtelApi, span: Otel.Span, parent: Otel.Context) {
    this.#api = api
    this.#span = span
    this.#context = api.trace.setSpan(parent, span)
  }

  within<T>(fn: () => T): T {
    return this.#api.context.with(this.#context, fn)
  }

  log(entry: LogEntry): void {
    this.#span.addEvent('log', { level: entry.level, message: entry.message }, entry.time)
  }

  progress(progress: Progress): void {
    const now = Date.now()
    if (now - this.#lastProgress < PROGRESS_EVENT_MS) return
    this.#lastProgress = now
    const attributes: Otel.Attributes = {}
    if (progress.percent !== undefined) attributes.percent = progress.percent
    if (progress.step !== undefined) attributes.step = progress.step
    if (progress.steps !== undefined) attributes.steps = progress.steps
    if (progress.message !== undefined) attributes.message = progress.message
    this.#span.addEvent('progress', attributes)
  }

  end(outcome: string, error: RunError | null | undefined, failed: boolean): void {
    const span = this.#span
    span.setAttribute('taskengine.outcome', outcome)
    if (error !== null && error !== undefined) {
      span.setAttribute('taskengine.error_code', error.code)
      if (failed) {
        span.recordException({ name: error.name, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) })
        span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: error.message })
      }
    }
    span.end()
  }
}

/** The `traceparent`/`tracestate` of a span, or `undefined` when its context is not valid (no provider). */
function traceContextOf(api: OtelApi, span: Otel.Span): TraceContext | undefined {
  const context = span.spanContext()
  if (!api.isSpanContextValid(context)) return undefined
  const state = context.traceState?.serialize() ?? ''
  return { traceparent: formatTraceparent(context.traceId, context.spanId, context.traceFlags), tracestate: state === '' ? null : state }
}
