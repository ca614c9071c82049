import { describe, expect, it } from 'vitest'
import { progressFraction, runClock } from './estimate.js'

describe('progressFraction', () => {
  it('reads percent first, else step of steps, clamped to 0..1', () => {
    expect(progressFraction({ percent: 25 })).toBe(0.25)
    expect(progressFraction({ percent: 25, step: 9, steps: 10 })).toBe(0.25)
    expect(progressFraction({ step: 3, steps: 4 })).toBe(0.75)
    expect(progressFraction({ percent: 140 })).toBe(1)
    expect(progressFraction({ percent: -3 })).toBe(0)
  })

  it('has none without a total: no progress, a message alone, steps of zero, a step without steps', () => {
    expect(progressFraction(null)).toBeUndefined()
    expect(progressFraction(undefined)).toBeUndefined()
    expect(progressFraction({})).toBeUndefined()
    expect(progressFraction({ step: 3, steps: 0 })).toBeUndefined()
    expect(progressFraction({ step: 3 })).toBeUndefined()
    expect(progressFraction({ percent: Number.NaN })).toBeUndefined()
  })
})

describe('runClock', () => {
  it('estimates the time left at the rate so far', () => {
    expect(runClock(1000, 61_000, { step: 1, steps: 4 })).toEqual({ elapsedMs: 60_000, remainingMs: 180_000 })
    expect(runClock(0, 10_000, { percent: 50 })).toEqual({ elapsedMs: 10_000, remainingMs: 10_000 })
  })

  it('gives no estimate before progress moved, once it is complete, or without a total', () => {
    expect(runClock(0, 10_000, { percent: 0 }).remainingMs).toBeUndefined()
    expect(runClock(0, 10_000, { step: 4, steps: 4 }).remainingMs).toBeUndefined()
    expect(runClock(0, 10_000, null)).toEqual({ elapsedMs: 10_000, remainingMs: undefined })
  })

  it('never counts time backwards (a clock behind the start)', () => {
    expect(runClock(5000, 1000, { percent: 50 })).toEqual({ elapsedMs: 0, remainingMs: undefined })
  })
})
