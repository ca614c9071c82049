/** Limits across workers turned into a claim's caps. */
import { describe, expect, it } from 'vitest'
import { globalLimitKeys, hasGlobalLimits, limitsBind, withGlobalCaps } from './claim-plan.js'
import type { ClaimRequest } from './types.js'

const request = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  workerId: 'w',
  limit: 10,
  now: 0,
  leaseUntil: 1,
  tasks: ['sync', 'mail', 'other'],
  queues: undefined,
  taskCaps: new Map(),
  queueCaps: new Map(),
  ...overrides,
})

describe('withGlobalCaps', () => {
  it('caps each limited task and queue at its limit less what runs anywhere, never above its own cap', () => {
    const capped = withGlobalCaps(
      request({ taskCaps: new Map([['mail', 1]]), globalTaskLimits: new Map([['sync', 5], ['mail', 4], ['other', 2]]), globalQueueLimits: new Map([['slow', 3]]) }),
      { tasks: new Map([['sync', 2], ['other', 7]]), queues: new Map([['slow', 3]]) },
    )
    expect(capped.taskCaps).toEqual(new Map([['mail', 1], ['sync', 3], ['other', 0]]))
    expect(capped.queueCaps).toEqual(new Map([['slow', 0]]))
    expect(hasGlobalLimits(capped)).toBe(false)
    expect(limitsBind(capped)).toBe(true)
  })

  it('leaves a request without limits across workers as it is, and names the locks of one with them in one order', () => {
    expect(hasGlobalLimits(request())).toBe(false)
    expect(hasGlobalLimits(request({ globalTaskLimits: new Map() }))).toBe(false)
    const limited = request({ globalTaskLimits: new Map([['sync', 1], ['mail', 1]]), globalQueueLimits: new Map([['a', 1]]) })
    expect(globalLimitKeys(limited)).toEqual(['queue:a', 'task:mail', 'task:sync'])
    // A limit that does not bind leaves the one-statement claim.
    expect(limitsBind(withGlobalCaps(request({ globalTaskLimits: new Map([['sync', 100]]) }), { tasks: new Map(), queues: new Map() }))).toBe(false)
  })
})
