/** Pools: a parent waiting on its children, nested pools, cancel and delete cascading, pools opened outside a run. */
import { describe, expect, it, vi } from 'vitest'
import { defineTask, type RunEvent } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { echo, type DurableSuite } from './harness.js'

export function describePools({ engineWith }: DurableSuite): void {
  describe('pools', () => {
    it('a parent waiting on three children completes at concurrency 1', async () => {
      const child = defineTask({ key: 'child', fields: [{ key: 'n', type: 'int', required: true }], run: (ctx) => ctx.args.n * 10 })
      const parent = defineTask({
        key: 'parent',
        async run(ctx) {
          const pool = ctx.pool({ label: 'children' })
          await pool.addMany('child', [{ n: 1 }, { n: 2 }, { n: 3 }])
          const status = await pool.wait()
          return { poolId: pool.id, total: status.total, succeeded: status.succeeded, done: status.done }
        },
      })
      const engine = engineWith({ tasks: [child, parent] })
      const events: RunEvent['type'][] = []
      engine.subscribe((e) => {
        if (e.task === 'parent') events.push(e.type)
      })
      await engine.start({ concurrency: 1 })
      const run = await engine.enqueue(parent, {})
      const done = await runReaches(engine, run.id, 'succeeded', 10_000)
      const data = done.data as { poolId: string; total: number; succeeded: number; done: boolean }
      expect(data).toMatchObject({ total: 3, succeeded: 3, done: true })
      expect(events).toContain('waiting')
      expect(events).toContain('resumed')
      const report = await engine.getPool(data.poolId)
      expect(report?.pool).toMatchObject({ parentRunId: run.id, label: 'children' })
      expect(report?.status).toMatchObject({ total: 3, complete: 3, progress: 100, done: true })
      expect(report?.runs.map((r) => [r.parentId, r.data]).sort()).toEqual([
        [run.id, 10],
        [run.id, 20],
        [run.id, 30],
      ])
    })

    /** Tasks of a pool tree: `middle` opens a pool of two `leaf` runs, which hang until their signal fires. */
    function poolTree() {
      const started: string[] = []
      const leaf = defineTask({
        key: 'leaf',
        run: (ctx) =>
          new Promise((_, reject) => {
            started.push(ctx.runId)
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
          }),
      })
      const middle = defineTask({
        key: 'middle',
        async run(ctx) {
          const pool = ctx.pool()
          await pool.addMany('leaf', [{}, {}])
          return pool.wait()
        },
      })
      return { started, leaf, middle }
    }

    it('nests pools, rolls their counts up to the root, and cancelling the parent cascades to every descendant', async () => {
      const { started, leaf, middle } = poolTree()
      const top = defineTask({
        key: 'top',
        async run(ctx) {
          const pool = ctx.pool()
          await pool.addMany('middle', [{}, {}])
          return pool.wait()
        },
      })
      const engine = engineWith({ tasks: [leaf, middle, top] })
      await engine.start({ concurrency: 2 })
      const run = await engine.enqueue(top, {})
      await vi.waitFor(() => expect(started.length).toBe(2), { timeout: 5000 })
      const [rootPool] = await (await engine.store()).poolsOfRun(run.id)
      const report = await engine.getPool(rootPool!.id)
      expect(report?.status).toMatchObject({ total: 6, done: false })
      expect(report?.children).toHaveLength(2)
      await engine.cancel(run.id, 'operator')
      await runReaches(engine, run.id, 'cancelled', 5000)
      await vi.waitFor(async () => expect((await engine.listRuns({ status: ['pending', 'running', 'waiting'] })).total).toBe(0), { timeout: 5000 })
      expect((await engine.listRuns({ task: 'leaf', status: 'cancelled' })).total).toBe(4)
    })

    it('deleting a parent that waits on its pool cancels every run below it, as cancelling does', async () => {
      const { started, leaf, middle } = poolTree()
      const top = defineTask({
        key: 'top',
        async run(ctx) {
          const pool = ctx.pool()
          await pool.add('middle', {})
          await pool.add('leaf', {}, { delayMs: 60_000 })
          return pool.wait()
        },
      })
      const engine = engineWith({ tasks: [leaf, middle, top] })
      await engine.start({ concurrency: 2 })
      const run = await engine.enqueue(top, {})
      await vi.waitFor(() => expect(started).toHaveLength(2), { timeout: 5000 })
      expect((await engine.delete(run.id)).deletedAt).not.toBeNull()
      const store = await engine.store()
      await vi.waitFor(async () => expect((await store.getRun(run.id, { includeDeleted: true }))?.status).toBe('cancelled'), { timeout: 5000 })
      await vi.waitFor(async () => expect((await engine.listRuns({ status: ['pending', 'running', 'waiting'] })).total).toBe(0), { timeout: 5000 })
      const below = await engine.listRuns({ status: 'cancelled' })
      expect(below.data.map((r) => r.task).sort()).toEqual(['leaf', 'leaf', 'leaf', 'middle'])
      expect(started).toHaveLength(2)
    })

    it('opens pools from outside a run and waits on them', async () => {
      const engine = engineWith({ tasks: [echo] })
      await engine.start({ concurrency: 4 })
      const pool = engine.pool({ label: 'batch' })
      await pool.addMany(echo, [{ text: 'a' }, { text: 'b' }])
      await pool.add(echo, { text: 'c' })
      const status = await pool.wait()
      expect(status).toMatchObject({ total: 3, succeeded: 3, failed: 0, closed: true, done: true, progress: 100 })
    })
  })
}
