/** The worker registry: rows, commands left on them, dead rows kept until purged, when workers whose rows went were last seen. */
import { describe, expect, it } from 'vitest'
import { T0 } from './fixtures.js'
import type { SuiteContext } from './suite.js'

const worker = { id: 'w1', host: 'h', pid: 1, concurrency: 4, busy: 1, queues: null, tasks: ['work'], running: ['r1'], startedAt: T0, heartbeatAt: T0, observer: false }

/** The worker registry. */
export function describeWorkers(suite: SuiteContext): void {
  describe('workers', () => {
    it('registers, refreshes, lists live ones and removes workers', async () => {
      expect(await suite.store.saveWorker(worker)).toBeNull()
      await suite.store.saveWorker({ ...worker, busy: 2, heartbeatAt: T0 + 10, startedAt: T0 + 10 })
      await suite.store.saveWorker({ ...worker, id: 'w2', heartbeatAt: T0 - 1_000_000 })
      await suite.store.saveWorker({ ...worker, id: 'server', concurrency: 0, busy: 0, running: [], startedAt: T0 + 5, heartbeatAt: T0 + 5, observer: true })
      const live = await suite.store.listWorkers(T0)
      const read = { state: 'active', command: null }
      expect(live).toEqual([
        { ...worker, ...read, busy: 2, startedAt: new Date(T0), heartbeatAt: new Date(T0 + 10) },
        { ...worker, ...read, id: 'server', concurrency: 0, busy: 0, running: [], startedAt: new Date(T0 + 5), heartbeatAt: new Date(T0 + 5), observer: true },
      ])
      await suite.store.removeWorker('server')
      await suite.store.removeWorker('w1')
      expect(await suite.store.listWorkers(T0)).toEqual([])
      await suite.store.removeWorker('w2')
    })

    it('keeps a command on a row, hands it back at each save, and lets no command replace a stop', async () => {
      await suite.store.saveWorker(worker)
      expect(await suite.store.commandWorker('nope', { type: 'quiet', by: 'ada', at: T0 })).toBeUndefined()
      const quiet = { type: 'quiet', by: 'ada', at: new Date(T0 + 1) }
      expect(await suite.store.commandWorker('w1', { type: 'quiet', by: 'ada', at: T0 + 1 })).toMatchObject({ id: 'w1', state: 'active', command: quiet })
      // The worker's next save reads it back; its own state is what it says, the command stays.
      expect(await suite.store.saveWorker({ ...worker, heartbeatAt: T0 + 2, state: 'quiet' })).toEqual(quiet)
      expect(await suite.store.getWorker('w1')).toMatchObject({ state: 'quiet', command: quiet, heartbeatAt: new Date(T0 + 2) })
      await suite.store.commandWorker('w1', { type: 'resume', by: null, at: T0 + 3 })
      expect(await suite.store.saveWorker({ ...worker, heartbeatAt: T0 + 4 })).toEqual({ type: 'resume', by: null, at: new Date(T0 + 3) })
      const stop = { type: 'stop', by: 'bob', at: new Date(T0 + 5) }
      expect((await suite.store.commandWorker('w1', { type: 'stop', by: 'bob', at: T0 + 5 }))?.command).toEqual(stop)
      // A stopping worker cannot be quieted or resumed; a second stop replaces the first.
      expect((await suite.store.commandWorker('w1', { type: 'resume', by: 'ada', at: T0 + 6 }))?.command).toEqual(stop)
      expect((await suite.store.commandWorker('w1', { type: 'quiet', by: 'ada', at: T0 + 6 }))?.command).toEqual(stop)
      expect((await suite.store.commandWorker('w1', { type: 'stop', by: 'cy', at: T0 + 7 }))?.command).toEqual({ type: 'stop', by: 'cy', at: new Date(T0 + 7) })
      expect(await suite.store.saveWorker({ ...worker, heartbeatAt: T0 + 8, state: 'stopping' })).toMatchObject({ type: 'stop' })
      expect(await suite.store.getWorker('nope')).toBeUndefined()
      await suite.store.removeWorker('w1')
      expect(await suite.store.getWorker('w1')).toBeUndefined()
    })

    it('lists rows whose heartbeat stopped within a window, and purges older ones', async () => {
      await suite.store.saveWorker({ ...worker, id: 'live', heartbeatAt: T0 })
      await suite.store.saveWorker({ ...worker, id: 'dead', heartbeatAt: T0 - 60_000, running: ['r1', 'r2'] })
      await suite.store.saveWorker({ ...worker, id: 'ancient', heartbeatAt: T0 - 2 * 86_400_000 })
      expect((await suite.store.listWorkers(T0 - 86_400_000, T0 - 30_000)).map((w) => [w.id, w.running])).toEqual([['dead', ['r1', 'r2']]])
      expect((await suite.store.listWorkers(T0 - 30_000)).map((w) => w.id)).toEqual(['live'])
      expect(await suite.store.purgeWorkers(T0 - 86_400_000)).toBe(1)
      expect(await suite.store.getWorker('ancient')).toBeUndefined()
      expect((await suite.store.listWorkers(0)).map((w) => w.id).sort()).toEqual(['dead', 'live'])
      expect(await suite.store.purgeWorkers(T0 + 1)).toBe(2)
      expect(await suite.store.listWorkers(0)).toEqual([])
    })

    it('remembers when workers whose rows went were last seen, per task and queue they served; processes without slots leave nothing', async () => {
      expect(await suite.store.workersSeen()).toEqual([])
      await suite.store.saveWorker({ ...worker, id: 'every', tasks: ['a', 'b'], queues: null, heartbeatAt: T0 + 10 })
      await suite.store.saveWorker({ ...worker, id: 'some', tasks: ['a'], queues: ['q1', 'q2'], heartbeatAt: T0 - 86_400_001 })
      await suite.store.saveWorker({ ...worker, id: 'older', tasks: ['a'], queues: ['q1'], heartbeatAt: T0 - 86_400_002 })
      await suite.store.saveWorker({ ...worker, id: 'server', tasks: ['c'], concurrency: 0, observer: true })
      await suite.store.removeWorker('every')
      await suite.store.removeWorker('server')
      const sorted = async () => (await suite.store.workersSeen()).sort((x, y) => `${x.task}/${x.queue}`.localeCompare(`${y.task}/${y.queue}`))
      expect(await sorted()).toEqual([
        { task: 'a', queue: null, seenAt: new Date(T0 + 10) },
        { task: 'b', queue: null, seenAt: new Date(T0 + 10) },
      ])
      // Purged rows too, the latest heartbeat of those that served a task on a queue.
      expect(await suite.store.purgeWorkers(T0 - 86_400_000)).toBe(2)
      expect(await sorted()).toEqual([
        { task: 'a', queue: null, seenAt: new Date(T0 + 10) },
        { task: 'a', queue: 'q1', seenAt: new Date(T0 - 86_400_001) },
        { task: 'a', queue: 'q2', seenAt: new Date(T0 - 86_400_001) },
        { task: 'b', queue: null, seenAt: new Date(T0 + 10) },
      ])
      // A worker seen earlier never moves a time back; a later one moves it on.
      await suite.store.saveWorker({ ...worker, id: 'stale', tasks: ['a', 'b'], queues: null, heartbeatAt: T0 })
      await suite.store.removeWorker('stale')
      await suite.store.saveWorker({ ...worker, id: 'fresh', tasks: ['b'], queues: null, heartbeatAt: T0 + 20 })
      await suite.store.removeWorker('fresh')
      expect((await sorted()).filter((x) => x.queue === null)).toEqual([
        { task: 'a', queue: null, seenAt: new Date(T0 + 10) },
        { task: 'b', queue: null, seenAt: new Date(T0 + 20) },
      ])
    })
  })
}
