/**
 * The Queues page's forms as a flow-control patch (`engine.updateQueue` / `updateTask`, the
 * body of `PUT /api/queues/:name` and `PUT /api/tasks/:key`). Shared by the form posts (no
 * script) and the browser script, which sends the same patch to the API: one reading of what
 * was typed, whichever sends it. Values are not checked here: the engine checks them and names
 * each bad field; text that is not a number is passed on as text, so its error quotes it.
 */

/** What a form sends: field name → text (fields left out are absent). */
export type FlowFormValues = Readonly<Record<string, string | undefined>>

/** The fields of a limits form: `concurrency`, `rateMax` and `ratePerMs`, `groupConcurrency`; or `paused` (`true`/`false`). */
export const FLOW_FIELDS = ['concurrency', 'rateMax', 'ratePerMs', 'groupConcurrency', 'paused'] as const

/** A limit as typed: empty is no limit (`null`), a number is a number, anything else stays text. */
function limitValue(text: string): number | string | null {
  const trimmed = text.trim()
  if (trimmed === '') return null
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed
}

/**
 * The patch a form asks for: only the fields it has. Both rate fields empty remove the rate
 * limit; one of them empty is sent as missing, which the engine names.
 *
 * @example flowPatch({ concurrency: '', rateMax: '10', ratePerMs: '1000' }) // { concurrency: null, rate: { max: 10, perMs: 1000 } }
 */
export function flowPatch(values: FlowFormValues): Record<string, unknown> {
  const patch: Record<string, unknown> = {}
  if (values.paused !== undefined) patch.paused = values.paused === 'true' ? true : values.paused === 'false' ? false : values.paused
  if (values.concurrency !== undefined) patch.concurrency = limitValue(values.concurrency)
  if (values.groupConcurrency !== undefined) patch.groupConcurrency = limitValue(values.groupConcurrency)
  if (values.rateMax !== undefined || values.ratePerMs !== undefined) {
    const max = limitValue(values.rateMax ?? '')
    const perMs = limitValue(values.ratePerMs ?? '')
    patch.rate = max === null && perMs === null ? null : { ...(max === null ? {} : { max }), ...(perMs === null ? {} : { perMs }) }
  }
  return patch
}

/** Which form field shows an issue of the patch (`rate.max` and `rate` both at the rate fields). */
export function issueField(key: string): string {
  return key.startsWith('rate') ? 'rate' : key
}

/** A rate window in words: `1 s`, `250 ms`, `1 min`, `1.5 min`, `2 h`. */
export function ratePeriod(perMs: number): string {
  const trim = (n: number): string => String(Math.round(n * 100) / 100)
  if (perMs >= 3_600_000) return `${trim(perMs / 3_600_000)} h`
  if (perMs >= 60_000) return `${trim(perMs / 60_000)} min`
  if (perMs >= 1000) return `${trim(perMs / 1000)} s`
  return `${perMs} ms`
}
