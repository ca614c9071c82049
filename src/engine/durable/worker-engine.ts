/**
 * What a worker needs from its engine: the store and the registry, the clock, where events and
 * errors go, the settings that apply to it, and the engine's limits. The engine builds one when it
 * starts a worker; the worker's parts (claim loop, executions, heartbeat, maintenance) share it.
 */
import type { TaskRegistry } from '../../task/registry.js'
import type { Store, WorkerCommand, WorkerInfo } from '../../store/types.js'
import type { RunEvent } from '../events/run-events.js'
import type { LogLimits, PoolOpener } from '../execute/active-run.js'
import type { FlowPolicy } from '../flow/flow-control.js'
import type { LogBackend } from '../settings/log-backends.js'
import type { Tracing } from '../tracing/tracing.js'

/** The engine services a worker uses. */
export interface WorkerEngine {
  readonly store: Store
  readonly registry: TaskRegistry
  now(): number
  /** Emits an event to subscribers. */
  emit(event: RunEvent): void
  /** Whether anyone listens (events are not built otherwise). */
  listening(): boolean
  /** Whether this process also serves live views (it says so in its worker row). */
  observing(): boolean
  /** Learns, at each heartbeat, the live processes sharing the store (to decide whether to share events). */
  peers(workers: readonly WorkerInfo[]): void
  /** Where log lines go now: `undefined` for the store, else a registered backend. */
  logBackend(): LogBackend | undefined
  /** Re-reads shared settings (at each heartbeat). */
  refreshSettings(): Promise<void>
  onError(error: Error): void
  readonly leaseMs: number
  readonly heartbeatMs: number
  readonly maintenanceMs: number
  readonly progressIntervalMs: number
  readonly hookTimeoutMs: number
  readonly logLimits: LogLimits
  readonly maxArtifactBytes: number
  /** The engine's `unservedAfterMs` (`undefined`: off); tasks may set their own. */
  readonly unservedAfterMs: number | undefined
  readonly openPool: PoolOpener
  /** The limits across every worker sharing the store that hold now (code's and live changes). */
  flow(): FlowPolicy
  /**
   * An operator asked this worker to stop (see `engine.commandWorker`): the engine stops it, or
   * hands the request to the host that asked to handle it (`onStopRequested`). Called once.
   */
  stopRequested(command: WorkerCommand): void
  /** Spans of attempts (OpenTelemetry), when tracing is on. */
  readonly tracing: Tracing
}
