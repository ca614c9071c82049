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
}

/** A worker's row to save; see {@link WorkerStore.saveWorker}. Times are epoch ms. */
export type WorkerWrite = Omit<WorkerInfo, 'startedAt' | 'heartbeatAt'> & {
  /** When it started, epoch ms (kept from the first save). */
  readonly startedAt: number
  /** This heartbeat, epoch ms. */
  readonly heartbeatAt: number
}

/** The workers role. */
export interface WorkerStore {
  /** Registers or refreshes a worker process (a known one keeps its host, pid and start time). */
  saveWorker(worker: WorkerWrite): Promise<void>
  /** Removes a worker's row (it stopped). */
  removeWorker(id: string): Promise<void>
  /** Workers with a heartbeat at or after `since`, oldest start first. */
  listWorkers(since: number): Promise<WorkerInfo[]>
}
