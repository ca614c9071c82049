/**
 * Following one bulk job for a stream subscription (`{"type":"subscribe","bulkId":…}`): the job
 * as it is now, then each change. Changes this engine saves arrive at once (`engine.bulk.watch`);
 * a job worked by another process sharing the store is read from the store every
 * `pollIntervalMs` until it ends. Only progress goes out: a snapshot older than the one sent
 * (a read that raced a push) or equal to it is dropped, so the client sees counts that only grow
 * and exactly one message with the job's final state.
 */
import type { Engine } from '../../engine/engine.js'
import type { BulkJob } from '../../store/types.js'

/** Follows one bulk job; {@link close} stops it. */
export class BulkFollow {
  readonly #engine: Engine
  readonly #jobId: string
  readonly #pollIntervalMs: number
  readonly #send: (job: BulkJob) => void
  #sent: BulkJob | undefined
  #unwatch: (() => void) | undefined
  #poll: NodeJS.Timeout | undefined
  #closed = false

  /** `send` gets the job each time it moved on; nothing is sent before {@link start}. */
  constructor(engine: Engine, jobId: string, pollIntervalMs: number, send: (job: BulkJob) => void) {
    this.#engine = engine
    this.#jobId = jobId
    this.#pollIntervalMs = pollIntervalMs
    this.#send = send
  }

  /** Sends `job` (as just read) and follows it while it runs. */
  start(job: BulkJob): void {
    if (this.#closed) return
    // Listen before sending, so that no batch saved here from now on is missed.
    this.#unwatch = this.#engine.bulk.watch((changed) => {
      if (changed.id === this.#jobId) this.#offer(changed)
    })
    this.#offer(job)
    this.#schedule()
  }

  close(): void {
    this.#closed = true
    this.#unwatch?.()
    this.#unwatch = undefined
    clearTimeout(this.#poll)
  }

  #offer(job: BulkJob): void {
    if (this.#closed || !movedOn(this.#sent, job)) return
    this.#sent = job
    this.#send(job)
    if (job.state !== 'running') this.close()
  }

  /** Reads the store now and then, unless this engine works the job (its saves are heard at once). */
  #schedule(): void {
    if (this.#closed) return
    this.#poll = setTimeout(() => {
      void (async () => {
        if (this.#closed) return
        if (!this.#engine.bulk.working(this.#jobId)) {
          try {
            const job = await this.#engine.bulk.get(this.#jobId)
            // Deleted meanwhile (by retention): nothing more will come.
            if (job === undefined) return this.close()
            this.#offer(job)
          } catch {
            // The store is unreachable for now; try again on the next round.
          }
        }
        this.#schedule()
      })()
    }, this.#pollIntervalMs)
    this.#poll.unref()
  }
}

/** Whether `next` is further along than `sent`: first seen, ended, or more runs handled. */
function movedOn(sent: BulkJob | undefined, next: BulkJob): boolean {
  if (sent === undefined) return true
  if (sent.state !== 'running') return false
  if (next.state !== 'running') return true
  return next.done + next.skipped > sent.done + sent.skipped
}
