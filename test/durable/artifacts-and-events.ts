/**
 * Artifacts of durable and in-process runs, the events subscribers receive (of runs and of
 * control alike), and listing runs.
 */
import { describe, expect, it, vi } from 'vitest'
import { UnrecoverableError, defineTask, type RunEvent } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { blocking, echo, type DurableSuite } from './harness.js'

export function describeArtifactsAndEvents({ engineWith }: DurableSuite): void {
  describe('artifacts and events', () => {
    it('stores artifacts for a run, size-limited', async () => {
      const producer = defineTask({
        key: 'producer',
        async run(ctx) {
          await ctx.artifact('report.csv', 'a,b\n1,2\n', 'text/csv')
          await ctx.artifact('raw.bin', new Uint8Array([1, 2, 3]))
          await ctx.artifact('too-big.txt', 'x'.repeat(2000)).catch((e: unknown) => ctx.log.warn((e as Error).message))
          // A content type that is no media type (it would break the download's header) is the handler's error.
          await ctx.artifact('h.txt', 'x', 'text/plain\r\nX-Injected: 1').catch((e: unknown) => ctx.log.warn((e as Error).message))
          await ctx.artifact('table.csv', 'a\n', 'text/csv; charset="utf-8"')
        },
      })
      const engine = engineWith({ tasks: [producer], maxArtifactBytes: 1000 })
      await engine.start()
      const run = await engine.enqueue(producer, {})
      await runReaches(engine, run.id, 'succeeded')
      expect((await engine.listArtifacts(run.id)).map((a) => [a.name, a.contentType, a.size])).toEqual([
        ['raw.bin', 'application/octet-stream', 3],
        ['report.csv', 'text/csv', 8],
        ['table.csv', 'text/csv; charset="utf-8"', 2],
      ])
      expect((await engine.getArtifact(run.id, 'report.csv'))?.data.toString()).toBe('a,b\n1,2\n')
      expect((await engine.getLogs(run.id)).map((l) => l.message)).toEqual([
        'artifact "too-big.txt" is 2000 bytes; the limit is 1000 (maxArtifactBytes)',
        'artifact contentType: expected a media type such as "text/plain" or "text/csv; charset=utf-8" (at most 255 characters), got "text/plain\\r\\nX-Injected: 1" (string)',
      ])
    })

    it('keeps in-process artifacts on the result', async () => {
      const engine = engineWith({ tasks: [defineTask({ key: 'inline', run: (ctx) => ctx.artifact('a.txt', 'hello', 'text/plain') })] })
      const result = await engine.run('inline')
      expect(result.artifacts.map((a) => [a.name, a.contentType, a.data.toString()])).toEqual([['a.txt', 'text/plain', 'hello']])
    })

    it('emits one typed stream of every change: created, started, log, progress, succeeded', async () => {
      const engine = engineWith({ tasks: [echo] })
      const events: RunEvent[] = []
      engine.subscribe((e) => events.push(e))
      await engine.start()
      const run = await engine.enqueue(echo, { text: 'x' })
      await runReaches(engine, run.id, 'succeeded')
      await vi.waitFor(() => expect(events.at(-1)?.type).toBe('succeeded'))
      expect(events.filter((e) => e.runId === run.id).map((e) => e.type)).toEqual(['created', 'started', 'log', 'progress', 'succeeded'])
      const final = events.at(-1)
      expect(final).toMatchObject({ type: 'succeeded', runId: run.id, attempt: 1, error: null, durationMs: expect.any(Number) as number })
    })

    it('emits failed, cancelled, retried and deleted events of durable runs to subscribers', async () => {
      const { task: waits, started } = blocking()
      const broken = defineTask({
        key: 'broken',
        run() {
          throw new UnrecoverableError('cannot work')
        },
      })
      const engine = engineWith({ tasks: [waits, broken] })
      const events: RunEvent[] = []
      engine.subscribe((e) => {
        if (e.type !== 'log' && e.type !== 'progress') events.push(e)
      })
      await engine.start()
      const failing = await engine.enqueue(broken, {})
      await runReaches(engine, failing.id, 'failed')
      await vi.waitFor(() => expect(events.some((e) => e.type === 'failed')).toBe(true))
      expect(events.find((e) => e.type === 'failed')).toMatchObject({ runId: failing.id, task: 'broken', attempt: 1, error: { code: 'ERR_UNRECOVERABLE', message: 'cannot work' } })

      const pending = await engine.enqueue(waits, {}, { delayMs: 60_000 })
      await engine.cancel(pending.id, 'not today')
      expect(events.find((e) => e.type === 'cancelled' && e.runId === pending.id)).toMatchObject({ error: { code: 'ERR_CANCELLED', message: 'cancelled: not today' }, run: { id: pending.id, status: 'cancelled' } })
      const running = await engine.enqueue(waits, {})
      await vi.waitFor(() => expect(started).toContain(running.id))
      await engine.cancel(running.id, 'stop')
      await vi.waitFor(() => expect(events.some((e) => e.type === 'cancelled' && e.runId === running.id)).toBe(true))
      expect(events.find((e) => e.type === 'cancelled' && e.runId === running.id)).toMatchObject({ task: 'blocking', attempt: 1, error: { code: 'ERR_CANCELLED' } })

      const retried = await engine.retry(failing.id)
      expect(events.find((e) => e.type === 'retried')).toMatchObject({ runId: failing.id, task: 'broken', run: { id: failing.id, status: 'pending' } })
      expect(retried.status).toBe('pending')
      await engine.delete(pending.id)
      expect(events.find((e) => e.type === 'deleted')).toMatchObject({ runId: pending.id, task: 'blocking' })
      // In the order they happened, for each run.
      const typesOf = (id: string) => events.filter((e) => e.runId === id).map((e) => e.type)
      expect(typesOf(pending.id)).toEqual(['created', 'cancelled', 'deleted'])
      expect(typesOf(running.id)).toEqual(['created', 'started', 'cancelled'])
      expect(typesOf(failing.id).slice(0, 4)).toEqual(['created', 'started', 'failed', 'retried'])
    })

    it('lists runs with filters and pages', async () => {
      const engine = engineWith({ tasks: [echo] })
      await engine.enqueueMany(echo, Array.from({ length: 7 }, (_, i) => ({ text: `t${i}` })), { label: 'many', tags: ['bulk'] })
      await engine.enqueue(echo, { text: 'needle' }, { label: 'one' })
      expect((await engine.listRuns({ label: 'many', pageSize: 5 })).data).toHaveLength(5)
      expect((await engine.listRuns({ tag: 'bulk' })).total).toBe(7)
      expect((await engine.listRuns({ search: 'needle' })).data.map((r) => r.label)).toEqual(['one'])
      await expect(engine.listRuns({ status: 'done' as never })).rejects.toThrow(/status: expected one of pending, running, waiting, succeeded, failed, cancelled, got "done"/)
      await expect(engine.listRuns({ pageSize: 5000 })).rejects.toThrow(/pageSize: expected an integer from 1 to 1000/)
    })
  })
}
