/**
 * The handler context's worker-pool details, in-process: `ctx.extendTimeout`, `ctx.setResult`
 * (partial results and how the return value settles over them), the task's `onCancel` hook,
 * sorted tags and the attempt's final log line.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ValidationError } from '../../errors.js'
import { createEngine } from '../../create-engine.js'
import { defineTask } from '../../task/define.js'
import type { RunEvent } from '../events/run-events.js'
import { finalLineOf, resultFinalLine, withFinalLine } from './final-line.js'
import type { Attempt, Run } from '../../store/types.js'
import type { LogEntry } from '../../task/context.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('ctx.extendTimeout', () => {
  it('moves the deadline later: a run that extends in time finishes past its original limit', async () => {
    vi.useFakeTimers()
    const deadlines: (Date | undefined)[] = []
    const task = defineTask({
      key: 'extends',
      timeoutMs: 100,
      async run(ctx) {
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, 80))
          deadlines.push(ctx.extendTimeout(100))
        }
        return 'done'
      },
    })
    const engine = createEngine({ tasks: [task] })
    const pending = engine.run(task)
    await vi.advanceTimersByTimeAsync(240)
    const result = await pending
    expect(result).toMatchObject({ status: 'succeeded', data: 'done' })
    expect(result.durationMs).toBeGreaterThanOrEqual(240)
    expect(deadlines.map((d) => d!.getTime() - result.startedAt.getTime())).toEqual([180, 260, 340])
  })

  it('is extend-only: a shorter value changes nothing; the error names the whole limit once it passes', async () => {
    vi.useFakeTimers()
    const seen: number[] = []
    const task = defineTask({
      key: 'shrinks',
      timeoutMs: 100,
      async run(ctx) {
        const start = Date.now()
        seen.push(ctx.extendTimeout(10)!.getTime() - start)
        seen.push(ctx.extendTimeout(150)!.getTime() - start)
        seen.push(ctx.extendTimeout(0)!.getTime() - start)
        await new Promise(() => undefined)
      },
    })
    const engine = createEngine({ tasks: [task] })
    const pending = engine.run(task)
    await vi.advanceTimersByTimeAsync(149)
    expect(seen).toEqual([100, 150, 150])
    await vi.advanceTimersByTimeAsync(1)
    const result = await pending
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ERR_TIMEOUT', message: 'timed out after 150 ms' } })
  })

  it('keeps a run without a time limit unlimited, and refuses bad input naming it', async () => {
    const errors: unknown[] = []
    const task = defineTask({
      key: 'unlimited',
      run(ctx) {
        for (const bad of [-1, Number.NaN, Infinity, '10', undefined]) {
          try {
            ctx.extendTimeout(bad as number)
          } catch (error) {
            errors.push(error)
          }
        }
        return ctx.extendTimeout(1000) ?? 'no limit'
      },
    })
    const result = await createEngine({ tasks: [task] }).run(task)
    expect(result.data).toBe('no limit')
    expect(errors).toHaveLength(5)
    expect(errors.every((e) => e instanceof ValidationError)).toBe(true)
    expect((errors[0] as Error).message).toBe('extendTimeout(): expected a number of milliseconds >= 0, got -1 (number)')
    expect((errors[3] as Error).message).toMatch(/got "10" \(string\)/)
  })
})

describe('ctx.setResult', () => {
  it('merges partial results, streams each as a result event, and the returned object merges over them', async () => {
    const task = defineTask({
      key: 'partial',
      run(ctx) {
        ctx.setResult({ copied: 1, skipped: 0 })
        ctx.setResult({ copied: 2 })
        return { skipped: 5, total: 7 }
      },
    })
    const events: RunEvent[] = []
    const result = await createEngine({ tasks: [task] }).run(task, {}, { onEvent: (e) => events.push(e) })
    expect(result.data).toEqual({ copied: 2, skipped: 5, total: 7 })
    expect(events.flatMap((e) => (e.type === 'result' ? [e.data] : []))).toEqual([{ copied: 1, skipped: 0 }, { copied: 2, skipped: 0 }])
  })

  it('keeps the partial result when the handler returns undefined; any other value replaces it', async () => {
    const task = defineTask({
      key: 'returns',
      fields: [{ key: 'mode', type: 'string' }],
      run(ctx): unknown {
        ctx.setResult({ a: 1 })
        if (ctx.args.mode === 'none') return undefined
        if (ctx.args.mode === 'list') return [1, 2]
        return null
      },
    })
    const engine = createEngine({ tasks: [task] })
    expect((await engine.run(task, { mode: 'none' })).data).toEqual({ a: 1 })
    expect((await engine.run(task, { mode: 'list' })).data).toEqual([1, 2])
    expect((await engine.run(task, { mode: 'null' })).data).toBeNull()
  })

  it('keeps a failed or cancelled run\'s partial result as its data', async () => {
    const task = defineTask({
      key: 'half-done',
      async run(ctx) {
        ctx.setResult({ copied: 3 })
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))
      },
    })
    const engine = createEngine({ tasks: [task] })
    const controller = new AbortController()
    const cancelled = engine.run(task, {}, { signal: controller.signal })
    controller.abort('enough')
    expect(await cancelled).toMatchObject({ status: 'cancelled', data: { copied: 3 } })
    expect(await engine.run(task, {}, { timeoutMs: 5 })).toMatchObject({ status: 'failed', data: { copied: 3 }, error: { code: 'ERR_TIMEOUT' } })
  })

  it('refuses anything but a plain object, naming what it got, and keeps the result as it was', async () => {
    const task = defineTask({
      key: 'bad-partial',
      run(ctx) {
        ctx.setResult({ ok: true })
        const errors: string[] = []
        for (const bad of [null, [1], 'text', new Date(0)]) {
          try {
            ctx.setResult(bad as never)
          } catch (error) {
            errors.push(`${(error as Error).name}: ${(error as Error).message}`)
          }
        }
        return { errors }
      },
    })
    const result = await createEngine({ tasks: [task] }).run(task)
    expect(result.data).toMatchObject({ ok: true })
    const { errors } = result.data as { errors: string[] }
    expect(errors).toHaveLength(4)
    expect(errors[0]).toBe('ValidationError: setResult(): expected a plain object whose keys merge into the result, got null (null)')
    expect(errors[1]).toMatch(/got \[1\]|got .*array/i)
  })
})

describe('onCancel', () => {
  it('runs when a running handler is cancelled (not onFailure), and not for a cancel before the start', async () => {
    const calls: string[] = []
    const task = defineTask({
      key: 'cancellable',
      run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
      onFailure: () => void calls.push('failure'),
      onCancel(ctx, error) {
        calls.push(`cancel ${error.code} ${error.message}`)
        ctx.log('cleaned up')
      },
      onSettled: (_ctx, result) => void calls.push(`settled ${result.status}`),
    })
    const engine = createEngine({ tasks: [task] })
    const controller = new AbortController()
    const running = engine.run(task, {}, { signal: controller.signal })
    controller.abort('user pressed stop')
    const result = await running
    expect(result.status).toBe('cancelled')
    expect(calls).toEqual(['cancel ERR_CANCELLED cancelled: user pressed stop', 'settled cancelled'])
    expect(result.logs.map((l) => l.message)).toEqual(['cleaned up'])
    calls.length = 0
    const before = new AbortController()
    before.abort()
    expect((await engine.run(task, {}, { signal: before.signal })).status).toBe('cancelled')
    expect(calls).toEqual(['settled cancelled'])
  })

  it('is checked at definition time', () => {
    expect(() => defineTask({ key: 'bad', run: () => 1, onCancel: 'nope' as never })).toThrow('task "bad": onCancel must be a function, got "nope" (string)')
  })
})

describe('tags and the final log line', () => {
  it('keeps the result\'s tags sorted and without duplicates', async () => {
    const task = defineTask({
      key: 'tagger',
      run(ctx) {
        ctx.addTags('zeta', 'alpha', 'zeta')
        ctx.addTags('beta')
      },
    })
    const events: RunEvent[] = []
    const result = await createEngine({ tasks: [task] }).run(task, {}, { tags: ['mid', 'mid', 'a'], onEvent: (e) => events.push(e) })
    expect(result.tags).toEqual(['a', 'alpha', 'beta', 'mid', 'zeta'])
    expect(events.flatMap((e) => (e.type === 'tags' ? [e.tags] : []))).toEqual([
      ['a', 'alpha', 'mid', 'zeta'],
      ['a', 'alpha', 'beta', 'mid', 'zeta'],
    ])
    const untouched = await createEngine({ tasks: [defineTask({ key: 'plain', run: () => 1 })] }).run('plain', {}, { tags: ['b', 'a', 'b'] })
    expect(untouched.tags).toEqual(['a', 'b'])
  })

  it('ends a result\'s shown log with how it ended and how long its handler took, derived from its times (the result keeps only the handler\'s lines)', async () => {
    const task = defineTask({
      key: 'outcomes',
      fields: [{ key: 'fail', type: 'bool' }],
      run(ctx) {
        ctx.log('working')
        if (ctx.args.fail) throw new Error('no')
      },
    })
    const engine = createEngine({ tasks: [task] })
    const ok = await engine.run(task)
    expect(ok.logs.map((l) => [l.seq, l.level, l.message])).toEqual([[1, 'info', 'working']])
    expect(resultFinalLine(ok)).toEqual({ seq: 2, time: ok.finishedAt, level: 'info', message: `completed in ${ok.durationMs} ms` })
    const failed = await engine.run(task, { fail: true })
    expect(resultFinalLine(failed).message).toBe(`failed after ${failed.durationMs} ms`)
  })

  it('a stored run\'s final line: numbered after its stored lines, only once a handler ended it, added when a page of lines reaches it', () => {
    const startedAt = new Date('2026-01-01T00:00:00.000Z')
    const finishedAt = new Date('2026-01-01T00:00:00.250Z')
    const attempt = (outcome: Attempt['outcome']): Attempt => ({ number: 1, workerId: 'w', startedAt, finishedAt, outcome, error: null })
    const run = (status: Run['status'], attempts: Attempt[], logCount = 2): Run => ({ status, attempts, logCount }) as unknown as Run
    const line = (seq: number): LogEntry => ({ seq, time: startedAt, level: 'info', message: `line ${seq}` })
    expect(finalLineOf(run('succeeded', [attempt('succeeded')]))).toEqual({ seq: 3, time: finishedAt, level: 'info', message: 'completed in 250 ms' })
    expect(finalLineOf(run('failed', [attempt('failed')]))?.message).toBe('failed after 250 ms')
    expect(finalLineOf(run('cancelled', [attempt('cancelled')]))?.message).toBe('cancelled after 250 ms')
    // No handler ended it: cancelled while pending (after a retried attempt, or before any), lost with its worker, still running.
    expect(finalLineOf(run('cancelled', [attempt('retry')]))).toBeUndefined()
    expect(finalLineOf(run('failed', []))).toBeUndefined()
    expect(finalLineOf(run('failed', [attempt('interrupted')]))).toBeUndefined()
    expect(finalLineOf(run('running', [attempt('retry')]))).toBeUndefined()
    const done = run('succeeded', [attempt('succeeded')])
    expect(withFinalLine(done, [line(1), line(2)], 0, 1000).map((l) => l.seq)).toEqual([1, 2, 3])
    // A full page has more to come; a page after the final line has nothing; a page between gets it.
    expect(withFinalLine(done, [line(1), line(2)], 0, 2).map((l) => l.seq)).toEqual([1, 2])
    expect(withFinalLine(done, [], 3, 1000)).toEqual([])
    expect(withFinalLine(done, [], 2, 1000).map((l) => l.message)).toEqual(['completed in 250 ms'])
    expect(withFinalLine(undefined, [line(1)], 0, 1000)).toEqual([line(1)])
  })
})
