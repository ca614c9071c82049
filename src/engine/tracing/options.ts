/**
 * The engine's `tracing` option: OpenTelemetry spans for enqueues and attempts. Its types name no
 * type of `@opentelemetry/api`, so programs without that (optional) package typecheck too.
 */
import { ValidationError, describeValue } from '../../errors.js'
import { checkOptionKeys, optionKeys } from '../../options.js'

/**
 * A tracer from `@opentelemetry/api` (`trace.getTracer(…)`, or a provider's `getTracer`): any
 * object with its `startSpan`. Typed loosely so the option compiles without the package.
 */
export interface TracerLike {
  startSpan(name: string, options?: never, context?: never): unknown
}

/** Tracing with a tracer of your own (not the global provider's). */
export interface TracingOptions {
  /** Every span goes through this tracer. */
  readonly tracer: TracerLike
}

/** Every key of {@link TracingOptions}. */
export const TRACING_OPTION_KEYS = optionKeys<TracingOptions>({ tracer: true })

/**
 * `true` (the default): spans when `@opentelemetry/api` is installed and a tracer provider is
 * registered (checked at each enqueue and attempt, so a provider registered later counts);
 * `false`: none, and the package is never loaded; `{ tracer }`: spans through that tracer.
 */
export type TracingOption = boolean | TracingOptions

/** Checks the `tracing` option; a `ValidationError` naming what is wrong otherwise. */
export function checkTracingOption(value: unknown): TracingOption {
  if (value === undefined) return true
  if (typeof value === 'boolean') return value
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    checkOptionKeys(value, TRACING_OPTION_KEYS, 'createEngine', { prefix: 'tracing.' })
    const tracer = (value as { tracer?: unknown }).tracer
    if (typeof tracer === 'object' && tracer !== null && typeof (tracer as { startSpan?: unknown }).startSpan === 'function') return value as TracingOptions
    throw new ValidationError(`createEngine: tracing.tracer: expected an OpenTelemetry tracer (an object with startSpan()), got ${describeValue(tracer)}`)
  }
  throw new ValidationError(`createEngine: tracing: expected true, false or { tracer }, got ${describeValue(value)}`)
}
