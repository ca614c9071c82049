/** The worker registry. */
import { describe, expect, it } from 'vitest'
import { T0 } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** The worker registry.. */
export function describeWorkers(suite: SuiteContext): void {
  describe('workers', () => {
    it('registers, refreshes, lists live ones and removes workers', async () => {
      const worker = { id: 'w1', host: 'h', pid: 1, concurrency: 4, busy: 1, queues: null, tasks: ['work'], running: ['r1'], startedAt: T0, heartbeatAt: T0, observer: false }
      await suite.store.saveWorker(worker)
      await suite.store.saveWorker({ ...worker, busy: 2, heartbeatAt: T0 + 10, startedAt: T0 + 10 })
      await suite.store.saveWorker({ ...worker, id: 'w2', heartbeatAt: T0 - 1_000_000 })
      await suite.store.saveWorker({ ...worker, id: 'server', concurrency: 0, busy: 0, running: [], startedAt: T0 + 5, heartbeatAt: T0 + 5, observer: true })
      const live = await suite.store.listWorkers(T0)
      expect(live).toEqual([
        { ...worker, busy: 2, startedAt: new Date(T0), heartbeatAt: new Date(T0 + 10) },
        { ...worker, id: 'server', concurrency: 0, busy: 0, running: [], startedAt: new Date(T0 + 5), heartbeatAt: new Date(T0 + 5), observer: true },
      ])
      await suite.store.removeWorker('server')
      await suite.store.removeWorker('w1')
      expect(await suite.store.listWorkers(T0)).toEqual([])
    })
  })
}
