/**
 * Claim limits on their own: which tasks and queues a claim may take from, and how many.
 */
import { describe, expect, it } from 'vitest'
import { defineTask } from '../../task/define.js'
import type { ClaimedRun } from '../../store/types.js'
import { NO_FLOW, type FlowPolicy } from '../flow/flow-control.js'
import { ClaimLimits } from './claim-limits.js'

const free = defineTask({ key: 'free', run: () => undefined })
const two = defineTask({ key: 'two', maxConcurrent: 2, run: () => undefined })
const one = defineTask({ key: 'one', maxConcurrent: 1, run: () => undefined })

function held(task: string, queue = 'default'): ClaimedRun {
  return { id: `${task}-${queue}`, task, label: 'l', queue, poolId: null, args: {}, tags: [], attempt: 1, attemptBase: 0, maxAttempts: 3, backoff: null, timeoutMs: null, logCount: 0, token: 't', started: true }
}

describe('ClaimLimits', () => {
  it('asks for every task and queue, capping tasks whose maxConcurrent leaves less room than the claim', () => {
    const limits = new ClaimLimits(undefined)
    expect(limits.request('w', 10, [free, two], 1000, 31_000, NO_FLOW)).toEqual({
      workerId: 'w',
      limit: 10,
      now: 1000,
      leaseUntil: 31_000,
      tasks: ['free', 'two'],
      queues: undefined,
      taskCaps: new Map([['two', 2]]),
      queueCaps: new Map(),
    })
    // No cap where the room is at least the claim.
    expect(limits.request('w', 2, [two], 0, 1, NO_FLOW)?.taskCaps).toEqual(new Map())
  })

  it('counts held runs against maxConcurrent and leaves full tasks out; nothing to claim is undefined', () => {
    const limits = new ClaimLimits(undefined)
    limits.count(held('one'), 1)
    limits.count(held('two'), 1)
    expect(limits.request('w', 10, [free, one, two], 0, 1, NO_FLOW)).toMatchObject({ tasks: ['free', 'two'], taskCaps: new Map([['two', 1]]) })
    expect(limits.request('w', 10, [one], 0, 1, NO_FLOW)).toBeUndefined()
    limits.count(held('one'), -1)
    expect(limits.request('w', 10, [one], 0, 1, NO_FLOW)).toMatchObject({ tasks: ['one'], taskCaps: new Map([['one', 1]]) })
  })

  it('serves the queues named in a list, without limits', () => {
    const limits = new ClaimLimits(['mail', 'reports'])
    expect(limits.queues).toEqual(['mail', 'reports'])
    expect(limits.request('w', 5, [free], 0, 1, NO_FLOW)).toMatchObject({ queues: ['mail', 'reports'], queueCaps: new Map() })
  })

  it('caps queues by their limits (0: none) and leaves full queues out', () => {
    const limits = new ClaimLimits({ mail: 2, reports: 0 })
    expect(limits.queues).toEqual(['mail', 'reports'])
    expect(limits.request('w', 5, [free], 0, 1, NO_FLOW)).toMatchObject({ queues: ['mail', 'reports'], queueCaps: new Map([['mail', 2]]) })
    limits.count(held('free', 'mail'), 1)
    limits.count(held('free', 'mail'), 1)
    expect(limits.request('w', 5, [free], 0, 1, NO_FLOW)).toMatchObject({ queues: ['reports'] })
    const only = new ClaimLimits({ mail: 1 })
    only.count(held('free', 'mail'), 1)
    expect(only.request('w', 5, [free], 0, 1, NO_FLOW)).toBeUndefined()
  })

  it('claims nothing without tasks', () => {
    expect(new ClaimLimits(undefined).request('w', 5, [], 0, 1, NO_FLOW)).toBeUndefined()
  })

  it('leaves paused tasks and queues out and carries the limits across workers to the store', () => {
    const rate = { max: 5, perMs: 1000 }
    const flow: FlowPolicy = {
      ...NO_FLOW,
      taskConcurrency: new Map([['two', 3]]),
      queueConcurrency: new Map([['mail', 4]]),
      taskRates: new Map([['free', rate]]),
      queueRates: new Map([['mail', rate]]),
      groups: new Map([['free', 1]]),
      pausedTasks: new Set(['one']),
      pausedQueues: new Set(['reports']),
    }
    const request = new ClaimLimits(undefined).request('w', 10, [free, one, two], 0, 1, flow)
    expect(request).toMatchObject({ tasks: ['free', 'two'], queues: undefined, queueCaps: new Map([['reports', 0]]) })
    expect(request?.globalTaskLimits).toBe(flow.taskConcurrency)
    expect(request?.globalQueueLimits).toBe(flow.queueConcurrency)
    expect(request?.taskRates).toBe(flow.taskRates)
    expect(request?.queueRates).toBe(flow.queueRates)
    expect(request?.groups).toBe(flow.groups)
    // A worker serving named queues drops the paused ones; only paused tasks: nothing to claim.
    expect(new ClaimLimits(['mail', 'reports']).request('w', 10, [free], 0, 1, flow)).toMatchObject({ queues: ['mail'] })
    expect(new ClaimLimits(['reports']).request('w', 10, [free], 0, 1, flow)).toBeUndefined()
    expect(new ClaimLimits(undefined).request('w', 10, [one], 0, 1, flow)).toBeUndefined()
    // Without limits the request carries none.
    expect(Object.keys(new ClaimLimits(undefined).request('w', 10, [free], 0, 1, NO_FLOW)!)).not.toContain('taskRates')
  })

  it('does not claim ahead under rates, groups or a limit one claim could take much of; a paused queue stays at nothing', () => {
    const flow: FlowPolicy = {
      ...NO_FLOW,
      taskConcurrency: new Map([['two', 3], ['free', 100_000]]),
      queueConcurrency: new Map([['mail', 3], ['wide', 100_000]]),
      queueRates: new Map([['slow', { max: 1, perMs: 1000 }]]),
      pausedQueues: new Set(['mail']),
    }
    // 10 wanted, 2 free slots: `two` (limit 3 < 4 × 10) and the rated/limited queues are capped
    // at 2; `free` and `wide` (limits far above the claim) are claimed ahead; `mail` is paused.
    const request = new ClaimLimits(undefined).request('w', 10, [free, two], 0, 1, flow, 2)
    expect(request?.taskCaps).toEqual(new Map([['two', 2]]))
    expect(request?.queueCaps).toEqual(new Map([['mail', 0], ['slow', 2]]))
    // No free slot: the capped task and queues take nothing now.
    expect(new ClaimLimits(undefined).request('w', 10, [two], 0, 1, flow, 0)).toBeUndefined()
  })
})
