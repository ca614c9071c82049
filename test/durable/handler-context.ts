/**
 * The handler context's worker-pool details on durable runs: `ctx.extendTimeout` honoured by the
 * worker, partial results (`ctx.setResult`) stored while the run runs and kept by a failed attempt,
 * the task's `onCancel` hook on a cancel that interrupts the handler, pool hooks (`onFailure`,
 * `onSettled`) and sorted tags.
 */
import { describe, expect, it, vi } from 'vitest'
import { defineTask, type Run, type RunEvent } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { sleep, type DurableSuite } from './harness.js'

export function describeHandlerContext({ engineWith }: DurableSuite): void {
  describe('handler context: timeouts, partial results, hooks', () => {
    it('honours ctx.extendTimeout: a run that extends outlives its limit; one that does not times out', async () => {
      const slow = defineTask({
        key: 'slow',
        timeoutMs: 1000,
        fields: [{ key: 'extend', type: 'bool' }],
        async run(ctx) {
          // 1.2 s in all: past the limit unless extended; each step leaves a busy machine 700 ms of slack.
          for (let i = 0; i < 4; i++) {
            if (ctx.args.extend) ctx.extendTimeout(1000)
            await sleep(300)
          }
          return 'done'
        },
      })
      const engine = engineWith({ tasks: [slow] })
      await engine.start()
      const [extended, plain] = await engine.enqueueMany(slow, [{ extend: true }, { extend: false }], { maxAttempts: 1 })
      expect(await runReaches(engine, extended!.id, 'succeeded')).toMatchObject({ data: 'done' })
      expect(await runReaches(engine, plain!.id, 'failed')).toMatchObject({ error: { code: 'ERR_TIMEOUT', message: 'timed out after 1000 ms' } })
    })

    it('stores a partial result while the run runs, streams it, and merges the return value over it', async () => {
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      const copier = defineTask({
        key: 'copier',
        async run(ctx) {
          ctx.setResult({ copied: 10 })
          ctx.progress({ percent: 50 })
          ctx.setResult({ skipped: 1 })
          await gate
          return { copied: 20, total: 21 }
        },
      })
      const engine = engineWith({ tasks: [copier], progressIntervalMs: 1 })
      const events: RunEvent[] = []
      engine.subscribe((e) => events.push(e), { task: 'copier' })
      await engine.start()
      const run = await engine.enqueue(copier, {})
      await vi.waitFor(async () => expect(await engine.getRun(run.id)).toMatchObject({ status: 'running', data: { copied: 10, skipped: 1 } }))
      expect(events.flatMap((e) => (e.type === 'result' ? [e.data] : []))).toEqual([{ copied: 10 }, { copied: 10, skipped: 1 }])
      release()
      expect((await runReaches(engine, run.id, 'succeeded')).data).toEqual({ copied: 20, skipped: 1, total: 21 })
    })

    it('throttles partial results like progress: a handler that only sets results writes once an interval, and the last one is stored', async () => {
      const counter = defineTask({
        key: 'counter',
        async run(ctx) {
          for (let i = 1; i <= 200; i++) {
            ctx.setResult({ [`item${i % 5}`]: i })
            await new Promise((resolve) => setImmediate(resolve))
          }
          throw new Error('stop here: the partial result stays')
        },
      })
      const engine = engineWith({ tasks: [counter], progressIntervalMs: 60_000 })
      const store = await engine.store()
      let progressWrites = 0
      const writeBatch = store.writeBatch.bind(store)
      store.writeBatch = async (batch) => {
        progressWrites += batch.progress.length
        return writeBatch(batch)
      }
      await engine.start()
      const run = await engine.enqueue(counter, {}, { maxAttempts: 1 })
      expect((await runReaches(engine, run.id, 'failed')).data).toEqual({ item0: 200, item1: 196, item2: 197, item3: 198, item4: 199 })
      // One write at the first call; the rest waited for the interval, which the run did not outlive.
      expect(progressWrites).toBeLessThanOrEqual(2)
    })

    it('keeps a failed attempt\'s partial result; a retry starts from an empty one', async () => {
      const flaky = defineTask({
        key: 'flaky-partial',
        backoff: { type: 'fixed', delayMs: 1 },
        run(ctx) {
          if (ctx.attempt === 1) {
            ctx.setResult({ first: true })
            throw new Error('first try breaks')
          }
          if (ctx.attempt === 2) return { second: true }
          ctx.setResult({ third: true })
          throw new Error('third try breaks')
        },
      })
      const engine = engineWith({ tasks: [flaky] })
      await engine.start()
      const [retried, failing] = await Promise.all([engine.enqueue(flaky, {}, { maxAttempts: 2 }), engine.enqueue(flaky, {}, { maxAttempts: 1 })])
      expect((await runReaches(engine, retried.id, 'succeeded')).data).toEqual({ second: true })
      expect(await runReaches(engine, failing.id, 'failed')).toMatchObject({ data: { first: true }, error: { message: 'first try breaks' } })
    })

    it('runs onCancel (not onFailure) when a cancel interrupts the running handler', async () => {
      const calls: string[] = []
      const started: string[] = []
      const hangs = defineTask({
        key: 'hangs',
        run: (ctx) =>
          new Promise((_, reject) => {
            started.push(ctx.runId)
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
          }),
        onFailure: () => void calls.push('failure'),
        onCancel(ctx, error) {
          calls.push(`cancel ${error.code}`)
          ctx.log('released the lock')
        },
      })
      const engine = engineWith({ tasks: [hangs] })
      await engine.start()
      const run = await engine.enqueue(hangs, {})
      await vi.waitFor(() => expect(started).toEqual([run.id]))
      await engine.cancel(run.id, 'operator said so')
      await runReaches(engine, run.id, 'cancelled')
      expect(calls).toEqual(['cancel ERR_CANCELLED'])
      await vi.waitFor(async () => expect((await engine.getLogs(run.id)).map((l) => l.message)).toEqual(['released the lock']))
    })

    it('runs a pool\'s onFailure then onSettled hooks once it settles, in order, with the failed runs; a throwing hook is reported', async () => {
      const job = defineTask({
        key: 'job',
        fields: [{ key: 'fail', type: 'bool' }],
        run(ctx) {
          if (ctx.args.fail) throw new Error('job broke')
          return 1
        },
      })
      const errors: Error[] = []
      const engine = engineWith({ tasks: [job], onError: (e) => errors.push(e) })
      await engine.start()
      const calls: string[] = []
      let failed: readonly Run[] = []
      const pool = engine.pool({ label: 'nightly' })
      pool
        .onSettled((s) => void calls.push(`settled ${s.status.succeeded}/${s.status.total}`))
        .onFailure((s) => {
          calls.push(`failure ${s.status.failed}`)
          failed = s.failed
        })
        .onFailure(() => {
          throw new Error('cleanup broke')
        })
        .onSettled(() => void calls.push('settled 2'))
      const [, bad] = await pool.addMany(job, [{ fail: false }, { fail: true }], { maxAttempts: 1 })
      // Closed, not waited on: the handle watches the pool for its hooks.
      await pool.close()
      await vi.waitFor(() => expect(calls).toEqual(['failure 1', 'settled 1/2', 'settled 2']))
      expect(failed.map((r) => [r.id, r.status])).toEqual([[bad!.id, 'failed']])
      expect(errors.map((e) => e.message)).toEqual([`pool ${pool.id} onFailure hook failed: cleanup broke`])
      // wait() after that resolves with the same outcome, without running the hooks again.
      expect(await pool.wait()).toMatchObject({ done: true, failed: 1 })
      // A hook added now runs at once.
      const late = new Promise((resolve) => pool.onSettled(resolve))
      expect(await late).toMatchObject({ status: { total: 2 } })
      expect(calls).toHaveLength(3)
      // A pool waited on without hooks: one added afterwards still runs, with the failed runs read then.
      const plain = engine.pool()
      const [broken] = await plain.addMany(job, [{ fail: true }], { maxAttempts: 1 })
      await plain.wait()
      const afterwards = await new Promise<readonly Run[]>((resolve) => {
        plain.onFailure((s) => resolve(s.failed))
      })
      expect(afterwards.map((r) => r.id)).toEqual([broken!.id])
    })

    it('logs a throwing hook of a pool opened by a handler on that run; wait() resolves after the hooks', async () => {
      const leaf = defineTask({ key: 'leaf-ok', run: () => 'leaf' })
      const parent = defineTask({
        key: 'pool-parent',
        async run(ctx) {
          const seen: string[] = []
          const pool = ctx.pool()
          pool.onSettled(() => {
            throw new Error('no cleanup today')
          })
          pool.onSettled(async () => {
            await sleep(5)
            seen.push('cleaned')
          })
          pool.onFailure(() => void seen.push('never: nothing failed'))
          await pool.add(leaf, {})
          await pool.wait()
          return seen
        },
      })
      const engine = engineWith({ tasks: [leaf, parent] })
      await engine.start({ concurrency: 1 })
      const run = await engine.enqueue(parent, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done.data).toEqual(['cleaned'])
      const logs = await engine.getLogs(run.id)
      expect(logs[0]).toMatchObject({ level: 'error', message: expect.stringMatching(/^pool \S+ onSettled hook failed: Error: no cleanup today/) as string })
    })

    it('stores tags sorted and without duplicates, from the enqueue and from the handler', async () => {
      const tagger = defineTask({
        key: 'tagger',
        run(ctx) {
          ctx.addTags('zeta', 'alpha')
        },
      })
      const engine = engineWith({ tasks: [tagger] })
      const run = await engine.enqueue(tagger, {}, { tags: ['mid', 'beta', 'mid'] })
      expect(run.tags).toEqual(['beta', 'mid'])
      await engine.start()
      expect((await runReaches(engine, run.id, 'succeeded')).tags).toEqual(['alpha', 'beta', 'mid', 'zeta'])
    })
  })
}
