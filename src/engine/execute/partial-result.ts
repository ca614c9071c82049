/**
 * Partial results: what a handler's `ctx.setResult()` merges into the run's result while it runs,
 * and how the value it returns settles over it.
 */
import { ValidationError, describeValue } from '../../errors.js'
import type { RunStatus } from '../../task/context.js'
import { jsonText } from '../../json-text.js'

/** Whether a value is a plain object (`{}` or `Object.create(null)`), not an array, date or class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** Merges a `setResult` call into the partial result so far; throws a `ValidationError` unless `update` is a plain object. */
export function mergePartialResult(previous: Readonly<Record<string, unknown>> | undefined, update: unknown): Readonly<Record<string, unknown>> {
  if (!isPlainObject(update)) throw new ValidationError(`setResult(): expected a plain object whose keys merge into the result, got ${describeValue(update)}`)
  return { ...previous, ...update }
}

/** JSON text of a failed or cancelled attempt's data (its partial result); `undefined` when it has none or it cannot be stored. */
export function partialJson(data: unknown): string | undefined {
  if (data === undefined) return undefined
  try {
    return jsonText(data)
  } catch {
    // Unstorable partial results were refused at every throttled write too: nothing to keep.
    return undefined
  }
}

/**
 * A run's data once its handler settled, given the partial result it set: a returned plain
 * object merges over it (its keys win), `undefined` keeps it, any other value replaces it; a
 * failed or cancelled run keeps it.
 */
export function settledData(partial: Readonly<Record<string, unknown>>, returned: unknown, status: RunStatus): unknown {
  if (status !== 'succeeded' || returned === undefined) return partial
  return isPlainObject(returned) ? { ...partial, ...returned } : returned
}
