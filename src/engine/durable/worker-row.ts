/**
 * The worker's row in the store's `workers` table: what operators see of it (host, pid,
 * concurrency, busy slots, the runs it holds, whether the process serves live views, whether it
 * is quiet). Saved at start and at each heartbeat, and at most once a second when what it runs
 * changes (never a write per run); removed when the worker stops. Each save reads back the
 * command an operator left on the row (quiet, resume, stop), which the worker then applies: so a
 * command reaches a worker on any machine within a heartbeat, or at once when the store pushes
 * a `worker` signal (PostgreSQL).
 */
import { coerceError } from '../../errors.js'
import type { Store, WorkerCommand } from '../../store/types.js'

/** How often, at most, a change of what the worker runs is saved between heartbeats. */
const SAVE_DELAY_MS = 1000

/** The row as the store saves it (times in epoch ms). */
export type WorkerRowData = Parameters<Store['saveWorker']>[0]

export class WorkerRow {
  readonly #id: string
  readonly #store: Store
  readonly #describe: (now: number) => WorkerRowData
  readonly #now: () => number
  readonly #onError: (error: Error) => void
  readonly #onCommand: (command: WorkerCommand | null) => void
  /** A pending save (busy slots, running runs). */
  #saveTimer: NodeJS.Timeout | undefined
  #removed = false
  /** Saves in flight (each settles without rejecting). */
  readonly #saving = new Set<Promise<void>>()

  /** `describe`: the row as of `now`; `onCommand`: the command read back at each save. */
  constructor(id: string, store: Store, describe: (now: number) => WorkerRowData, now: () => number, onError: (error: Error) => void, onCommand: (command: WorkerCommand | null) => void) {
    this.#id = id
    this.#store = store
    this.#describe = describe
    this.#now = now
    this.#onError = onError
    this.#onCommand = onCommand
  }

  /** Whether the row was removed (the worker stopped). */
  get removed(): boolean {
    return this.#removed
  }

  /** Saves the row now, then applies the command found on it (unless the row went meanwhile). */
  async save(): Promise<void> {
    // Never after the removal: a save landing after the delete would bring the row back.
    if (this.#removed) return
    const saving = this.#store.saveWorker(this.#describe(this.#now()))
    const settled = saving.then(
      () => undefined,
      () => undefined,
    )
    this.#saving.add(settled)
    try {
      const command = await saving
      // A store of an older contract may answer nothing: no command.
      if (!this.#removed) this.#onCommand(command ?? null)
    } finally {
      this.#saving.delete(settled)
    }
  }

  /** Saves the row within a second (what the worker runs changed). */
  saveSoon(): void {
    if (this.#saveTimer !== undefined || this.#removed) return
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined
      if (!this.#removed) this.save().catch((error: unknown) => this.#onError(coerceError(error)))
    }, SAVE_DELAY_MS)
    this.#saveTimer.unref()
  }

  /** Saves the row now unless the worker stopped (e.g. when the process starts serving live views). */
  announce(): Promise<void> {
    return this.#removed ? Promise.resolve() : this.save()
  }

  /** Removes the row (the worker stopped); no save follows. */
  async remove(): Promise<void> {
    clearTimeout(this.#saveTimer)
    this.#removed = true
    // Saves in flight first (on a pool of connections one could otherwise land after the delete).
    await Promise.all(this.#saving)
    await this.#store.removeWorker(this.#id).catch((error: unknown) => this.#onError(coerceError(error)))
  }
}
