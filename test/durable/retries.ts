/**
 * Retries and errors: the wait between attempts (on a fake clock), attempts spent or not by each
 * kind of error a handler throws, time limits, arguments that no longer validate.
 */
import { describe, expect, it, vi } from 'vitest'
import { CancelledError, RetryLaterError, UnrecoverableError, defineTask, type Run } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { echo, observed, type DurableSuite } from './harness.js'

export function describeBackoff({ backend, engineWith }: DurableSuite): void {
  describe('backoff under a fake clock', () => {
    /** An engine whose clock only moves when the test moves it. */
    function clocked(tasks: Parameters<typeof defineTask>[0][] | ReturnType<typeof defineTask>[]) {
      const clock = { now: Date.UTC(2026, 0, 1) }
      const watched = observed(backend.store())
      const engine = engineWith({ tasks: tasks as never, clock: () => clock.now, store: watched.store })
      /** Resolves once the worker has looked for runs `n` more times. */
      const polls = (n: number): Promise<void> => watched.more('claimRuns', n)
      return { engine, clock, polls }
    }

    it('waits between attempts per the default policy: exponential from 1 s, doubling, with jitter between half and all of it', async () => {
      let calls = 0
      const flaky = defineTask({
        key: 'flaky-default',
        maxAttempts: 3,
        run() {
          calls++
          throw new Error('not yet')
        },
      })
      const { engine, clock, polls } = clocked([flaky])
      const runs = await engine.enqueueMany(flaky, Array.from({ length: 20 }, () => ({})))
      await engine.start({ concurrency: 20 })
      const delays = async (attempt: number): Promise<number[]> => {
        const out: number[] = []
        for (const run of runs) {
          let stored: Run | undefined
          await vi.waitFor(async () => {
            stored = await engine.getRun(run.id)
            expect(stored?.attempts).toHaveLength(attempt)
          })
          expect(stored).toMatchObject({ status: 'pending' })
          out.push(stored!.runAt.getTime() - stored!.attempts[attempt - 1]!.finishedAt.getTime())
        }
        return out
      }
      const first = await delays(1)
      expect(first.every((d) => d >= 500 && d <= 1000)).toBe(true)
      expect(new Set(first).size).toBeGreaterThan(1)
      // Nothing runs before it is due; at the due time the next attempt runs.
      clock.now += 499
      await polls(3)
      expect(calls).toBe(20)
      clock.now += 501
      const second = await delays(2)
      expect(second.every((d) => d >= 1000 && d <= 2000)).toBe(true)
      clock.now += 2000
      for (const run of runs) expect((await runReaches(engine, run.id, 'failed')).attempts).toHaveLength(3)
      expect(calls).toBe(60)
    })

    it("waits as a task's backoff function says, given the attempt and its error", async () => {
      const seen: [number, string][] = []
      const custom = defineTask({
        key: 'custom-backoff',
        maxAttempts: 3,
        backoff: (attempt, error) => {
          seen.push([attempt, error.message])
          return attempt * 7000
        },
        run(ctx) {
          if (ctx.attempt < 3) throw new Error(`failure ${ctx.attempt}`)
          return 'third time'
        },
      })
      const { engine, clock, polls } = clocked([custom])
      const run = await engine.enqueue(custom, {})
      await engine.start()
      const start = clock.now
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.attempts).toHaveLength(1))
      expect((await engine.getRun(run.id))?.runAt).toEqual(new Date(start + 7000))
      clock.now += 6999
      await polls(3) // the worker looked three times: not due yet
      expect((await engine.getRun(run.id))?.attempts).toHaveLength(1)
      clock.now += 1
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.attempts).toHaveLength(2))
      expect((await engine.getRun(run.id))?.runAt).toEqual(new Date(clock.now + 14_000))
      clock.now += 14_000
      expect((await runReaches(engine, run.id, 'succeeded')).data).toBe('third time')
      expect(seen).toEqual([
        [1, 'failure 1'],
        [2, 'failure 2'],
      ])
    })
  })
}

export function describeRetries({ engineWith }: DurableSuite): void {
  describe('retries, timeouts, errors', () => {
    it('retries a failing run with backoff until it succeeds, recording every attempt', async () => {
      let calls = 0
      const flaky = defineTask({
        key: 'flaky',
        backoff: { type: 'fixed', delayMs: 30 },
        run(ctx) {
          calls++
          ctx.log(`attempt ${ctx.attempt}`)
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`)
          return 'finally'
        },
      })
      const engine = engineWith({ tasks: [flaky] })
      const events: string[] = []
      engine.subscribe((e) => events.push(e.type), { task: 'flaky' })
      await engine.start()
      const run = await engine.enqueue(flaky, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(calls).toBe(3)
      expect(done.attempts.map((a) => [a.number, a.outcome, a.error?.message ?? null])).toEqual([
        [1, 'retry', 'boom 1'],
        [2, 'retry', 'boom 2'],
        [3, 'succeeded', null],
      ])
      expect((await engine.getLogs(run.id)).map((l) => l.message)).toEqual(['attempt 1', 'attempt 2', 'attempt 3'])
      expect(events.filter((t) => t === 'retrying')).toHaveLength(2)
      expect(events.at(-1)).toBe('succeeded')
    })

    it('fails for good once attempts are spent, or at once for an unrecoverable error', async () => {
      const failing = defineTask({
        key: 'failing',
        fields: [{ key: 'fatal', type: 'bool' }],
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 1 },
        run(ctx) {
          throw ctx.args.fatal ? new UnrecoverableError('bad input') : new Error('transient')
        },
      })
      const engine = engineWith({ tasks: [failing] })
      await engine.start()
      const spent = await engine.enqueue(failing, {})
      const fatal = await engine.enqueue(failing, { fatal: true })
      const a = await runReaches(engine, spent.id, 'failed')
      const b = await runReaches(engine, fatal.id, 'failed')
      expect(a.attempts).toHaveLength(2)
      expect(a.error).toMatchObject({ message: 'transient', code: 'ERR_HANDLER' })
      expect(b.attempts).toHaveLength(1)
      expect(b.error).toMatchObject({ code: 'ERR_UNRECOVERABLE', message: 'bad input' })
    })

    it('fails an attempt that exceeds its time limit with a timeout error, and retries it', async () => {
      let calls = 0
      const slow = defineTask({
        key: 'slow',
        timeoutMs: 50,
        backoff: { type: 'fixed', delayMs: 1 },
        async run(ctx) {
          calls++
          if (ctx.attempt === 1) await new Promise(() => undefined)
          return 'ok'
        },
      })
      const engine = engineWith({ tasks: [slow] })
      await engine.start()
      const run = await engine.enqueue(slow, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(calls).toBe(2)
      expect(done.attempts[0]).toMatchObject({ outcome: 'retry', error: { code: 'ERR_TIMEOUT', message: 'timed out after 50 ms' } })
    })

    it('tries again later without spending an attempt on RetryLaterError', async () => {
      const later = defineTask({
        key: 'later',
        maxAttempts: 1,
        run(ctx) {
          if (ctx.attempt === 1) throw new RetryLaterError(20)
          return ctx.attempt
        },
      })
      const engine = engineWith({ tasks: [later] })
      await engine.start()
      const run = await engine.enqueue(later, {})
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done).toMatchObject({ data: 2, attempt: 2, attemptBase: 1 })
    })

    it('fails a run whose stored arguments no longer match the fields', async () => {
      const engine = engineWith({ tasks: [echo] })
      const store = await engine.store()
      const [outcome] = await store.insertRuns([{ ...(await import('../../src/store/testing/index.js')).newRun({ task: 'echo', args: '{"times":"many"}', runAt: Date.now(), createdAt: Date.now() }) }])
      await engine.start()
      const failed = await runReaches(engine, outcome!.run.id, 'failed')
      expect(failed.error).toMatchObject({ code: 'ERR_UNRECOVERABLE', message: expect.stringContaining('stored arguments no longer match') as string })
    })
  })
}

export function describeCancelledError({ engineWith }: DurableSuite): void {
  describe('in-process runs can be cancelled by the engine signal', () => {
    it('still treats a CancelledError the same in durable runs', async () => {
      const quitter = defineTask({
        key: 'quitter',
        run() {
          throw new CancelledError('nothing to do')
        },
      })
      const engine = engineWith({ tasks: [quitter] })
      await engine.start()
      const run = await engine.enqueue(quitter, {})
      expect((await runReaches(engine, run.id, 'cancelled')).error).toMatchObject({ message: 'nothing to do' })
    })
  })
}
