/** Limits: per-task and per-queue concurrency, and the queues a worker serves. */
import { availableParallelism } from 'node:os'
import { describe, expect, it, vi } from 'vitest'
import { defineTask } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { echo, sleep, type DurableSuite } from './harness.js'

export function describeLimits({ engineWith }: DurableSuite): void {
  describe('limits', () => {
    it('honours per-task maxConcurrent and per-queue concurrency in the process', async () => {
      let active = 0
      let peak = 0
      const peaks = new Map<string, number>()
      const activeBy = new Map<string, number>()
      // Handlers hold until released, so the limits are reached for sure, then are never passed.
      let release: () => void = () => undefined
      const released = new Promise<void>((resolve) => (release = resolve))
      const track = (key: string) => async () => {
        active++
        activeBy.set(key, (activeBy.get(key) ?? 0) + 1)
        peak = Math.max(peak, active)
        peaks.set(key, Math.max(peaks.get(key) ?? 0, activeBy.get(key)!))
        await released
        // Then the work itself, 2 ms: runs started after the release overlap as they drain, so
        // the limits are checked then too (work the handler does, not a wait of the test).
        await sleep(2)
        activeBy.set(key, activeBy.get(key)! - 1)
        active--
      }
      const limited = defineTask({ key: 'limited', maxConcurrent: 2, run: track('limited') })
      const free = defineTask({ key: 'free', run: track('free') })
      const engine = engineWith({ tasks: [limited, free] })
      await engine.enqueueMany(limited, Array.from({ length: 12 }, () => ({})))
      await engine.enqueueMany(free, Array.from({ length: 12 }, () => ({})), { queue: 'narrow' })
      await engine.start({ concurrency: 6, queues: { default: 0, narrow: 3 } })
      await vi.waitFor(() => expect([activeBy.get('limited'), activeBy.get('free')]).toEqual([2, 3]), { timeout: 10_000 })
      release()
      await vi.waitFor(async () => expect((await engine.listRuns({ status: 'succeeded' })).total).toBe(24), { timeout: 10_000 })
      expect(peaks.get('limited')).toBe(2)
      expect(peaks.get('free')).toBe(3)
      expect(peak).toBeLessThanOrEqual(5)
    })

    it('reads maxConcurrent 0 as the available parallelism and -1 as 128, as runAll does', async () => {
      const cpus = availableParallelism()
      const started = new Map<string, string[]>()
      const held = (key: string, maxConcurrent: number) =>
        defineTask({
          key,
          maxConcurrent,
          run: (ctx) =>
            new Promise((resolve) => {
              started.set(key, [...(started.get(key) ?? []), ctx.runId])
              ctx.signal.addEventListener('abort', () => resolve('stopped'))
            }),
        })
      const zero = held('zero', 0)
      const many = held('many', -1)
      const engine = engineWith({ tasks: [zero, many] })
      await engine.enqueueMany(zero, Array.from({ length: cpus + 2 }, () => ({})))
      await engine.enqueueMany(many, Array.from({ length: 130 }, () => ({})))
      // One claim takes every run a limit lets through, so a missing limit shows at once.
      await engine.start({ concurrency: cpus + 140, prefetch: 0 })
      await vi.waitFor(() => expect((started.get('zero') ?? []).length).toBeGreaterThanOrEqual(cpus))
      await vi.waitFor(() => expect((started.get('many') ?? []).length).toBeGreaterThanOrEqual(128))
      expect(started.get('zero')).toHaveLength(cpus)
      expect(started.get('many')).toHaveLength(128)
      expect((await engine.listRuns({ task: 'zero', status: 'pending' })).total).toBe(2)
      expect((await engine.listRuns({ task: 'many', status: 'pending' })).total).toBe(2)
      // A slot of the task freed: exactly one more of its runs starts.
      await engine.cancel(started.get('zero')![0]!)
      await vi.waitFor(() => expect(started.get('zero')).toHaveLength(cpus + 1))
      expect((await engine.listRuns({ task: 'zero', status: 'pending' })).total).toBe(1)
    })

    it('serves only the queues it was given', async () => {
      const engine = engineWith({ tasks: [echo] })
      const other = await engine.enqueue(echo, { text: 'x' }, { queue: 'elsewhere' })
      const mine = await engine.enqueue(echo, { text: 'y' }, { queue: 'mine' })
      await engine.start({ queues: ['mine'] })
      await runReaches(engine, mine.id, 'succeeded')
      expect((await engine.getRun(other.id))?.status).toBe('pending')
    })
  })
}
