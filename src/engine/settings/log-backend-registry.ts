/**
 * The log backends an engine knows: the store (built in), then those registered. Workers write to
 * the one the `logBackend` setting names; reading a run's lines tries the current one first, then
 * the others (lines stay where they were written when the setting changes).
 */
import { ConflictError } from '../../errors.js'
import type { LogEntry } from '../../task/context.js'
import type { Store } from '../../store/types.js'
import { STORE_LOG_BACKEND, checkLogBackend, type LogBackend, type LogBackendInfo } from './log-backends.js'

export class LogBackendRegistry {
  readonly #backends = new Map<string, LogBackend>()

  /** Adds a backend; a malformed one is a `ValidationError`, a duplicate name a `ConflictError`. */
  register(backend: LogBackend): void {
    checkLogBackend(backend)
    if (this.#backends.has(backend.name)) throw new ConflictError(`a log backend named "${backend.name}" is already registered`)
    this.#backends.set(backend.name, backend)
  }

  /** The registered backends (not the store). */
  list(): LogBackend[] {
    return [...this.#backends.values()]
  }

  /** The choices: the store, then the registered ones. */
  infos(): LogBackendInfo[] {
    return [STORE_LOG_BACKEND, ...[...this.#backends.values()].map((b) => ({ name: b.name, title: b.title, description: b.description }))]
  }

  /** Every name the `logBackend` setting may take. */
  names(): string[] {
    return [STORE_LOG_BACKEND.name, ...this.#backends.keys()]
  }

  /** Where workers write for this setting: `undefined` for the store, else the backend. */
  writeTo(setting: string): LogBackend | undefined {
    return setting === STORE_LOG_BACKEND.name ? undefined : this.#backends.get(setting)
  }

  /** A run's lines after `after`, at most `limit`: from the `current` backend first, then the others. */
  async read(store: Store, runId: string, after: number, limit: number, current: () => string | Promise<string>): Promise<LogEntry[]> {
    if (this.#backends.size === 0) return store.getLogs(runId, after, limit)
    const first = await current()
    const order = [first, ...this.names().filter((name) => name !== first)]
    for (const name of order) {
      const backend = this.#backends.get(name)
      const lines = backend === undefined ? await store.getLogs(runId, after, limit) : await backend.read(runId, after, limit)
      if (lines.length > 0) return lines
    }
    return []
  }
}
