/**
 * Recorded in-process runs (`engine.run` with `record: true`): stored running before the handler
 * starts, written as a worker's runs are, never claimed by a worker, cancelled from anywhere,
 * failed (not retried) by the rescue when their process is gone.
 */
import { describe, expect, it, vi } from 'vitest'
import { ConflictError, ValidationError, defineTask } from '../../src/index.js'
import { rescueExpiredRuns } from '../../src/engine/durable/rescuer.js'
import { TaskRegistry } from '../../src/task/registry.js'
import { runReaches } from '../helpers/runs.js'
import { blocking, moreCalls, observed, severable, type DurableSuite } from './harness.js'

/** A task that logs, reports progress, then waits until `release()` before returning. */
function gated() {
  let release: () => void = () => undefined
  const gate = new Promise<void>((resolve) => (release = resolve))
  const started: string[] = []
  const task = defineTask({
    key: 'gated',
    fields: [{ key: 'n', type: 'int', default: 1 }],
    async run(ctx) {
      started.push(ctx.runId)
      ctx.log(`working on ${ctx.args.n}`)
      ctx.progress({ step: 1, steps: 2, message: 'half way' })
      await gate
      ctx.log.warn('done')
      return { doubled: ctx.args.n * 2 }
    },
  })
  return { task, started, release: () => release() }
}

export function describeRecordedRuns({ backend, engineWith }: DurableSuite): void {
  describe('recorded in-process runs', () => {
    it('stores the run running before its handler starts, then its logs, progress, result and creator; the result keeps everything it had', async () => {
      const { task, started, release } = gated()
      const engine = engineWith({ tasks: [task], progressIntervalMs: 1 })
      const events: string[] = []
      const running = engine.run(task, { n: 21 }, { record: true, createdBy: 'ann', startedFrom: 'admin', label: 'now', onEvent: (e) => events.push(e.type) })
      await vi.waitFor(() => expect(started).toHaveLength(1))
      const id = started[0]!
      // Visible while it runs, with its progress and log line.
      await vi.waitFor(async () => expect(await engine.getRun(id)).toMatchObject({ status: 'running', progress: { step: 1, steps: 2 }, logCount: 1 }))
      expect(await engine.getRun(id)).toMatchObject({ inProcess: true, startedFrom: 'admin', createdBy: 'ann', label: 'now', attempt: 1, maxAttempts: 1, args: { n: 21 } })
      expect((await engine.listRuns({ status: 'running' })).data.map((r) => r.id)).toEqual([id])
      release()
      const result = await running
      expect(result).toMatchObject({ id, status: 'succeeded', data: { doubled: 42 } })
      expect(result.logs.map((l) => l.message)).toEqual(['working on 21', 'done'])
      // The final event comes once the end is stored: a reader on it sees the run finished.
      expect(events).toEqual(['started', 'log', 'progress', 'log', 'succeeded'])
      const stored = await engine.getRun(id)
      expect(stored).toMatchObject({ status: 'succeeded', data: { doubled: 42 }, inProcess: true, createdBy: 'ann', progress: { step: 1, steps: 2 }, leaseExpiresAt: null })
      expect(stored?.attempts).toMatchObject([{ number: 1, outcome: 'succeeded' }])
      expect((await engine.getLogs(id)).map((l) => [l.seq, l.level, l.message])).toEqual([
        [1, 'info', 'working on 21'],
        [2, 'warn', 'done'],
      ])
    })

    it('stores a failure with its error, and defaults where it was started to "engine"', async () => {
      const boom = defineTask({
        key: 'boom',
        run: () => {
          throw new Error('kaput')
        },
      })
      const engine = engineWith({ tasks: [boom] })
      const result = await engine.run(boom, {}, { record: true })
      expect(result).toMatchObject({ status: 'failed', error: { message: 'kaput' } })
      expect(await engine.getRun(result.id)).toMatchObject({ status: 'failed', error: { message: 'kaput' }, createdBy: null, startedFrom: 'engine', inProcess: true, attempts: [{ outcome: 'failed' }] })
    })

    it('never touches the store without record, and refuses record options without record', async () => {
      const watched = observed(backend.store())
      const { task, release } = gated()
      release()
      const engine = engineWith({ tasks: [task], store: watched.store })
      expect(await engine.run(task, { n: 1 })).toMatchObject({ status: 'succeeded' })
      expect(await engine.runAll(task, 'batch', [{ n: 1 }, { n: 2 }])).toHaveLength(2)
      expect([...watched.calls.keys()]).toEqual([])
      await expect(engine.run(task, {}, { createdBy: 'ann' })).rejects.toThrow(ValidationError)
      await expect(engine.run(task, {}, { record: true, startedFrom: 'x'.repeat(65) })).rejects.toThrow('options.startedFrom: expected a non-empty string of at most 64 characters')
      await expect(engine.run(task, {}, { record: 'yes' as unknown as boolean })).rejects.toThrow('options.record: expected a boolean, got "yes" (string)')
    })

    it('is never claimed by a worker running on the same store, and is not retried on one', async () => {
      const { task, started, release } = gated()
      const watched = observed(backend.store())
      const engine = engineWith({ tasks: [task], store: watched.store })
      await engine.start({ concurrency: 4 })
      const running = engine.run(task, { n: 2 }, { record: true })
      await vi.waitFor(() => expect(started).toHaveLength(1))
      // The worker with free slots looks for runs three more times: it finds nothing to claim.
      await moreCalls(watched, 'claimRuns', 3)
      expect(started).toHaveLength(1)
      expect((await engine.getRun(started[0]!))?.status).toBe('running')
      release()
      const result = await running
      expect(result.status).toBe('succeeded')
      expect(started).toHaveLength(1)
      const cancelledOne = await engine.run(task, {}, { record: true, signal: AbortSignal.abort() })
      expect(cancelledOne.status).toBe('cancelled')
      await expect(engine.retry(cancelledOne.id)).rejects.toThrow(ConflictError)
      await expect(engine.retry(cancelledOne.id)).rejects.toThrow(/executed in-process \(started from engine\); it cannot be retried on a worker/)
    })

    it('a cancel through this engine, or from another engine sharing the store, stops the handler', async () => {
      const open = backend.database()
      const { task, started, aborted } = blocking()
      const engine = engineWith({ tasks: [task], store: open(), leaseMs: 300 })
      const operator = engineWith({ tasks: [task], store: open() })
      // Here: the local path aborts it at once.
      const here = engine.run(task, {}, { record: true })
      await vi.waitFor(() => expect(started).toHaveLength(1))
      await engine.cancel(started[0]!, 'not now', { by: 'ann' })
      expect(await here).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED' } })
      expect(await engine.getRun(started[0]!)).toMatchObject({ status: 'cancelled', cancelledBy: 'ann' })
      // Elsewhere: the lease renewal (or the store's signal) brings it.
      const there = engine.run(task, {}, { record: true })
      await vi.waitFor(() => expect(started).toHaveLength(2))
      await operator.cancel(started[1]!, 'from afar', { by: 'bob' })
      expect(await there).toMatchObject({ status: 'cancelled', error: { message: 'cancelled: from afar' } })
      expect(aborted).toEqual(started)
      expect(await runReaches(operator, started[1]!, 'cancelled')).toMatchObject({ cancelledBy: 'bob', inProcess: true })
    })

    it('keeps its lease renewed while it runs; once its process is gone the rescue fails it, never runs it again', async () => {
      const open = backend.database()
      const { task, started } = blocking()
      const watched = observed(open())
      const dying = severable(watched.store)
      const engine = engineWith({ tasks: [task], store: dying.store, leaseMs: 300 })
      const rescuer = engineWith({ tasks: [task], store: open(), leaseMs: 300 })
      void engine.run(task, {}, { record: true })
      await vi.waitFor(() => expect(started).toHaveLength(1))
      const id = started[0]!
      const first = (await rescuer.getRun(id))!.leaseExpiresAt!.getTime()
      await moreCalls(watched, 'renewLeases', 2)
      await vi.waitFor(async () => expect((await rescuer.getRun(id))!.leaseExpiresAt!.getTime()).toBeGreaterThan(first))
      // The process dies: no more renewals or writes reach the store.
      dying.sever()
      await rescuer.start()
      const failed = await runReaches(rescuer, id, 'failed')
      expect(failed).toMatchObject({ inProcess: true, error: { code: 'ERR_WORKER_LOST' }, attempts: [{ number: 1, outcome: 'failed' }] })
      // Nothing executed it again: the rescuing worker never saw it.
      expect(started).toEqual([id])
      expect(await rescueExpiredRuns(await rescuer.store(), new TaskRegistry(), Date.now() + 60_000)).toEqual([])
    })
  })
}
