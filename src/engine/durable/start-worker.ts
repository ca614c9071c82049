/**
 * Starting the worker of an engine: its settings read, the engine's parts it uses wired into one
 * {@link WorkerEngine}, the worker registered, then the schedules started where asked. The engine
 * keeps the one it gets back (`Engine.start`).
 */
import { coerceError } from '../../errors.js'
import type { Store } from '../../store/types.js'
import type { TaskRegistry } from '../../task/registry.js'
import type { EventRelay } from '../events/relay.js'
import type { FlowControl } from '../flow/flow-control.js'
import { workerConfig, type EngineConfig } from '../options.js'
import type { EngineSchedules } from '../schedules/schedules.js'
import type { LogBackendRegistry } from '../settings/log-backend-registry.js'
import { STORE_LOG_BACKEND } from '../settings/log-backends.js'
import type { SharedSettings } from '../settings/shared-settings.js'
import type { Tracing } from '../tracing/tracing.js'
import type { Pools } from './pools.js'
import { Worker, type WorkerOptions } from './worker.js'
import { stopRequestHandler } from './worker-commands.js'

/** The engine's parts a worker uses. */
export interface WorkerParts {
  readonly config: EngineConfig
  readonly registry: TaskRegistry
  readonly relay: EventRelay
  readonly settings: SharedSettings
  readonly logBackends: LogBackendRegistry
  readonly pools: Pools
  readonly flow: FlowControl
  readonly tracing: Tracing
  readonly schedules: EngineSchedules
  store(): Promise<Store>
  /** Stops `worker` if it is still the engine's (an operator's `stop` without a host handler). */
  stop(worker: Worker): Promise<void>
  /** Keeps `worker` as the engine's, before it starts (so runs it claims find it). */
  adopt(worker: Worker): void
}

/** Builds, registers and starts a worker with `options` (see `Engine.start`). */
export async function startWorker(parts: WorkerParts, options: WorkerOptions): Promise<Worker> {
  const { config, relay, settings: shared, logBackends } = parts
  const worker = workerConfig(options, config.pollIntervalMs)
  const store = await parts.store()
  const settings = await shared.load(true)
  const started: Worker = new Worker(
    {
      store,
      registry: parts.registry,
      now: config.clock,
      emit: (event) => relay.emit(event),
      listening: () => relay.listening(),
      observing: () => relay.observing(),
      peers: (workers) => relay.peers(workers),
      logBackend: () => logBackends.writeTo(shared.current?.logBackend ?? STORE_LOG_BACKEND.name),
      refreshSettings: async () => void (await shared.load(true)),
      onError: config.onError,
      leaseMs: config.leaseMs,
      heartbeatMs: config.heartbeatMs,
      maintenanceMs: Math.max(1, Math.floor(config.leaseMs / 2)),
      progressIntervalMs: config.progressIntervalMs,
      hookTimeoutMs: config.hookTimeoutMs,
      logLimits: config.logLimits,
      maxArtifactBytes: config.maxArtifactBytes,
      unservedAfterMs: config.unservedAfterMs,
      openPool: parts.pools.open,
      flow: () => parts.flow.policy(),
      stopRequested: stopRequestHandler(worker.onStopRequested, () => parts.stop(started), config.onError),
      tracing: parts.tracing,
    },
    worker.concurrency,
    worker.queues,
    worker.pollIntervalMs,
    worker.prefetch,
  )
  started.setConcurrency(settings.workerConcurrency)
  parts.adopt(started)
  await started.start(worker.keepAlive)
  if (worker.schedules) await parts.schedules.start()
  // The worker's row now says this process serves live views; the server's own row goes.
  if (relay.observing()) await store.removeWorker(relay.presenceId).catch((error: unknown) => config.onError(coerceError(error)))
  return started
}
