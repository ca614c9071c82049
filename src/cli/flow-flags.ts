/**
 * The flow-control flags of `taskengine queues set` and `taskengine tasks set`: each checked
 * here, before the store is opened, so a bad value names its flag and changes nothing.
 */
import type { QueueFlow, TaskFlow, TaskPatch } from '../engine/flow/flow-control.js'
import { ValidationError, describeValue } from '../errors.js'
import { MAX_LIMIT, MAX_RATE_WINDOW_MS, type RateLimit } from '../task/limits.js'

/** The flags as commander hands them over. */
export interface FlowFlags {
  concurrency?: string
  rate?: string
  groupConcurrency?: string
  pause?: boolean
  resume?: boolean
}

/** Words that remove a limit. */
const NONE = new Set(['none', 'null', 'off'])

/** Units of a rate window, in ms. */
const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/**
 * The patch the flags ask for. Throws a `ValidationError` naming each bad flag (all of them at
 * once), or when nothing would change.
 *
 * @example patchFromFlags({ concurrency: '5', rate: '100/60s', pause: true }) // { concurrency: 5, rate: { max: 100, perMs: 60000 }, paused: true }
 */
export function patchFromFlags(flags: FlowFlags, withGroups: boolean): TaskPatch {
  const patch: { -readonly [K in keyof TaskPatch]: TaskPatch[K] } = {}
  const problems: string[] = []
  const attempt = (fn: () => void): void => {
    try {
      fn()
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      problems.push(error.message)
    }
  }
  if (flags.concurrency !== undefined) attempt(() => (patch.concurrency = limitFlag(flags.concurrency!, '--concurrency')))
  if (withGroups && flags.groupConcurrency !== undefined) attempt(() => (patch.groupConcurrency = limitFlag(flags.groupConcurrency!, '--group-concurrency')))
  if (flags.rate !== undefined) attempt(() => (patch.rate = rateFlag(flags.rate!)))
  if (flags.pause === true && flags.resume === true) problems.push('--pause and --resume: give one or the other')
  else if (flags.pause === true) patch.paused = true
  else if (flags.resume === true) patch.paused = false
  if (problems.length > 0) throw new ValidationError(problems.join('; '))
  if (Object.keys(patch).length === 0) {
    throw new ValidationError(`nothing to change: give --concurrency, --rate${withGroups ? ', --group-concurrency' : ''}, --pause or --resume`)
  }
  return patch
}

/** A limit flag: an integer from 1 to {@link MAX_LIMIT}, or `none`. */
function limitFlag(text: string, flag: string): number | null {
  if (NONE.has(text.trim().toLowerCase())) return null
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new ValidationError(`${flag}: expected an integer from 1 to ${MAX_LIMIT}, or none, got ${describeValue(text)}`)
  }
  return n
}

/** `--rate MAX/PERIOD` (`100/60s`, `10/1000`: ms without a unit), or `none`. */
function rateFlag(text: string): RateLimit | null {
  const trimmed = text.trim().toLowerCase()
  if (NONE.has(trimmed)) return null
  const match = /^(\d+)\s*\/\s*(\d+)\s*(ms|s|m|min|h)?$/.exec(trimmed)
  const expected = `MAX/PERIOD (e.g. 100/60s or 10/1000: at most MAX starts per PERIOD, in ms or with ms, s, m, h; from 1 ms to 24 h), or none`
  if (match === null) throw new ValidationError(`--rate: expected ${expected}, got ${describeValue(text)}`)
  const max = Number(match[1])
  const perMs = Number(match[2]) * UNITS[match[3] ?? 'ms']!
  if (!Number.isSafeInteger(max) || max < 1 || max > MAX_LIMIT) throw new ValidationError(`--rate: MAX must be an integer from 1 to ${MAX_LIMIT}, got ${describeValue(text)}`)
  if (!Number.isSafeInteger(perMs) || perMs < 1 || perMs > MAX_RATE_WINDOW_MS) throw new ValidationError(`--rate: PERIOD must be from 1 ms to 24 h, got ${describeValue(text)}`)
  return { max, perMs }
}

/** A rate as the flag takes it: `100/60s`, `5/250ms`, `1000/1h`. */
export function formatRate(rate: RateLimit | null): string {
  if (rate === null) return '-'
  const { perMs } = rate
  const period = perMs % 3_600_000 === 0 ? `${perMs / 3_600_000}h` : perMs % 60_000 === 0 ? `${perMs / 60_000}m` : perMs % 1000 === 0 ? `${perMs / 1000}s` : `${perMs}ms`
  return `${rate.max}/${period}`
}

/** Limits in one line: `concurrency 5, rate 10/1s, paused`. */
export function describeFlow(flow: QueueFlow | TaskFlow): string {
  const parts = [`concurrency ${flow.concurrency ?? 'none'}`, `rate ${flow.rate === null ? 'none' : formatRate(flow.rate)}`]
  if ('groupConcurrency' in flow) parts.push(`group concurrency ${flow.groupConcurrency ?? 'none'}`)
  parts.push(flow.paused ? 'paused' : 'active')
  return parts.join(', ')
}
