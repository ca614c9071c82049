/**
 * A run's trace context as it is stored (W3C Trace Context: `traceparent`, `tracestate`), and
 * what the engine's execution paths call on a traced enqueue or attempt. Nothing here depends on
 * `@opentelemetry/api`: the engine sees these interfaces only, so programs without the package
 * load none of it.
 */
import type { LogEntry, Progress, RunError } from '../../task/context.js'

/** The trace context stored with a run: the enqueue span's, so the worker's attempt continues its trace. */
export interface TraceContext {
  /** W3C `traceparent`: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
  readonly traceparent: string
  /** W3C `tracestate` (vendor entries), or `null` when empty. */
  readonly tracestate: string | null
}

/** The span of one enqueue call (one or many runs). */
export interface EnqueueTrace {
  /** The context to store with the runs (`undefined` when the span has none to pass on). */
  readonly context: TraceContext | undefined
  /** The runs stored (or returned instead: a unique key held, a result reused). */
  stored(runIds: readonly string[]): void
  /** Ends the span; with the error the enqueue failed with, if it did. */
  end(error?: unknown): void
}

/** The span of one attempt of a run (durable or in-process). */
export interface AttemptTrace {
  /** Calls `fn` with the attempt's span active, so the spans a handler makes nest under it. */
  within<T>(fn: () => T): T
  /** A log line of the run: an event on the span. */
  log(entry: LogEntry): void
  /** A progress report of the run: an event on the span (at most one a second). */
  progress(progress: Progress): void
  /**
   * Ends the span with the attempt's outcome (`succeeded`, `failed`, `cancelled`, `retry`,
   * `interrupted`, `lost`); `failed`: the attempt failed, its error recorded and the span's
   * status set to ERROR.
   */
  end(outcome: string, error: RunError | null | undefined, failed: boolean): void
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/** The parts of a `traceparent`. */
export interface ParsedTraceparent {
  readonly traceId: string
  readonly spanId: string
  readonly traceFlags: number
}

/** `00-<trace id>-<span id>-<flags>` for a span context. */
export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

/**
 * The trace id, span id and flags of a `traceparent`, or `undefined` when it is malformed, has
 * version `ff`, an all-zero id, or (version 00) anything after the flags. Later versions are read
 * by their first four fields, as the W3C recommendation asks.
 */
export function parseTraceparent(text: string): ParsedTraceparent | undefined {
  const match = TRACEPARENT.exec(text.trim())
  if (match === null) return undefined
  const [, version, traceId, spanId, flags, rest] = match
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined
  return { traceId: traceId!, spanId: spanId!, traceFlags: Number.parseInt(flags!, 16) }
}
