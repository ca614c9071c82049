/**
 * Options objects: every public one rejects keys it does not know, naming the key and, when one
 * is close, the key that was probably meant (`leasMs` → "did you mean leaseMs?"). A typo must
 * not pass silently: an option that was never read looks, to its author, like one that was.
 *
 * Each options type lists its keys once, with {@link optionKeys}: the list is checked against
 * the interface at compile time, so an option added to the interface but not to the list (or
 * listed but not declared) fails typecheck.
 */
import { ValidationError, describeValue, type FieldIssue } from './errors.js'

/**
 * Every key of an options type, each marked `true`. Written as an object literal, it fails
 * typecheck when a key of `T` is missing or a key is not one of `T`'s.
 */
export type OptionKeyMap<T> = { readonly [K in keyof T]-?: true }

/**
 * The keys of an options type, from a map that names each exactly once (see {@link OptionKeyMap}).
 *
 * @example
 * const POOL_OPTION_KEYS = optionKeys<PoolOptions>({ label: true })
 */
export function optionKeys<T>(map: OptionKeyMap<T>): readonly (keyof T & string)[] {
  return Object.freeze(Object.keys(map)) as readonly (keyof T & string)[]
}

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
 * `prefix` comes before the key (`options.`, or `` for none); `what` names the kind of key
 * (`option`, `setting`, `property`).
 */
export function unknownKeyMessage(prefix: string, unknown: UnknownKey, known: readonly string[], what = 'option'): string {
  const hint = unknown.suggestion === undefined ? `known: ${known.join(', ')}` : `did you mean ${unknown.suggestion}?`
  return `${prefix}${unknown.key}: unknown ${what} (${hint})`
}

/**
 * The unknown keys of `options` as field issues keyed `<prefix><key>`, for checks that report
 * every problem of an input at once (enqueue and run options, request bodies, settings).
 */
export function unknownKeyIssues(options: object, known: readonly string[], prefix = '', what = 'option'): FieldIssue[] {
  const record = options as Record<string, unknown>
  return unknownKeys(options, known).map((unknown) => unknownKeyIssue(unknown.key, record[unknown.key], known, prefix, what))
}

/** One key known not to be in `known` (holding `value`) as a field issue keyed `<prefix><key>`, with the key it most likely meant. */
export function unknownKeyIssue(key: string, value: unknown, known: readonly string[], prefix = '', what = 'option'): FieldIssue {
  return {
    key: `${prefix}${key}`,
    expected: `a known ${what} (${known.join(', ')})`,
    received: describeValue(value),
    message: unknownKeyMessage(prefix, { key, suggestion: closestKey(key, known) }, known, what),
  }
}

/**
 * Throws when `options` is not an object, or has a key not in `known`, naming each such key and
 * the key it most likely meant: `createEngine: leasMs: unknown option (did you mean leaseMs?)`.
 * `where` names the call (or definition) the options belong to; `prefix` comes before each key
 * (`retention.` for a nested object). A `ValidationError` lists the keys in `fields`; another
 * `ErrorClass` (a definition's `TaskDefinitionError`) gets the same sentence.
 */
export function checkOptionKeys(
  options: unknown,
  known: readonly string[],
  where: string,
  { prefix = '', ErrorClass = ValidationError }: { readonly prefix?: string; readonly ErrorClass?: new (message: string) => Error } = {},
): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const name = prefix === '' ? 'options' : prefix.replace(/\.$/, '')
    throw new ErrorClass(`${where}: ${name}: expected an object of options, got ${describeValue(options)}`)
  }
  const issues = unknownKeyIssues(options, known, prefix)
  if (issues.length === 0) return
  if (ErrorClass === ValidationError) throw new ValidationError(where, issues)
  throw new ErrorClass(`${where}: ${issues.map((issue) => issue.message).join('; ')}`)
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
