/**
 * Commands to workers from another engine sharing the store (quiet, resume, stop) and workers
 * that died, with what became of the runs they held.
 */
import { describe, expect, it, vi } from 'vitest'
import { ConflictError, NotFoundError, RETENTION_ID, ValidationError, defineTask, type Engine, type WorkerCommand, type WorkerInfo } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { severable, type DurableSuite } from './harness.js'

/** Leases of 600 ms: a heartbeat every 200 ms. */
const LEASE_MS = 600
const HEARTBEAT_MS = LEASE_MS / 3

/** A task whose runs wait until the test opens the gate (or their signal fires). */
function gated() {
  let open: () => void = () => undefined
  const gate = new Promise<void>((resolve) => (open = resolve))
  const started: string[] = []
  const task = defineTask({
    key: 'gated',
    fields: [{ key: 'n', type: 'int', default: 0 }],
    run: async (ctx) => {
      started.push(ctx.runId)
      await new Promise<void>((resolve, reject) => {
        void gate.then(resolve)
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
      })
      return ctx.runId
    },
  })
  return { task, started, open: () => open() }
}

/** The row of `id` as `engine` lists it. */
async function rowOf(engine: Engine, id: string | undefined): Promise<WorkerInfo | undefined> {
  return (await engine.workers()).find((w) => w.id === id)
}

export function describeWorkerCommands({ backend, engineWith }: DurableSuite): void {
  describe('worker commands', () => {
    it('quiets a worker from another engine within a heartbeat: it claims nothing more and finishes its runs; resumed, it claims again', async () => {
      const open = backend.database()
      const { task, started, open: release } = gated()
      const worker = engineWith({ tasks: [task], store: open(), leaseMs: LEASE_MS })
      const operator = engineWith({ tasks: [task], store: open(), leaseMs: LEASE_MS })
      await worker.start({ concurrency: 2 })
      const first = await worker.enqueue(task, { n: 1 })
      await vi.waitFor(() => expect(started).toEqual([first.id]))

      const asked = Date.now()
      const row = await operator.commandWorker(worker.workerId!, 'quiet', { by: 'ada' })
      expect(row).toMatchObject({ id: worker.workerId, command: { type: 'quiet', by: 'ada' } })
      await vi.waitFor(async () => expect(await rowOf(operator, worker.workerId)).toMatchObject({ state: 'quiet', running: [first.id] }), { timeout: 3000, interval: 10 })
      // The worker read the command at its next heartbeat (or at once, where the store pushes).
      expect(Date.now() - asked).toBeLessThan(HEARTBEAT_MS + 1000)

      const second = await operator.enqueue(task, { n: 2 })
      // Two more heartbeats: still quiet, the new run still pending.
      const beat = (await rowOf(operator, worker.workerId))!.heartbeatAt.getTime()
      await vi.waitFor(async () => expect((await rowOf(operator, worker.workerId))!.heartbeatAt.getTime()).toBeGreaterThan(beat + HEARTBEAT_MS), { timeout: 3000 })
      expect(await operator.getRun(second.id)).toMatchObject({ status: 'pending' })
      release()
      await runReaches(worker, first.id, 'succeeded')
      expect(await operator.getRun(second.id)).toMatchObject({ status: 'pending' })

      await operator.commandWorker(worker.workerId!, 'resume', { by: 'ada' })
      await runReaches(operator, second.id, 'succeeded', 3000)
      await vi.waitFor(async () => expect(await rowOf(operator, worker.workerId)).toMatchObject({ state: 'active', command: { type: 'resume' } }))
    })

    it('stops a worker asked to stop: the engine stops it itself, or tells the host that asked to decide', async () => {
      const open = backend.database()
      const { task, open: release } = gated()
      const operator = engineWith({ tasks: [task], store: open(), leaseMs: LEASE_MS })
      const plain = engineWith({ tasks: [task], store: open(), leaseMs: LEASE_MS })
      await plain.start()
      const plainId = plain.workerId!
      await operator.commandWorker(plainId, 'stop', { by: 'bob' })
      await vi.waitFor(() => expect(plain.started).toBe(false), { timeout: 3000, interval: 10 })
      // A graceful stop removes the row: the worker is gone, not dead.
      expect(await rowOf(operator, plainId)).toBeUndefined()
      expect(await operator.deadWorkers()).toEqual([])
      await expect(operator.commandWorker(plainId, 'quiet')).rejects.toThrow(new NotFoundError(`unknown worker "${plainId}" (taskengine workers list shows the live ones)`))

      const told: WorkerCommand[] = []
      const hosted = engineWith({ tasks: [task], store: open(), leaseMs: LEASE_MS })
      await hosted.start({ onStopRequested: (command) => told.push(command) })
      const run = await hosted.enqueue(task, {})
      await vi.waitFor(async () => expect((await rowOf(operator, hosted.workerId))?.running).toEqual([run.id]))
      await operator.commandWorker(hosted.workerId!, 'stop', { by: 'cy' })
      await vi.waitFor(() => expect(told).toMatchObject([{ type: 'stop', by: 'cy' }]), { timeout: 3000, interval: 10 })
      // The host decides when to stop; meanwhile the worker claims nothing and says it is stopping.
      expect(hosted.started).toBe(true)
      await vi.waitFor(async () => expect(await rowOf(operator, hosted.workerId)).toMatchObject({ state: 'stopping' }))
      await expect(operator.commandWorker(hosted.workerId!, 'resume')).rejects.toThrow(ConflictError)
      await expect(operator.commandWorker(hosted.workerId!, 'quiet')).rejects.toThrow(/is stopping \(stop requested by cy at .*\): it cannot be quieted/)
      release()
      await runReaches(operator, run.id, 'succeeded')
      await hosted.stop()
      expect(told).toHaveLength(1)
    })

    it('refuses a bad command, an unknown worker, a process without a worker and a dead worker, changing nothing', async () => {
      const open = backend.database()
      const store = open()
      const operator = engineWith({ store: open(), leaseMs: LEASE_MS })
      await expect(operator.commandWorker('x', 'pause' as never)).rejects.toThrow(new ValidationError('command: expected quiet, resume, stop, got "pause" (string)'))
      await expect(operator.commandWorker('nope<b>', 'quiet')).rejects.toThrow(new NotFoundError('unknown worker "nope<b>" (taskengine workers list shows the live ones)'))
      const now = Date.now()
      const row = { host: 'h', pid: 1, concurrency: 2, busy: 0, queues: null, tasks: [], running: [], startedAt: now, observer: false }
      await store.saveWorker({ ...row, id: 'server', concurrency: 0, observer: true, heartbeatAt: now })
      await store.saveWorker({ ...row, id: 'gone', heartbeatAt: now - 60_000 })
      await expect(operator.commandWorker('server', 'stop')).rejects.toThrow(new ConflictError('process "server" runs no worker (it only serves live views): there is nothing to stop'))
      await expect(operator.commandWorker('gone', 'stop')).rejects.toThrow(/^worker "gone" is dead \(no heartbeat since .*\): there is nothing to stop; its runs are rescued when their leases expire$/)
      expect((await store.getWorker('gone'))?.command).toBeNull()
      expect((await store.getWorker('server'))?.command).toBeNull()
      await store.close()
    })

    it('lists a worker that died with the runs it held and what became of each: retried elsewhere, failed', async () => {
      const open = backend.database()
      const flaky = defineTask({
        key: 'flaky',
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 1 },
        // The first attempt hangs (its worker dies holding it); the next one succeeds.
        run: (ctx) => (ctx.attempt === 1 ? new Promise<string>(() => undefined) : Promise.resolve('done')),
      })
      const once = defineTask({ key: 'once', maxAttempts: 1, run: () => new Promise<string>(() => undefined) })
      const dying = severable(open())
      const doomed = engineWith({ tasks: [flaky, once], store: dying.store, leaseMs: LEASE_MS })
      await doomed.start({ concurrency: 2 })
      const retried = await doomed.enqueue(flaky, {})
      const failed = await doomed.enqueue(once, {})
      const rescuer = engineWith({ tasks: [flaky, once], store: open(), leaseMs: LEASE_MS })
      const doomedId = doomed.workerId!
      await vi.waitFor(async () => expect([...((await rowOf(rescuer, doomedId))?.running ?? [])].sort()).toEqual([retried.id, failed.id].sort()))
      dying.sever()

      await rescuer.start()
      await runReaches(rescuer, retried.id, 'succeeded', 5000)
      await runReaches(rescuer, failed.id, 'failed', 5000)
      await vi.waitFor(async () => expect((await rescuer.deadWorkers()).map((w) => w.id)).toEqual([doomedId]), { timeout: 3000 })
      const [dead] = await rescuer.deadWorkers()
      expect(dead).toMatchObject({ id: doomedId, heldTotal: 2, concurrency: 2 })
      const byId = new Map(dead!.held.map((h) => [h.id, h]))
      expect(byId.get(retried.id)).toMatchObject({ task: 'flaky', fate: 'succeeded', nowOn: rescuer.workerId, lostAttempt: { workerId: doomedId, outcome: 'retry', error: { code: 'ERR_WORKER_LOST' } } })
      expect(byId.get(failed.id)).toMatchObject({ task: 'once', fate: 'failed', nowOn: null, lostAttempt: { workerId: doomedId, outcome: 'failed', error: { code: 'ERR_WORKER_LOST' } } })
      // The live list leaves it out.
      expect((await rescuer.workers()).map((w) => w.id)).not.toContain(doomedId)
    })

    it('keeps the rows of dead workers for a day: retention deletes older ones', async () => {
      const open = backend.database()
      const store = open()
      const engine = engineWith({ store: open(), leaseMs: LEASE_MS })
      const now = Date.now()
      const row = { host: 'h', pid: 1, concurrency: 2, busy: 0, queues: null, tasks: [], running: [], startedAt: now - 3 * 86_400_000, observer: false }
      await store.saveWorker({ ...row, id: 'dead-long-ago', heartbeatAt: now - 86_400_000 - 60_000 })
      await store.saveWorker({ ...row, id: 'dead-recently', heartbeatAt: now - 60_000 })
      expect((await engine.deadWorkers()).map((w) => w.id)).toEqual(['dead-recently'])
      await engine.start()
      const retention = await engine.enqueue(RETENTION_ID, {})
      await runReaches(engine, retention.id, 'succeeded')
      expect(await store.getWorker('dead-long-ago')).toBeUndefined()
      expect(await store.getWorker('dead-recently')).toMatchObject({ id: 'dead-recently' })
      expect((await engine.getLogs(retention.id)).map((l) => l.message)).toContain('rows of workers dead for over a day deleted: 1')
      await store.close()
    })
  })
}
