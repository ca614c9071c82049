/**
 * Run events: every change of a run as it happens. Sync runs deliver them to `onEvent` and to
 * engine subscribers; the server's live views build on them.
 */
import type { LogEntry, Progress, RunError, RunResult } from '../../task/context.js'
import type { Run } from '../../store/types.js'

interface EventBase {
  readonly runId: string
  readonly task: string
  readonly time: Date
  /** The pool the run belongs to (durable runs in a pool). */
  readonly poolId?: string | null
  /** The event happened in another process sharing the store (received through it). */
  readonly remote?: boolean
}

/** A durable run was stored. */
export interface RunCreatedEvent extends EventBase {
  readonly type: 'created'
  readonly run: Run
}

/** A failed or cancelled durable run was put back to pending by `retry`. */
export interface RunRetriedEvent extends EventBase {
  readonly type: 'retried'
  readonly run: Run
}

/** A durable run's attempt ended and the run will be tried again at `runAt`. */
export interface RunRetryingEvent extends EventBase {
  readonly type: 'retrying'
  readonly attempt: number
  readonly runAt: Date
  readonly error: RunError | null
}

/** A durable run parked on a pool (`waiting`) or resumed after it (`resumed`). */
export interface RunWaitingEvent extends EventBase {
  readonly type: 'waiting' | 'resumed'
}

/** A durable run was soft-deleted. */
export interface RunDeletedEvent extends EventBase {
  readonly type: 'deleted'
}

/** The handler started (an attempt began). */
export interface RunStartedEvent extends EventBase {
  readonly type: 'started'
  readonly label: string
  readonly attempt: number
}

/** A log line was written. */
export interface RunLogEvent extends EventBase {
  readonly type: 'log'
  readonly entry: LogEntry
}

/** Progress was reported (the merged state). */
export interface RunProgressEvent extends EventBase {
  readonly type: 'progress'
  readonly progress: Progress
}

/** The handler set part of its result (`ctx.setResult`). */
export interface RunResultEvent extends EventBase {
  readonly type: 'result'
  /** The partial result so far (every `setResult` of the attempt merged). */
  readonly data: Readonly<Record<string, unknown>>
}

/** Tags were added (the full set). */
export interface RunTagsEvent extends EventBase {
  readonly type: 'tags'
  readonly tags: readonly string[]
}

/** The run finished; `type` is its status. */
export interface RunFinishedEvent extends EventBase {
  readonly type: 'succeeded' | 'failed' | 'cancelled'
  readonly error: RunError | null
  /** In-process runs: the whole result. */
  readonly result?: RunResult
  /** Durable runs finished without a worker (cancelled before starting, rescued, expired): the stored run. */
  readonly run?: Run
  /** Durable runs finished by a worker: the attempt number and how long it took. */
  readonly attempt?: number
  readonly durationMs?: number
}

/** Every event a run emits. */
export type RunEvent =
  | RunCreatedEvent
  | RunStartedEvent
  | RunLogEvent
  | RunProgressEvent
  | RunTagsEvent
  | RunResultEvent
  | RunWaitingEvent
  | RunRetryingEvent
  | RunRetriedEvent
  | RunDeletedEvent
  | RunFinishedEvent

/** The event types, for validating subscriptions. */
export const RUN_EVENT_TYPES: readonly RunEvent['type'][] = [
  'created',
  'started',
  'log',
  'progress',
  'tags',
  'result',
  'waiting',
  'resumed',
  'retrying',
  'retried',
  'deleted',
  'succeeded',
  'failed',
  'cancelled',
]

/** Receives run events. Must not throw; errors are reported, never passed back to the run. */
export type RunEventListener = (event: RunEvent) => void

/** Which events a subscription receives; omitted properties match everything. */
export interface RunEventFilter {
  readonly runId?: string
  readonly task?: string
  /** Only events of runs in this pool (durable runs; the pool id is read from the event's run context). */
  readonly poolId?: string
}
