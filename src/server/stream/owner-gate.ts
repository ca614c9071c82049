/**
 * What a caller allowed only its own runs (`runs:read:own`) receives from the stream: the
 * events of runs it created, in stream order, live and on resume.
 */
import type { Engine } from '../../engine/engine.js'
import type { StreamEntry } from './event-log.js'

/** Runs whose owner an own-runs-only client remembers (the oldest are forgotten and read again if needed). */
const OWNERS_KEPT = 10_000
/** Entries an own-runs-only client may have waiting for owner lookups before it is dropped as too slow. */
const OWNER_QUEUE_LIMIT = 10_000

/**
 * Lets through, in stream order, the entries of runs the caller created. Events do not carry
 * the run's creator: it is learned from events that carry the run (`created`, `retried`) or
 * read from the store once per run; while a read is pending, later entries wait behind it so
 * the client still receives them in order. Runs the store does not know (in-process runs) are
 * nobody's.
 */
export class OwnerGate {
  readonly #engine: Engine
  readonly #caller: string
  readonly #deliver: (entry: StreamEntry) => void
  readonly #onOverflow: () => void
  /** Run id → whether the caller created it. */
  readonly #owned = new Map<string, boolean>()
  readonly #queue: StreamEntry[] = []
  #waiting = false
  #closed = false

  constructor(engine: Engine, caller: string, deliver: (entry: StreamEntry) => void, onOverflow: () => void) {
    this.#engine = engine
    this.#caller = caller
    this.#deliver = deliver
    this.#onOverflow = onOverflow
  }

  /** Takes a live entry; it is delivered once its run's owner is known, if it is the caller. */
  admit(entry: StreamEntry): void {
    if (this.#closed) return
    if (this.#queue.length === 0 && !this.#waiting) {
      const owned = this.known(entry)
      if (owned !== undefined) {
        if (owned) this.#deliver(entry)
        return
      }
    }
    if (this.#queue.length >= OWNER_QUEUE_LIMIT) return this.#onOverflow()
    this.#queue.push(entry)
    if (!this.#waiting) this.#drain()
  }

  /** Whether the caller created the entry's run, when that is known without reading the store. */
  known(entry: StreamEntry): boolean | undefined {
    const carried = (entry.event as { run?: { createdBy?: unknown } }).run
    if (carried !== undefined && carried !== null && 'createdBy' in carried) this.#remember(entry.event.runId, carried.createdBy === this.#caller)
    return this.#owned.get(entry.event.runId)
  }

  /** Whether the caller created the run (read from the store when not known yet). */
  async visible(runId: string): Promise<boolean> {
    const owned = this.#owned.get(runId)
    if (owned !== undefined) return owned
    let run: Awaited<ReturnType<Engine['getRun']>>
    try {
      run = await this.#engine.getRun(runId)
    } catch {
      // Unknown owner: show nothing rather than someone else's run.
      return false
    }
    const mine = run !== undefined && run.createdBy === this.#caller
    this.#remember(runId, mine)
    return mine
  }

  /** Learns the owners of the entries' runs, so that {@link known} answers for each. */
  async resolve(entries: readonly StreamEntry[]): Promise<void> {
    for (const entry of entries) if (this.known(entry) === undefined) await this.visible(entry.event.runId)
  }

  close(): void {
    this.#closed = true
    this.#queue.length = 0
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const entry = this.#queue[0]!
      const owned = this.known(entry)
      if (owned === undefined) {
        this.#waiting = true
        void this.visible(entry.event.runId).then(() => {
          this.#waiting = false
          this.#drain()
        })
        return
      }
      this.#queue.shift()
      if (owned) this.#deliver(entry)
    }
  }

  #remember(runId: string, owned: boolean): void {
    this.#owned.delete(runId)
    this.#owned.set(runId, owned)
    if (this.#owned.size > OWNERS_KEPT) this.#owned.delete(this.#owned.keys().next().value!)
  }
}
