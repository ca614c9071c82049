/**
 * In-process batches and the end of in-process runs: `engine.runAll` (order, concurrency,
 * validation, failures, cancel) and `engine.close` (grace period, then a `ShutdownError`).
 */
import { availableParallelism } from 'node:os'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { UnrecoverableError, ValidationError } from '../../errors.js'
import { defineTask } from '../../task/define.js'
import { createEngine } from '../../create-engine.js'

afterEach(() => {
  vi.useRealTimers()
})

/** A task with a defaulted field, for batches that need no more. */
const backup = defineTask({
  key: 'backup',
  fields: [{ key: 'format', type: 'string', default: 'sql', choices: ['sql', 'tar'] }],
  run: (ctx) => ({ file: `backup.${ctx.args.format}` }),
})

describe('engine.runAll', () => {
  function tracked(maxConcurrent: number) {
    let active = 0
    let peak = 0
    const task = defineTask({
      key: 'tracked',
      maxConcurrent,
      fields: [{ key: 'ms', type: 'int', default: 0 }],
      async run(ctx) {
        active++
        peak = Math.max(peak, active)
        await new Promise((r) => setTimeout(r, ctx.args.ms))
        active--
        return ctx.args.ms
      },
    })
    return { task, peak: () => peak }
  }

  it('returns results in input order and honours maxConcurrent', async () => {
    const { task, peak } = tracked(3)
    const engine = createEngine({ tasks: [task] })
    const delays = [30, 5, 20, 1, 10, 2, 15, 0]
    const results = await engine.runAll(task, 'batch', delays.map((ms) => ({ ms })))
    expect(results.map((r) => r.data)).toEqual(delays)
    expect(results.every((r) => r.label === 'batch' && r.status === 'succeeded')).toBe(true)
    expect(peak()).toBe(3)
  })

  it('yields results in completion order with for await', async () => {
    const { task } = tracked(10)
    const engine = createEngine({ tasks: [task] })
    const order: number[] = []
    for await (const result of engine.runAll(task, 'batch', [{ ms: 60 }, { ms: 1 }, { ms: 30 }])) order.push(result.data!)
    expect(order).toEqual([1, 30, 60])
  })

  it('uses the CPU count for 0 and 128 for -1; rejects other negatives', async () => {
    for (const [setting, expected] of [
      [0, Math.min(availableParallelism(), 200)],
      [-1, 128],
    ] as const) {
      const { task, peak } = tracked(setting)
      const engine = createEngine({ tasks: [task] })
      await engine.runAll(task, 'b', Array.from({ length: 200 }, () => ({ ms: 5 })))
      expect(peak()).toBe(expected)
    }
    const { task } = tracked(1)
    const engine = createEngine({ tasks: [task] })
    expect(() => engine.runAll(task, 'b', [], { concurrency: -3 })).toThrow('concurrency: expected a positive integer, 0 (available parallelism) or -1 (128), got -3 (number)')
  })

  it('validates every item first and runs nothing when any is invalid', () => {
    const handler = vi.fn()
    const task = defineTask({ key: 'items', fields: [{ key: 'n', type: 'int', required: true }], run: handler })
    const engine = createEngine({ tasks: [task] })
    let error: unknown
    try {
      engine.runAll(task, 'b', [{ n: 1 }, { n: 'two' }, {}, 'junk' as never])
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).fields.map((f) => f.key)).toEqual(['[1].n', '[2].n', '[3]'])
    expect(handler).not.toHaveBeenCalled()
  })

  it('keeps failures as results and goes on with the rest', async () => {
    const task = defineTask({
      key: 'some-fail',
      fields: [{ key: 'n', type: 'int', required: true }],
      run(ctx) {
        if (ctx.args.n % 2 === 1) throw new UnrecoverableError(`odd ${ctx.args.n}`)
        return ctx.args.n
      },
    })
    const engine = createEngine({ tasks: [task] })
    const results = await engine.runAll(task, 'b', [{ n: 1 }, { n: 2 }, { n: 3 }])
    expect(results.map((r) => r.status)).toEqual(['failed', 'succeeded', 'failed'])
    expect(results[0]?.error).toMatchObject({ code: 'ERR_UNRECOVERABLE', message: 'odd 1' })
  })

  it('cancels the rest of a batch through its signal', async () => {
    const controller = new AbortController()
    let started = 0
    const task = defineTask({
      key: 'cancel-batch',
      maxConcurrent: 2,
      run: (ctx) =>
        new Promise((resolve) => {
          started++
          if (started === 2) controller.abort()
          ctx.signal.addEventListener('abort', () => resolve('stopped'))
        }),
    })
    const engine = createEngine({ tasks: [task] })
    const results = await engine.runAll(task, 'b', Array.from({ length: 6 }, () => ({})), { signal: controller.signal })
    expect(started).toBe(2)
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('cancelled'))
  })

  it('shares the caller’s signal among fifty runs at once with one listener on it: no leak warning, and its abort still cancels them all with its reason', async () => {
    const controller = new AbortController()
    const warnings: string[] = []
    const onWarning = (warning: Error): void => void warnings.push(warning.name)
    process.on('warning', onWarning)
    let started = 0
    const task = defineTask({
      key: 'wide-batch',
      run: (ctx) =>
        new Promise((_, reject) => {
          if (++started === 50) controller.abort(new Error('enough'))
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
        }),
    })
    try {
      const engine = createEngine({ tasks: [task] })
      const results = await engine.runAll(task, 'b', Array.from({ length: 60 }, () => ({})), { signal: controller.signal, concurrency: 50 })
      expect(started).toBe(50)
      expect(results.map((r) => r.status)).toEqual(Array(60).fill('cancelled'))
      expect(results[0]?.error?.message).toContain('enough')
      // Warnings are emitted on a later turn.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).not.toContain('MaxListenersExceededWarning')
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('handles an empty list', async () => {
    const engine = createEngine({ tasks: [backup] })
    expect(await engine.runAll('backup', 'b', [])).toEqual([])
  })
})

describe('engine.close and in-process runs', () => {
  /** A handler that waits for its signal and rejects with its reason. */
  const waiting = (started: string[] = []) =>
    defineTask({
      key: 'waiting',
      run: (ctx) =>
        new Promise((_, reject) => {
          started.push(ctx.runId)
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))
        }),
    })

  it('fires the signal of in-process runs with a ShutdownError once the grace period is over; they end cancelled', async () => {
    const engine = createEngine({ tasks: [waiting()] })
    const pending = engine.run('waiting')
    const timed = engine.run('waiting', {}, { timeoutMs: 60_000 })
    await engine.close({ graceMs: 0 })
    for (const result of [await pending, await timed]) {
      expect(result).toMatchObject({ status: 'cancelled', error: { code: 'ERR_SHUTDOWN', name: 'ShutdownError', message: 'engine shutting down' } })
    }
  })

  it('gives in-process runs the grace period to finish, and waits for them', async () => {
    let finish: (value: string) => void = () => undefined
    const engine = createEngine({ tasks: [defineTask({ key: 'finishing', run: () => new Promise<string>((resolve) => (finish = resolve)) })] })
    const pending = engine.run('finishing')
    let closed = false
    const closing = engine.close({ graceMs: 60_000 }).then(() => (closed = true))
    await new Promise((r) => setImmediate(r))
    expect(closed).toBe(false)
    finish('done in time')
    await closing
    expect(await pending).toMatchObject({ status: 'succeeded', data: 'done in time' })
  })

  it('settles at once a run with a time limit whose handler ignores its signal, and does not wait forever for one without', async () => {
    let seen: unknown
    const deaf = defineTask({
      key: 'deaf',
      run: (ctx) => {
        ctx.signal.addEventListener('abort', () => {
          seen = ctx.signal.reason as unknown
        })
        return new Promise(() => undefined)
      },
    })
    const engine = createEngine({ tasks: [deaf] })
    const raced = engine.run('deaf', {}, { timeoutMs: 60_000 })
    void engine.run('deaf')
    await engine.close({ graceMs: 0 })
    expect((await raced).status).toBe('cancelled')
    expect((seen as Error).name).toBe('ShutdownError')
  })

  it('stops a batch: running items are cancelled and the rest never start', async () => {
    const started: string[] = []
    const task = waiting(started)
    const engine = createEngine({ tasks: [task, backup] })
    const startedEvents: string[] = []
    engine.subscribe((event) => {
      if (event.type === 'started') startedEvents.push(event.runId)
    })
    const batch = engine.runAll(task, 'b', Array.from({ length: 5 }, () => ({})), { concurrency: 2 })
    await vi.waitFor(() => expect(started).toHaveLength(2))
    await engine.close({ graceMs: 0 })
    const results = await batch
    expect(started).toHaveLength(2)
    // Items that never started say so in their events too.
    expect(startedEvents).toHaveLength(2)
    expect(results.map((r) => [r.status, r.error?.name])).toEqual(Array(5).fill(['cancelled', 'ShutdownError']))
    // The engine still runs what it is asked to after closing.
    expect((await engine.run(backup)).status).toBe('succeeded')
  })
})

describe('in-process runs: the task validate and int64 arguments', () => {
  let handled = 0
  const span = defineTask({
    key: 'span',
    fields: [
      { key: 'from', type: 'bigint', required: true },
      { key: 'to', type: 'int64', required: true },
    ],
    validate: ({ from, to }) => (to < from ? [{ field: 'to', message: 'must not come before from' }, 'a span runs forwards'] : undefined),
    run: (ctx) => {
      handled++
      return { length: ctx.args.to - ctx.args.from, isBig: typeof ctx.args.to === 'bigint' }
    },
  })

  it('run refuses what validate reports, beside the bad options, and runs nothing', async () => {
    handled = 0
    const engine = createEngine({ tasks: [span] })
    const error = (await engine.run(span, { from: 5, to: 1 }, { colour: 'red' } as never).catch((e: unknown) => e)) as ValidationError
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.fields.map((f) => [f.key, f.message])).toEqual([
      ['to', 'to: must not come before from'],
      ['', 'a span runs forwards'],
      ['options.colour', expect.stringMatching(/^options\.colour: unknown option/) as string],
    ])
    const batch = (await Promise.resolve()
      .then(() => engine.runAll(span, 'batch', [{ from: 1, to: 2 }, { from: 3, to: 2 }]))
      .catch((e: unknown) => e)) as ValidationError
    expect(batch.fields.map((f) => f.key)).toEqual(['[1].to', '[1]'])
    expect(batch.message).toBe('invalid arguments in batch: [1].to: must not come before from; [1]: a span runs forwards')
    expect(handled).toBe(0)
  })

  it('gives the handler bigints; the result keeps args as decimal strings, exact beyond 2^53', async () => {
    const engine = createEngine({ tasks: [span] })
    const result = await engine.run(span, { from: '1', to: '9007199254740993' })
    expect(result).toMatchObject({ status: 'succeeded', args: { from: '1', to: '9007199254740993' }, data: { length: 9007199254740992n, isBig: true } })
  })
})

describe('engine.run without options (the task default spec is reused)', () => {
  it('still rejects (not throws) an unknown task or bad arguments', async () => {
    const engine = createEngine({ tasks: [backup] })
    const unknown = engine.run('nope')
    await expect(unknown).rejects.toThrow(/nope/)
    await expect(engine.run(backup, { format: 'zip' })).rejects.toBeInstanceOf(ValidationError)
  })

  it('sends events to a subscriber that came after earlier runs, and stops when it leaves', async () => {
    const engine = createEngine({ tasks: [backup] })
    expect((await engine.run(backup)).status).toBe('succeeded')
    const seen: string[] = []
    const unsubscribe = engine.subscribe((event) => seen.push(event.type))
    await engine.run(backup)
    expect(seen).toContain('started')
    expect(seen).toContain('succeeded')
    unsubscribe()
    const before = seen.length
    await engine.run(backup)
    expect(seen.length).toBe(before)
  })

  it('runs the task registered now under a key, with its defaults, not the one it replaced', async () => {
    const first = defineTask({ key: 'swap', defaults: { label: 'first', tags: ['a'] }, run: () => 'first' })
    const second = defineTask({ key: 'swap', defaults: { label: 'second', tags: ['b'] }, run: () => 'second' })
    const engine = createEngine({ tasks: [first] })
    expect(await engine.run('swap')).toMatchObject({ data: 'first', label: 'first', tags: ['a'] })
    engine.remove('swap')
    engine.register(second)
    expect(await engine.run('swap')).toMatchObject({ data: 'second', label: 'second', tags: ['b'] })
  })

  it('runs a call made after close as any new call runs: the spec from before the shutdown is not reused (its runs would end unstarted)', async () => {
    const engine = createEngine({ tasks: [backup] })
    expect((await engine.run(backup)).status).toBe('succeeded')
    await engine.close()
    const late = await engine.run(backup)
    expect(late.status).toBe('succeeded')
    expect(late.data).toEqual({ file: 'backup.sql' })
  })
})
