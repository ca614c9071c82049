/**
 * Options objects: every public one rejects keys it does not know, naming the key and, when one
 * is close, the key that was probably meant (`leasMs` → "did you mean leaseMs?"). A typo must
 * not pass silently: an option that was never read looks, to its author, like one that was.
 */

/** A key an options object does not know, with the known key it most likely meant. */
export interface UnknownKey {
  readonly key: string
  /** The nearest known key, when one is close enough to be a likely typo. */
  readonly suggestion: string | undefined
}

/** The keys of `options` (own, enumerable, with a value other than `undefined`) not in `known`. */
export function unknownKeys(options: object, known: readonly string[]): UnknownKey[] {
  const unknown: UnknownKey[] = []
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || known.includes(key)) continue
    unknown.push({ key, suggestion: closestKey(key, known) })
  }
  return unknown
}

/**
 * The sentence for one unknown key, e.g. `options.leasMs: unknown option (did you mean leaseMs?)`,
 * or, with nothing close, the known keys: `options.colour: unknown option (known: label, queue)`.
 * `prefix` comes before the key (`options.`, or `` for none).
 */
export function unknownKeyMessage(prefix: string, unknown: UnknownKey, known: readonly string[]): string {
  const hint = unknown.suggestion === undefined ? `known: ${known.join(', ')}` : `did you mean ${unknown.suggestion}?`
  return `${prefix}${unknown.key}: unknown option (${hint})`
}

/**
 * The known key nearest to `key`, if it is a likely typo of it: the same but for case, a
 * prefix of it (`timeout` → `timeoutMs`), or within an edit distance of about one in four
 * characters (at most 2; transpositions count as one edit).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const other = candidate.toLowerCase()
    if (other === lower) return candidate
    if (lower.length >= 4 && (other.startsWith(lower) || lower.startsWith(other))) return candidate
    const distance = editDistance(lower, other)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  const allowed = Math.min(2, Math.max(1, Math.floor(key.length / 4)))
  return bestDistance <= allowed ? best : undefined
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return Infinity
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1)
      rows[i]![j] = d
    }
  }
  return rows[a.length]![b.length]!
}
