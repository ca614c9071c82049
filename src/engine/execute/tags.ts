/**
 * A run's tags: sorted and without duplicates, wherever they are set (enqueue, `ctx.addTags`).
 */

/** Tags sorted (by code unit) without duplicates; the same array when it already is. */
export function normalizeTags(tags: readonly string[]): readonly string[] {
  for (let i = 1; i < tags.length; i++) if (!(tags[i - 1]! < tags[i]!)) return [...new Set(tags)].sort()
  return tags
}

/**
 * Adds tags to a sorted list without duplicates, in place; `true` if it changed. Throws a
 * `TypeError` for a tag that is not a non-empty string (nothing added then).
 */
export function addSortedTags(current: string[], tags: readonly unknown[]): boolean {
  for (const tag of tags) if (typeof tag !== 'string' || tag === '') throw new TypeError(`addTags() takes non-empty strings, got ${String(tag)}`)
  let changed = false
  for (const tag of tags as readonly string[]) {
    if (current.includes(tag)) continue
    current.push(tag)
    changed = true
  }
  if (changed) current.sort()
  return changed
}
