/**
 * The event bus: fan-out of run events to this process's subscribers. Callers check `active`
 * before building an event, so nothing is built while nobody listens.
 */
import type { RunEvent, RunEventFilter, RunEventListener } from './run-events.js'

interface Subscription {
  readonly listener: RunEventListener
  readonly filter: RunEventFilter | undefined
}

/** Fan-out of run events to subscribers. A throwing listener is reported and does not disturb others. */
export class EventBus {
  readonly #subs = new Set<Subscription>()
  readonly #onListenerError: (error: unknown) => void

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError
  }

  /** Whether anyone listens (callers skip building events otherwise). */
  get active(): boolean {
    return this.#subs.size > 0
  }

  subscribe(listener: RunEventListener, filter?: RunEventFilter): () => void {
    const sub: Subscription = { listener, filter }
    this.#subs.add(sub)
    return () => {
      this.#subs.delete(sub)
    }
  }

  emit(event: RunEvent): void {
    for (const { listener, filter } of this.#subs) {
      if (filter !== undefined) {
        if (filter.runId !== undefined && filter.runId !== event.runId) continue
        if (filter.task !== undefined && filter.task !== event.task) continue
        if (filter.poolId !== undefined && filter.poolId !== event.poolId) continue
      }
      deliver(listener, event, this.#onListenerError)
    }
  }
}

/** Calls a listener, routing a throw to `onError` so one bad listener cannot break a run. */
export function deliver(listener: RunEventListener, event: RunEvent, onError: (error: unknown) => void): void {
  try {
    listener(event)
  } catch (error) {
    onError(error)
  }
}
