/** The workers role: the registry of live worker processes (and observers) sharing a store. */

/** A live worker process as registered in the store. */
export interface WorkerInfo {
  /** The worker's id (one per engine that started a worker or observes). */
  readonly id: string
  /** Its host name. */
  readonly host: string
  /** Its process id. */
  readonly pid: number
  /** Its slots. */
  readonly concurrency: number
  /** Slots busy at its last heartbeat. */
  readonly busy: number
  /** The queues it serves (`null`: every queue). */
  readonly queues: readonly string[] | null
  /** The tasks it can execute. */
  readonly tasks: readonly string[]
  /** When it started. */
  readonly startedAt: Date
  /** Its last heartbeat. */
  readonly heartbeatAt: Date
  /** Ids of the runs it executes now. */
  readonly running: readonly string[]
  /**
   * The process serves live views and wants run events from the others (see
   * {@link SignalBus.signal}). A process that only observes has concurrency 0.
   */
  readonly observer: boolean
  /**
   * What the worker does, as it said at its last save: `active` (claims runs), `quiet` (claims
   * none, finishes those it holds), `stopping` (stops gracefully, then its row goes).
   */
  readonly state: WorkerState
  /** The last command an operator gave it (it applies it within a heartbeat); `null`: none. */
  readonly command: WorkerCommand | null
}

/** What a worker does now; see {@link WorkerInfo.state}. */
export type WorkerState = 'active' | 'quiet' | 'stopping'

/** What an operator can ask of a worker: stop claiming, claim again, stop gracefully. */
export type WorkerCommandType = 'quiet' | 'resume' | 'stop'

/** A command stored on a worker's row, read by the worker at its heartbeat. */
export interface WorkerCommand {
  readonly type: WorkerCommandType
  /** Who gave it (a user id), if known. */
  readonly by: string | null
  /** When it was given. */
  readonly at: Date
}

/** A command to store; see {@link WorkerStore.commandWorker}. */
export interface WorkerCommandWrite {
  readonly type: WorkerCommandType
  readonly by: string | null
  /** Epoch ms. */
  readonly at: number
}

/** A worker's row to save; see {@link WorkerStore.saveWorker}. Times are epoch ms. */
export type WorkerWrite = Omit<WorkerInfo, 'startedAt' | 'heartbeatAt' | 'state' | 'command'> & {
  /** When it started, epoch ms (kept from the first save). */
  readonly startedAt: number
  /** This heartbeat, epoch ms. */
  readonly heartbeatAt: number
  /** What it does now (default `active`). */
  readonly state?: WorkerState
}

/**
 * When a worker serving a task on a queue was last seen, for workers whose rows are gone (they
 * stopped gracefully, or retention purged them); see {@link WorkerStore.workersSeen}.
 */
export interface WorkerSeen {
  /** A task the worker served. */
  readonly task: string
  /** A queue it served; `null`: it served every queue. */
  readonly queue: string | null
  /** Its last heartbeat (the latest of the workers that served the task on the queue). */
  readonly seenAt: Date
}

/** The workers role. */
export interface WorkerStore {
  /**
   * Registers or refreshes a worker process (a known one keeps its host, pid, start time and
   * command). Resolves to the command stored on its row (`null`: none): the worker applies it.
   */
  saveWorker(worker: WorkerWrite): Promise<WorkerCommand | null>
  /**
   * Removes a worker's row (it stopped). A worker with slots leaves its last heartbeat per task
   * and queue it served behind (see {@link workersSeen}), in the same transaction.
   */
  removeWorker(id: string): Promise<void>
  /** When workers whose rows were removed or purged were last seen, per task and queue they served. */
  workersSeen(): Promise<WorkerSeen[]>
  /** Workers with a heartbeat at or after `since` (and before `until`, when given), oldest start first. */
  listWorkers(since: number, until?: number): Promise<WorkerInfo[]>
  /** One worker's row, live or not; `undefined` when there is none. */
  getWorker(id: string): Promise<WorkerInfo | undefined>
  /**
   * Stores a command on a worker's row, replacing the one there, except that a `stop` stays (a
   * stopping worker cannot be quieted or resumed). Resolves to the row as it is after, or
   * `undefined` when there is none.
   */
  commandWorker(id: string, command: WorkerCommandWrite): Promise<WorkerInfo | undefined>
  /**
   * Deletes the rows of workers whose last heartbeat was before `before` (dead long enough),
   * leaving their last heartbeats behind as {@link removeWorker} does; returns how many rows went.
   */
  purgeWorkers(before: number): Promise<number>
}
