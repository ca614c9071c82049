/**
 * A stop an operator requested for this process's worker (`taskengine workers stop <id>`, the
 * API, the admin UI): the `worker` and `serve` commands stop on it as on SIGTERM, gracefully,
 * and exit 0.
 */
import type { WorkerCommand } from '../store/types.js'

/** The handler to give `engine.start`, and the promise of the request's description. */
export interface StopRequest {
  readonly onStopRequested: (command: WorkerCommand) => void
  /** Resolves with `stop requested by <who>` (or `stop requested`) when one arrives. */
  readonly requested: Promise<string>
}

export function stopRequest(): StopRequest {
  let resolve: (why: string) => void = () => undefined
  const requested = new Promise<string>((r) => (resolve = r))
  return { onStopRequested: (command) => resolve(`stop requested${command.by === null ? '' : ` by ${command.by}`}`), requested }
}
