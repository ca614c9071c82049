/**
 * Unknown option keys: refused with the key named and, when one is close, the key meant.
 */
import { describe, expect, it } from 'vitest'
import { defineSchedule } from './task/schedule.js'
import { defineTask } from './task/define.js'
import { closestKey, unknownKeyMessage, unknownKeys } from './options.js'

const KNOWN = ['leaseMs', 'heartbeatMs', 'timeoutMs', 'queue', 'label']

describe('unknown option keys', () => {
  it('suggests the key a typo most likely meant, and nothing for a key far from any', () => {
    expect(closestKey('leasMs', KNOWN)).toBe('leaseMs')
    expect(closestKey('timeout', KNOWN)).toBe('timeoutMs')
    expect(closestKey('Label', KNOWN)).toBe('label')
    expect(closestKey('heartbaetMs', KNOWN)).toBe('heartbeatMs')
    expect(closestKey('colour', KNOWN)).toBeUndefined()
    expect(closestKey('q', KNOWN)).toBeUndefined()
  })

  it('lists every unknown key of an object, skipping keys set to undefined', () => {
    expect(unknownKeys({ leasMs: 1, label: 'x', colour: 'red', timeoutMs: undefined, extra: undefined }, KNOWN)).toEqual([
      { key: 'leasMs', suggestion: 'leaseMs' },
      { key: 'colour', suggestion: undefined },
    ])
    expect(unknownKeyMessage('options.', { key: 'leasMs', suggestion: 'leaseMs' }, KNOWN)).toBe('options.leasMs: unknown option (did you mean leaseMs?)')
    expect(unknownKeyMessage('', { key: 'colour', suggestion: undefined }, KNOWN)).toBe('colour: unknown option (known: leaseMs, heartbeatMs, timeoutMs, queue, label)')
  })

  it('refuses a typo in a task or schedule definition, naming it and the option meant', () => {
    expect(() => defineTask({ key: 'backup', timeout: 5000, run: () => undefined } as never)).toThrow('task "backup": timeout: unknown option (did you mean timeoutMs?)')
    expect(() => defineTask({ key: 'backup', maxAttempt: 2, colour: 'red', run: () => undefined } as never)).toThrow(
      /task "backup": maxAttempt: unknown option \(did you mean maxAttempts\?\); colour: unknown option \(known: key, title/,
    )
    const task = defineTask({ key: 'backup', run: () => undefined })
    expect(() => defineSchedule({ id: 'nightly', cron: '0 3 * * *', task, timeZone: 'UTC' } as never)).toThrow('schedule "nightly": timeZone: unknown option (did you mean timezone?)')
  })
})
