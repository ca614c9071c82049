/**
 * The processes sharing the store, as the engine reports them: the live ones (workers, and
 * servers that only serve live views), commands to a worker, the dead ones with what became of
 * their runs, and the tasks no live worker serves. Live means a heartbeat within three heartbeat
 * intervals, one rule for every read here.
 */
import type { Run, Store, WorkerCommandType, WorkerInfo } from '../../store/types.js'
import type { TaskRegistry } from '../../task/registry.js'
import { deadWorkers, type DeadWorker } from './dead-workers.js'
import { UnservedWatch, findUnserved, unservedAfterMsOf, unservedRun, type UnservedRun, type UnservedTask } from './unserved.js'
import { commandWorker } from './worker-commands.js'
import type { Worker } from './worker.js'

/** What the fleet reads of the engine. */
export interface FleetHost {
  readonly store: () => Promise<Store>
  readonly now: () => number
  readonly heartbeatMs: number
  readonly registry: TaskRegistry
  /** The engine's own `unservedAfterMs` (tasks may set their own). */
  readonly unservedAfterMs: number | undefined
  /** The worker running in this process, if any. */
  readonly worker: () => Worker | undefined
  readonly onError: (error: Error) => void
}

/** The engine's view of the processes sharing its store (see the `Engine` methods of the same names). */
export class Fleet {
  readonly #host: FleetHost
  /** Tasks with pending runs no live worker serves, read at most once a second (or a heartbeat). */
  readonly #unserved: UnservedWatch

  constructor(host: FleetHost) {
    this.#host = host
    this.#unserved = new UnservedWatch(async () => findUnserved(await host.store(), host.now(), this.#liveSince()), host.now, host.heartbeatMs)
  }

  async workers(): Promise<WorkerInfo[]> {
    return (await this.#host.store()).listWorkers(this.#liveSince())
  }

  async command(id: string, command: WorkerCommandType, by: string | null): Promise<WorkerInfo> {
    const { store, now, onError, worker } = this.#host
    const row = await commandWorker({ store: await store(), now, liveSince: () => this.#liveSince(), onError }, id, command, by)
    // This engine's own worker applies it at once (others at their heartbeat, or the signal's).
    const own = worker()
    if (own?.id === id) await own.announce()
    return row
  }

  async dead(): Promise<DeadWorker[]> {
    return deadWorkers(await this.#host.store(), this.#host.now(), this.#liveSince())
  }

  unserved(): Promise<UnservedTask[]> {
    return this.#unserved.current()
  }

  async unservedRun(run: Run): Promise<UnservedRun | undefined> {
    if (run.status !== 'pending') return undefined
    return unservedRun(run, await this.#unserved.current(), unservedAfterMsOf(this.#host.registry, run.task, this.#host.unservedAfterMs))
  }

  #liveSince(): number {
    return this.#host.now() - this.#host.heartbeatMs * 3
  }
}
