/**
 * A structural diff of two JSON values (a run's arguments, its result): which paths were added,
 * removed or changed, walking nested objects and arrays. Arrays are compared by index (an item
 * inserted at the front shows as every later index changed plus one added at the end): simple,
 * predictable, and what a reader of two argument lists expects; no move detection.
 *
 * Pure and dependency-free, so the API and the admin page share it (and the browser could).
 */

/** One difference at a path. `before` is absent for `added`, `after` for `removed`. */
export interface JsonChange {
  /** Where, as a JavaScript-like path from the root: `''` (the whole value), `user.name`, `items[2]`, `["odd key"]`. */
  readonly path: string
  readonly kind: 'added' | 'removed' | 'changed'
  readonly before?: unknown
  readonly after?: unknown
}

/** The differences of two values, in document order (`b`'s key order for objects, then keys only in `a`). */
export interface JsonDiff {
  readonly changes: readonly JsonChange[]
  /** Differences found past `maxChanges` and left out (0 when the list is complete). */
  readonly omitted: number
}

/** Options of {@link diffJson}. */
export interface JsonDiffOptions {
  /**
   * The most changes listed; the rest are counted in `omitted`. Bounds the answer's size, not
   * the walk (which is linear in the two values' sizes).
   * @default 500
   */
  readonly maxChanges?: number
}

/** Marks a missing key or index (distinct from `undefined`, which JSON does not have anyway). */
const ABSENT: unique symbol = Symbol('absent')

/**
 * The structural differences between `a` and `b` (JSON values: objects, arrays, strings,
 * numbers, booleans, `null`). A change of type (an object becoming an array, a number a string)
 * is one `changed` at that path, not a change per key.
 *
 * @example
 * diffJson({ name: 'a', tags: ['x'] }, { name: 'b', tags: ['x', 'y'] }).changes
 * // [{ path: 'name', kind: 'changed', before: 'a', after: 'b' }, { path: 'tags[1]', kind: 'added', after: 'y' }]
 */
export function diffJson(a: unknown, b: unknown, options: JsonDiffOptions = {}): JsonDiff {
  const maxChanges = options.maxChanges ?? 500
  if (!Number.isSafeInteger(maxChanges) || maxChanges < 0) throw new RangeError(`maxChanges: expected an integer from 0 up, got ${String(maxChanges)}`)
  const changes: JsonChange[] = []
  let omitted = 0
  const record = (change: JsonChange): void => {
    if (changes.length < maxChanges) changes.push(change)
    else omitted++
  }
  // An explicit stack, not recursion: stored values may nest deeper than the call stack allows.
  // Pushed in reverse so that pops come out in document order.
  const stack: Array<{ path: string; a: unknown; b: unknown }> = [{ path: '', a, b }]
  while (stack.length > 0) {
    const { path, a: left, b: right } = stack.pop()!
    const kindA = kindOf(left)
    const kindB = kindOf(right)
    if (kindA === 'absent') record({ path, kind: 'added', after: right })
    else if (kindB === 'absent') record({ path, kind: 'removed', before: left })
    else if (kindA !== kindB) record({ path, kind: 'changed', before: left, after: right })
    else if (kindA === 'array') {
      const la = left as readonly unknown[]
      const lb = right as readonly unknown[]
      for (let i = Math.max(la.length, lb.length) - 1; i >= 0; i--) {
        stack.push({ path: `${path}[${i}]`, a: i < la.length ? la[i] : ABSENT, b: i < lb.length ? lb[i] : ABSENT })
      }
    } else if (kindA === 'object') {
      const oa = left as Record<string, unknown>
      const ob = right as Record<string, unknown>
      const keys = [...Object.keys(ob), ...Object.keys(oa).filter((k) => !Object.hasOwn(ob, k))]
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!
        stack.push({ path: joinPath(path, key), a: Object.hasOwn(oa, key) ? oa[key] : ABSENT, b: Object.hasOwn(ob, key) ? ob[key] : ABSENT })
      }
    } else if (left !== right) {
      record({ path, kind: 'changed', before: left, after: right })
    }
  }
  return { changes, omitted }
}

function kindOf(value: unknown): 'absent' | 'array' | 'object' | 'null' | 'scalar' {
  if (value === ABSENT) return 'absent'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return 'object'
  return 'scalar'
}

/** `a.b` for identifier-like keys, `a["odd key"]` otherwise (so a path reads back unambiguously). */
function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return path === '' ? key : `${path}.${key}`
  return `${path}[${JSON.stringify(key)}]`
}

/**
 * A value as short JSON text for display: at most `max` characters, cut with an ellipsis and
 * the full length said (`{"rows":[1,2,3,… (48,210 chars)`), so a huge value never floods a page
 * or an answer.
 *
 * @example
 * previewJson('x'.repeat(1000), 20) // '"xxxxxxxxxxxxxxxxxxx… (1,002 chars)'
 */
export function previewJson(value: unknown, max = 200): string {
  // JSON.stringify gives undefined for undefined, functions and symbols (none are JSON).
  const text = (JSON.stringify(value) as string | undefined) ?? typeof value
  if (text.length <= max) return text
  return `${text.slice(0, max)}… (${text.length.toLocaleString('en-US')} chars)`
}
