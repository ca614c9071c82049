/**
 * The order and de-duplication of fenced writes sent as arrays: batches lock their runs in id
 * order (the arrays drive nested-loop joins; a batch of several statements locks all its runs
 * first), so two batches over the same runs, say a heartbeat and a batch of one worker, queue on
 * each other instead of deadlocking.
 */

/** A fenced write's key: which run, under which token. */
export interface Fenced {
  readonly id: string
  readonly token: string
}

/** The key of a fenced write. */
export const keyOf = (write: Fenced): string => `${write.id}\u0000${write.token}`

/** Orders fenced writes by run id. */
export function byId(a: Fenced, b: Fenced): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** Whether no two writes name the same run (the usual batch): then no two share a key either, and no key string is built. */
export function distinctRuns(writes: readonly Fenced[]): boolean {
  if (writes.length < 2) return true
  const ids = new Set<string>()
  for (const write of writes) ids.add(write.id)
  return ids.size === writes.length
}

/** The last write per (run, token), in first-seen order. */
export function lastPerKey<T extends Fenced>(writes: readonly T[]): T[] {
  if (distinctRuns(writes)) return [...writes]
  const byKey = new Map<string, T>()
  for (const write of writes) byKey.set(keyOf(write), write)
  return byKey.size === writes.length ? [...writes] : [...byKey.values()]
}

/** The first write per (run, token): a completion or a release ends the token, so a second one is fenced. */
export function firstPerKey<T extends Fenced>(writes: readonly T[]): T[] {
  if (distinctRuns(writes)) return [...writes]
  const byKey = new Map<string, T>()
  for (const write of writes) if (!byKey.has(keyOf(write))) byKey.set(keyOf(write), write)
  return byKey.size === writes.length ? [...writes] : [...byKey.values()]
}

/** The (run, token) pairs a batch's statements wrote, without a key string per pair. */
export class Held {
  readonly #tokens = new Map<string, string | string[]>()

  add(id: string, token: string): void {
    const seen = this.#tokens.get(id)
    if (seen === undefined) this.#tokens.set(id, token)
    else if (typeof seen === 'string') this.#tokens.set(id, [seen, token])
    else seen.push(token)
  }

  has(write: Fenced): boolean {
    const seen = this.#tokens.get(write.id)
    return seen === write.token || (Array.isArray(seen) && seen.includes(write.token))
  }
}
