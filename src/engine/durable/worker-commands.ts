/**
 * Commands to workers, from any process sharing the store (the API, the admin UI, the CLI):
 * `quiet` (stop claiming, finish the runs held), `resume` (claim again), `stop` (stop gracefully).
 * The command is stored on the worker's row, which the worker reads back at each heartbeat; where
 * the store can push (PostgreSQL), a `worker` signal makes it read the row at once.
 */
import { ConflictError, NotFoundError, ValidationError, coerceError, describeValue } from '../../errors.js'
import type { Store, WorkerCommand, WorkerCommandType, WorkerInfo } from '../../store/types.js'

/** Every command a worker understands. */
export const WORKER_COMMANDS: readonly WorkerCommandType[] = ['quiet', 'resume', 'stop']

/** What {@link commandWorker} needs. */
export interface WorkerCommandHost {
  readonly store: Store
  now(): number
  /** Heartbeats at or after this time are alive. */
  liveSince(): number
  onError(error: Error): void
}

/** Checks that `value` names a command; a `ValidationError` naming the choices otherwise. */
export function checkWorkerCommand(value: unknown): WorkerCommandType {
  if (typeof value === 'string' && (WORKER_COMMANDS as readonly string[]).includes(value)) return value as WorkerCommandType
  throw new ValidationError(`command: expected ${WORKER_COMMANDS.join(', ')}, got ${describeValue(value)}`)
}

/**
 * Stores `command` on the row of worker `id` and signals it. An unknown id is a `NotFoundError`
 * naming it; a dead worker, a process that runs no worker, and a worker already stopping
 * (for `quiet`/`resume`) are a `ConflictError` saying why. Returns the row as stored.
 */
export async function commandWorker(host: WorkerCommandHost, id: string, command: unknown, by: string | null): Promise<WorkerInfo> {
  const type = checkWorkerCommand(command)
  if (typeof id !== 'string' || id === '') throw new ValidationError(`worker id: expected a non-empty string, got ${describeValue(id)}`)
  const { store } = host
  const worker = await store.getWorker(id)
  if (worker === undefined) throw new NotFoundError(`unknown worker ${JSON.stringify(id)} (taskengine workers list shows the live ones)`)
  if (worker.heartbeatAt.getTime() < host.liveSince()) {
    throw new ConflictError(`worker "${id}" is dead (no heartbeat since ${worker.heartbeatAt.toISOString()}): there is nothing to ${type}; its runs are rescued when their leases expire`)
  }
  if (worker.concurrency === 0) throw new ConflictError(`process "${id}" runs no worker (it only serves live views): there is nothing to ${type}`)
  if (worker.command?.type === 'stop' && type !== 'stop') throw new ConflictError(`worker "${id}" is stopping (stop requested${worker.command.by === null ? '' : ` by ${worker.command.by}`} at ${worker.command.at.toISOString()}): it cannot be ${type === 'quiet' ? 'quieted' : 'resumed'}`)
  const stored = await store.commandWorker(id, { type, by, at: host.now() })
  // The row went meanwhile: the worker stopped (or was purged).
  if (stored === undefined) throw new NotFoundError(`unknown worker ${JSON.stringify(id)}: it stopped meanwhile`)
  await store.signal?.({ type: 'worker', id }).catch((error: unknown) => host.onError(coerceError(error)))
  return stored
}

/**
 * What a worker does when an operator asks it to stop: call the host's `onStopRequested`, or,
 * without one, stop the worker (`stopWorker`, the engine's `stop()`). Errors go to `onError`.
 */
export function stopRequestHandler(handler: ((command: WorkerCommand) => void) | undefined, stopWorker: () => Promise<void>, onError: (error: Error) => void): (command: WorkerCommand) => void {
  return (command) => {
    if (handler === undefined) {
      stopWorker().catch((error: unknown) => onError(coerceError(error)))
      return
    }
    try {
      handler(command)
    } catch (error) {
      onError(new Error(`onStopRequested threw: ${coerceError(error).message}`, { cause: error }))
    }
  }
}
