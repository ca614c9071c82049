/** The queue report: every known queue, idle ones included. */
import { describe, expect, it } from 'vitest'
import { defineTask } from '../../task/define.js'
import { queueReport } from './queues.js'

describe('queueReport', () => {
  it("names the tasks' queues, the limited ones and the counted ones once each, by name, with limits and counts", () => {
    const tasks = [defineTask({ key: 'b', run: () => undefined }), defineTask({ key: 'a', run: () => undefined }), defineTask({ key: 'mailer', queue: 'mail', run: () => undefined })]
    const due = new Date(1000)
    const report = queueReport(tasks, new Map([['mail', 3], ['bulk', 1]]), [{ queue: 'other', pending: 4, running: 1, oldestPendingAt: due, nextDueAt: due }])
    expect(report).toEqual([
      { name: 'bulk', concurrency: 1, tasks: [], pending: 0, running: 0, oldestPendingAt: null, nextDueAt: null },
      { name: 'default', concurrency: null, tasks: ['a', 'b'], pending: 0, running: 0, oldestPendingAt: null, nextDueAt: null },
      { name: 'mail', concurrency: 3, tasks: ['mailer'], pending: 0, running: 0, oldestPendingAt: null, nextDueAt: null },
      { name: 'other', concurrency: null, tasks: [], pending: 4, running: 1, oldestPendingAt: due, nextDueAt: due },
    ])
    expect(queueReport([], new Map(), [])).toEqual([])
  })
})
