/**
 * The signal bus, an optional part of a store: messages between the processes sharing it
 * (PostgreSQL: LISTEN/NOTIFY). Without it, cancels travel with heartbeats, settings are read again
 * at heartbeats, and other processes' run events are not seen live.
 */

/** A message between processes sharing a store. */
export type StoreSignal =
  /** Stop these runs wherever they execute. */
  | { readonly type: 'cancel'; readonly ids: readonly string[]; readonly reason: string }
  /** Run events from the process `origin` (JSON-safe: times as ISO strings). */
  | { readonly type: 'events'; readonly origin: string; readonly events: readonly unknown[] }
  /** The process `origin` started serving live views: workers elsewhere start sending it events. */
  | { readonly type: 'observing'; readonly origin: string }
  /** Settings changed: every process reads them again. */
  | { readonly type: 'settings' }
  /** An operator left a command on the row of worker `id`: it reads its row at once (else at its next heartbeat). */
  | { readonly type: 'worker'; readonly id: string }

/**
 * Push between the processes sharing a store. A backend has all three members or none.
 *
 * @example
 * const off = store.onSignal('cancel', (message) => abort(message))
 * await store.signalsListening('cancel')
 * await store.signal({ type: 'cancel', ids: [runId], reason: 'operator' })
 */
export interface SignalBus {
  /**
   * Sends a signal to every process sharing the store, this one included. A signal too large for
   * the backend may arrive split into several (events over several `events` messages, ids over
   * several `cancel` messages); an event too large on its own may be left out (views catch up
   * from the store).
   */
  signal(message: StoreSignal): Promise<void>
  /** Receives signals of one kind from every process; returns the function that stops it. */
  onSignal(type: StoreSignal['type'], listener: (message: StoreSignal) => void): () => void
  /** Resolves once signals of this kind are being received (after {@link onSignal}). */
  signalsListening(type: StoreSignal['type']): Promise<void>
}
