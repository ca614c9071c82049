import { describe, expect, it } from 'vitest'
import type { PendingTaskQueue, Run, WorkerInfo } from '../../store/types.js'
import { noWorkerError, unservedOf, unservedRun } from './unserved.js'

const NOW = 1_000_000
const LIVE_SINCE = NOW - 30_000
const worker = (overrides: Partial<WorkerInfo>): WorkerInfo => ({
  id: 'w',
  host: 'h',
  pid: 1,
  concurrency: 4,
  busy: 0,
  queues: null,
  tasks: ['render'],
  startedAt: new Date(0),
  heartbeatAt: new Date(NOW),
  running: [],
  observer: false,
  state: 'active',
  command: null,
  ...overrides,
})
const pending = (task: string, queue: string): PendingTaskQueue => ({ task, queue, pending: 2, oldestRunAt: new Date(NOW - 5000) })

describe('unservedOf', () => {
  it('a live worker with slots serves the tasks it registered on the queues it serves (null: every queue); quiet ones too', () => {
    const workers = [worker({ id: 'all' }), worker({ id: 'mail', tasks: ['mail'], queues: ['mail'], state: 'quiet' })]
    expect(unservedOf([pending('render', 'gpu'), pending('mail', 'mail')], workers, [], LIVE_SINCE)).toEqual([])
  })

  it('counts as unserved: another queue only, a stopping worker, a process without slots, a dead worker (last seen: its last heartbeat, the latest of them)', () => {
    const workers = [
      worker({ id: 'other-queue', queues: ['default'], heartbeatAt: new Date(NOW) }),
      worker({ id: 'stopping', state: 'stopping', heartbeatAt: new Date(NOW - 10) }),
      worker({ id: 'observer', concurrency: 0, observer: true }),
      worker({ id: 'dead', heartbeatAt: new Date(LIVE_SINCE - 1) }),
      worker({ id: 'older', heartbeatAt: new Date(LIVE_SINCE - 500) }),
      worker({ id: 'unrelated', tasks: ['mail'] }),
    ]
    expect(unservedOf([pending('render', 'gpu'), pending('mail', 'default')], workers, [], LIVE_SINCE)).toEqual([
      { task: 'render', queue: 'gpu', pending: 2, oldestRunAt: new Date(NOW - 5000), lastSeen: new Date(NOW - 10) },
    ])
    expect(unservedOf([pending('render', 'gpu')], [worker({ id: 'observer', concurrency: 0 })], [], LIVE_SINCE)).toMatchObject([{ lastSeen: null }])
  })

  it('remembers workers whose rows went: the latest seen on the queue or on every queue, other tasks and queues aside', () => {
    const seen = [
      { task: 'render', queue: 'gpu', seenAt: new Date(NOW - 300) },
      { task: 'render', queue: null, seenAt: new Date(NOW - 200) },
      { task: 'render', queue: 'cpu', seenAt: new Date(NOW - 100) },
      { task: 'mail', queue: null, seenAt: new Date(NOW - 50) },
    ]
    const dead = worker({ id: 'dead', heartbeatAt: new Date(NOW - 31_000) })
    expect(unservedOf([pending('render', 'gpu')], [dead], seen, LIVE_SINCE)).toMatchObject([{ lastSeen: new Date(NOW - 200) }])
    // A dead worker's row seen later than what was kept wins.
    const older = [{ task: 'render', queue: null, seenAt: new Date(NOW - 40_000) }]
    expect(unservedOf([pending('render', 'gpu')], [worker({ id: 'late', heartbeatAt: new Date(NOW - 35_000) })], older, LIVE_SINCE)).toMatchObject([{ lastSeen: new Date(NOW - 35_000) }])
  })
})

describe('unservedRun', () => {
  const run = { task: 'render', queue: 'gpu', status: 'pending', runAt: new Date(NOW - 5000) } as Run
  const unserved = [{ task: 'render', queue: 'gpu', pending: 1, oldestRunAt: new Date(NOW - 5000), lastSeen: new Date(NOW - 2000) }]

  it('waits since the later of its runAt and the last worker seen; fails unservedAfterMs after that', () => {
    expect(unservedRun(run, unserved, 60_000)).toEqual({ since: new Date(NOW - 2000), lastSeen: new Date(NOW - 2000), failsAt: new Date(NOW + 58_000) })
    expect(unservedRun({ ...run, runAt: new Date(NOW) }, unserved, undefined)).toEqual({ since: new Date(NOW), lastSeen: new Date(NOW - 2000), failsAt: null })
  })

  it('says nothing of a run that is not pending or is served', () => {
    expect(unservedRun({ ...run, status: 'running' }, unserved, 1)).toBeUndefined()
    expect(unservedRun({ ...run, queue: 'default' }, unserved, 1)).toBeUndefined()
  })

  it('names the task, the queue, the wait and when a worker was last seen in the error', () => {
    expect(noWorkerError('render', 'gpu', 500, new Date(0))).toEqual({
      code: 'ERR_NO_WORKER',
      name: 'NoWorkerError',
      message: 'no live worker served task "render" on queue "gpu" for 500 ms (unservedAfterMs) while the run was due; one serving it was last seen 1970-01-01T00:00:00.000Z',
    })
  })
})
