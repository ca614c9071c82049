/** The flow report: every known queue, idle ones included, and every limited task, with usage. */
import { describe, expect, it } from 'vitest'
import { defineTask } from '../../task/define.js'
import { TaskRegistry } from '../../task/registry.js'
import type { FlowUsageQuery } from '../../store/types.js'
import { FlowControl, flowKey } from './flow-control.js'
import { flowReport } from './report.js'

describe('flowReport', () => {
  it("names the tasks' queues, the limited ones and the counted ones once each, by name, with limits, paused state and usage", async () => {
    const registry = new TaskRegistry()
    registry.register(
      defineTask({ key: 'b', run: () => undefined }),
      defineTask({ key: 'a', run: () => undefined }),
      defineTask({ key: 'mailer', queue: 'mail', limits: { rate: { max: 10, perMs: 1000 } }, run: () => undefined }),
      defineTask({ key: 'sync', limits: { groupBy: (args) => String((args as Record<string, unknown>)['tenant']), groupConcurrency: 1 }, run: () => undefined }),
    )
    const stored = { [flowKey('queue', 'live')]: { paused: true }, [flowKey('task', 'a')]: { concurrency: 2 } }
    const flow = new FlowControl({
      registry,
      queueDefaults: new Map([['mail', { concurrency: 3 }], ['bulk', { concurrency: 1, rate: { max: 5, perMs: 60_000 } }]]),
      stored: () => stored,
      reload: async () => stored,
      save: async () => undefined,
    })
    const due = new Date(1000)
    const queries: FlowUsageQuery[] = []
    const report = await flowReport({
      flow,
      tasks: registry.list(),
      queueStats: [{ queue: 'other', pending: 4, running: 1, oldestPendingAt: due, nextDueAt: due }],
      now: 100_000,
      flowUsage: async (query) => {
        queries.push(query)
        return {
          starts: new Map([['task:mailer', 7], ['queue:bulk', 2]]),
          pending: new Map([['a', 5], ['mailer', 0], ['sync', 12]]),
          running: new Map([['a', 2], ['mailer', 1], ['sync', 2]]),
          groups: [{ task: 'sync', groupKey: 't1', pending: 10, running: 1 }, { task: 'sync', groupKey: 't2', pending: 2, running: 1 }],
          groupCounts: new Map([['sync', 2]]),
        }
      },
    })
    expect(queries).toEqual([{ rates: [{ key: 'task:mailer', since: 99_000 }, { key: 'queue:bulk', since: 40_000 }], tasks: ['a', 'mailer', 'sync'], grouped: ['sync'], groupsLimit: 20 }])
    const idle = { pending: 0, running: 0, oldestPendingAt: null, nextDueAt: null }
    expect(report.queues).toEqual([
      { name: 'bulk', concurrency: 1, rate: { max: 5, perMs: 60_000 }, paused: false, tasks: [], startsInWindow: 2, ...idle },
      { name: 'default', concurrency: null, rate: null, paused: false, tasks: ['a', 'b', 'sync'], startsInWindow: null, ...idle },
      { name: 'live', concurrency: null, rate: null, paused: true, tasks: [], startsInWindow: null, ...idle },
      { name: 'mail', concurrency: 3, rate: null, paused: false, tasks: ['mailer'], startsInWindow: null, ...idle },
      { name: 'other', concurrency: null, rate: null, paused: false, tasks: [], startsInWindow: null, pending: 4, running: 1, oldestPendingAt: due, nextDueAt: due },
    ])
    expect(report.tasks).toEqual([
      { task: 'a', queue: 'default', concurrency: 2, rate: null, groupConcurrency: null, paused: false, pending: 5, running: 2, startsInWindow: null, groupCount: null, groups: [] },
      { task: 'mailer', queue: 'mail', concurrency: null, rate: { max: 10, perMs: 1000 }, groupConcurrency: null, paused: false, pending: 0, running: 1, startsInWindow: 7, groupCount: null, groups: [] },
      {
        task: 'sync',
        queue: 'default',
        concurrency: null,
        rate: null,
        groupConcurrency: 1,
        paused: false,
        pending: 12,
        running: 2,
        startsInWindow: null,
        groupCount: 2,
        groups: [
          { key: 't1', pending: 10, running: 1 },
          { key: 't2', pending: 2, running: 1 },
        ],
      },
    ])
  })

  it('reads no usage when nothing has limits', async () => {
    const registry = new TaskRegistry()
    registry.register(defineTask({ key: 'a', run: () => undefined }))
    const flow = new FlowControl({ registry, queueDefaults: new Map(), stored: () => ({}), reload: async () => ({}), save: async () => undefined })
    const report = await flowReport({ flow, tasks: registry.list(), queueStats: [], now: 0, flowUsage: () => Promise.reject(new Error('not asked')) })
    expect(report).toEqual({ queues: [{ name: 'default', concurrency: null, rate: null, paused: false, tasks: ['a'], pending: 0, running: 0, startsInWindow: null, oldestPendingAt: null, nextDueAt: null }], tasks: [] })
  })
})
