import { afterEach, describe, expect, it, vi } from 'vitest'
import { CancelledError, NotFoundError, ValidationError } from '../errors.js'
import { defineTask } from '../task/define.js'
import type { RunEvent } from './events/run-events.js'
import { createEngine } from '../create-engine.js'

afterEach(() => {
  vi.useRealTimers()
})

const backup = defineTask({
  key: 'backup',
  title: 'Database Backup',
  category: 'maintenance',
  icon: 'database',
  description: 'Creates a database backup',
  tags: ['db', 'maintenance'],
  dangerous: 'May lock tables during backup',
  expensive: true,
  maxConcurrent: 4,
  fields: [{ key: 'format', title: 'Format', type: 'string', default: 'sql', choices: ['sql', 'tar'] }],
  async run(ctx) {
    ctx.log('starting backup')
    ctx.progress({ step: 1, steps: 2, message: 'dumping' })
    await Promise.resolve()
    return { file: `backup.${ctx.args.format}` }
  },
})

describe('engine.run', () => {
  it('runs a task in-process and returns a full result', async () => {
    const engine = createEngine().register(backup)
    const before = Date.now()
    const result = await engine.run('backup', { format: 'tar' }, { label: 'nightly', tags: ['manual'] })
    expect(result).toMatchObject({
      task: 'backup',
      label: 'nightly',
      args: { format: 'tar' },
      status: 'succeeded',
      data: { file: 'backup.tar' },
      error: undefined,
      tags: ['manual'],
      progress: { step: 1, steps: 2, percent: 50, message: 'dumping' },
      droppedLogs: 0,
    })
    expect(result.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(result.logs).toEqual([{ seq: 1, time: expect.any(Date) as Date, level: 'info', message: 'starting backup' }])
    expect(result.startedAt.getTime()).toBeGreaterThanOrEqual(before)
    expect(result.finishedAt.getTime()).toBeGreaterThanOrEqual(result.startedAt.getTime())
    expect(result.durationMs).toBe(result.finishedAt.getTime() - result.startedAt.getTime())
  })

  it('uses the label ad-hoc and the field defaults when none are given', async () => {
    const engine = createEngine({ tasks: [backup] })
    const result = await engine.run(backup)
    expect(result.label).toBe('ad-hoc')
    expect(result.args).toEqual({ format: 'sql' })
    expect(result.data).toEqual({ file: 'backup.sql' })
  })

  it('rejects invalid arguments, listing every bad field, without running the handler', async () => {
    const handler = vi.fn()
    const task = defineTask({
      key: 'strict',
      fields: [
        { key: 'n', type: 'int', required: true },
        { key: 'mode', type: 'string', choices: ['a', 'b'] },
      ],
      run: handler,
    })
    const engine = createEngine({ tasks: [task] })
    const error = await engine.run('strict', { n: 'x', mode: 'c' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).fields.map((f) => f.key)).toEqual(['n', 'mode'])
    expect(handler).not.toHaveBeenCalled()
  })

  it('rejects an unknown task by name, and a task object registered elsewhere', async () => {
    const engine = createEngine()
    await expect(engine.run('nope')).rejects.toThrow(NotFoundError)
    await expect(engine.run('nope')).rejects.toThrow('unknown task "nope"')
    await expect(engine.run(backup)).rejects.toThrow('task "backup" is not registered on this engine')
  })

  it('checks run options eagerly, quoting the bad value', async () => {
    const engine = createEngine({ tasks: [backup] })
    await expect(engine.run('backup', {}, { timeoutMs: -5 })).rejects.toThrow('options.timeoutMs: expected a positive number of milliseconds, got -5 (number)')
    await expect(engine.run('backup', {}, { label: '' })).rejects.toThrow('options.label: expected a non-empty string, got "" (string)')
    await expect(engine.run('backup', {}, { tags: [''] })).rejects.toThrow(/options.tags: expected an array of non-empty strings/)
  })

  it('turns a thrown error into a failed result with message, code and stack; never rejects', async () => {
    class DiskFull extends Error {
      code = 'E_DISK_FULL'
    }
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'fails',
          run() {
            throw new DiskFull('disk full', { cause: new Error('quota') })
          },
        }),
        defineTask({ key: 'rejects', run: () => Promise.reject(new Error('async boom')) }),
        defineTask({
          key: 'throws-string',
          run() {
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- handlers may throw anything
            throw 'plain string'
          },
        }),
      ],
    })
    const failed = await engine.run('fails')
    expect(failed.status).toBe('failed')
    expect(failed.data).toBeUndefined()
    expect(failed.error).toMatchObject({ message: 'disk full', code: 'E_DISK_FULL', name: 'Error' })
    expect(failed.error?.stack).toMatch(/disk full\n\s+at /)
    expect(failed.error?.stack).toMatch(/Caused by: Error: quota/)
    const rejected = await engine.run('rejects')
    expect(rejected.error).toMatchObject({ message: 'async boom', code: 'ERR_HANDLER' })
    const stringly = await engine.run('throws-string')
    expect(stringly.error).toMatchObject({ message: 'plain string', code: 'ERR_HANDLER' })
  })

  it('records log levels, formats several arguments, and cuts very long lines', async () => {
    const engine = createEngine({
      maxLogLineLength: 30,
      tasks: [
        defineTask({
          key: 'logger',
          run(ctx) {
            ctx.log.debug('d')
            ctx.log('copied', 3, 'rows', { ok: true })
            ctx.log.warn('w')
            ctx.log.error('e')
            ctx.log('x'.repeat(40))
          },
        }),
      ],
    })
    const { logs } = await engine.run('logger')
    expect(logs.map((l) => [l.seq, l.level, l.message])).toEqual([
      [1, 'debug', 'd'],
      [2, 'info', 'copied 3 rows { ok: true }'],
      [3, 'warn', 'w'],
      [4, 'error', 'e'],
      [5, 'info', `${'x'.repeat(30)}… [10 characters cut]`],
    ])
  })

  it('keeps the newest log lines past the limit and counts the dropped ones', async () => {
    const engine = createEngine({
      maxLogLines: 100,
      tasks: [
        defineTask({
          key: 'chatty',
          run(ctx) {
            for (let i = 1; i <= 1000; i++) ctx.log(`line ${i}`)
          },
        }),
      ],
    })
    const result = await engine.run('chatty')
    expect(result.logs.length).toBeLessThanOrEqual(100)
    expect(result.droppedLogs + result.logs.length).toBe(1000)
    expect(result.logs.at(-1)).toMatchObject({ seq: 1000, message: 'line 1000' })
  })

  it('merges progress reports and derives percent from steps', async () => {
    const seen: unknown[] = []
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'steps',
          run(ctx) {
            ctx.progress({ steps: 4, step: 1, message: 'one' })
            ctx.progress({ percent: 30 })
            ctx.progress({ step: 1, dest: '/tmp' })
            ctx.progress({ step: 3 })
            ctx.progress({ message: 'three' })
            ctx.progress({ step: 4, message: 'four' })
            ctx.progress({ percent: 120, dest: '/out' })
          },
        }),
      ],
    })
    const result = await engine.run('steps', {}, { onEvent: (e) => e.type === 'progress' && seen.push(e.progress) })
    // A message belongs to its step: a new step without one clears it; the same step keeps it.
    expect(seen).toEqual([
      { steps: 4, step: 1, message: 'one', percent: 25 },
      { steps: 4, step: 1, message: 'one', percent: 30 },
      { steps: 4, step: 1, message: 'one', percent: 25, dest: '/tmp' },
      { steps: 4, step: 3, percent: 75, dest: '/tmp' },
      { steps: 4, step: 3, message: 'three', percent: 75, dest: '/tmp' },
      { steps: 4, step: 4, message: 'four', percent: 100, dest: '/tmp' },
      { steps: 4, step: 4, message: 'four', percent: 100, dest: '/out' },
    ])
    expect(result.progress).toEqual({ steps: 4, step: 4, message: 'four', percent: 100, dest: '/out' })
  })

  it('ends the README example at "100%" without the first step\'s message', async () => {
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'dump',
          run(ctx) {
            ctx.progress({ step: 1, steps: 2, message: 'dumping' })
            ctx.progress({ step: 2, steps: 2 })
          },
        }),
      ],
    })
    expect((await engine.run('dump')).progress).toEqual({ step: 2, steps: 2, percent: 100 })
  })

  it('names what is wrong with an overlong run id', async () => {
    const engine = createEngine({})
    try {
      await expect(engine.getRun('x'.repeat(10_000))).rejects.toThrow('run id: expected at most 100 characters, got 10,000 characters')
      await expect(engine.getRun('')).rejects.toThrow('run id: expected a non-empty string, got "" (string)')
    } finally {
      await engine.close()
    }
  })

  it('fails a run whose handler reports malformed progress, naming the problem', async () => {
    const engine = createEngine({ tasks: [defineTask({ key: 'bad-progress', run: (ctx) => ctx.progress({ step: -1 }) })] })
    const result = await engine.run('bad-progress')
    expect(result.status).toBe('failed')
    expect(result.error?.message).toBe('progress step must be a number >= 0, got -1')
  })

  it('adds tags without duplicates', async () => {
    const engine = createEngine({ tasks: [defineTask({ key: 'tagger', run: (ctx) => ctx.addTags('a', 'b', 'a') })] })
    expect((await engine.run('tagger', {}, { tags: ['a'] })).tags).toEqual(['a', 'b'])
  })

  it('times out: the signal fires with a timeout reason and the result is failed at once, even if the handler ignores it', async () => {
    vi.useFakeTimers()
    let sawReason: unknown
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'hangs',
          timeoutMs: 1000,
          run(ctx) {
            ctx.signal.addEventListener('abort', () => {
              sawReason = ctx.signal.reason
            })
            return new Promise(() => undefined)
          },
        }),
      ],
    })
    const pending = engine.run('hangs')
    await vi.advanceTimersByTimeAsync(999)
    let settled = false
    void pending.then(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const result = await pending
    expect(result.status).toBe('failed')
    expect(result.error).toMatchObject({ code: 'ERR_TIMEOUT', message: 'timed out after 1000 ms', name: 'TimeoutError' })
    expect(sawReason).toMatchObject({ code: 'ERR_TIMEOUT' })
  })

  it('lets the caller shorten the time limit per run', async () => {
    vi.useFakeTimers()
    const engine = createEngine({ tasks: [defineTask({ key: 'slow', run: () => new Promise((r) => setTimeout(r, 10_000)) })] })
    const pending = engine.run('slow', {}, { timeoutMs: 50 })
    await vi.advanceTimersByTimeAsync(50)
    expect((await pending).error?.code).toBe('ERR_TIMEOUT')
  })

  it('cancels from outside through opts.signal: the handler sees it and the run ends cancelled', async () => {
    let aborted = false
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'waits',
          run: (ctx) =>
            new Promise((_, reject) => {
              ctx.signal.addEventListener('abort', () => {
                aborted = true
                reject(new Error('stopped'))
              })
            }),
        }),
      ],
    })
    const controller = new AbortController()
    const pending = engine.run('waits', {}, { signal: controller.signal })
    controller.abort('user asked')
    const result = await pending
    expect(aborted).toBe(true)
    expect(result.status).toBe('cancelled')
    expect(result.error).toMatchObject({ code: 'ERR_CANCELLED', message: 'cancelled: user asked' })
  })

  it('does not start the handler when the signal has already fired', async () => {
    const handler = vi.fn()
    const engine = createEngine({ tasks: [defineTask({ key: 'never', run: handler })] })
    const result = await engine.run('never', {}, { signal: AbortSignal.abort() })
    expect(result.status).toBe('cancelled')
    expect(handler).not.toHaveBeenCalled()
  })

  it('treats a CancelledError thrown by the handler as a cancellation', async () => {
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'gives-up',
          run() {
            throw new CancelledError('nothing to do')
          },
        }),
      ],
    })
    expect(await engine.run('gives-up')).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED', message: 'nothing to do' } })
  })

  it('ignores what an abandoned handler does after the result settled', async () => {
    vi.useFakeTimers()
    let late: (() => void) | undefined
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'late',
          timeoutMs: 10,
          run: (ctx) =>
            new Promise(() => {
              late = () => {
                ctx.log('too late')
                ctx.progress({ percent: 99 })
              }
            }),
        }),
      ],
    })
    const pending = engine.run('late')
    await vi.advanceTimersByTimeAsync(10)
    const result = await pending
    late!()
    expect(result.logs).toEqual([])
    expect(result.progress).toBeUndefined()
  })
})

describe('hooks', () => {
  it('calls onSuccess with the data and onSettled with the result; hook logs land on the run', async () => {
    const calls: string[] = []
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'hooked',
          run: () => 7,
          onSuccess(ctx, data) {
            calls.push(`success ${data}`)
            ctx.log('post-action')
          },
          onFailure: () => void calls.push('failure'),
          onSettled(ctx, result) {
            calls.push(`settled ${result.status}`)
            ctx.log('cleanup')
          },
        }),
      ],
    })
    const result = await engine.run('hooked')
    expect(calls).toEqual(['success 7', 'settled succeeded'])
    expect(result.logs.map((l) => l.message)).toEqual(['post-action', 'cleanup'])
  })

  it('calls onFailure for a failed run only, not for a cancelled one', async () => {
    const calls: string[] = []
    const task = defineTask({
      key: 'fails',
      fields: [{ key: 'cancel', type: 'bool' }],
      run(ctx) {
        throw ctx.args.cancel ? new CancelledError() : new Error('x')
      },
      onFailure: (_ctx, error) => void calls.push(`failure ${error.message}`),
      onSettled: (_ctx, result) => void calls.push(`settled ${result.status}`),
    })
    const engine = createEngine({ tasks: [task] })
    await engine.run(task)
    await engine.run(task, { cancel: true })
    expect(calls).toEqual(['failure x', 'settled failed', 'settled cancelled'])
  })

  it('logs a throwing or rejecting hook on the run and keeps the run status', async () => {
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'bad-hooks',
          run: () => 'ok',
          onSuccess() {
            throw new Error('post-action broke')
          },
          onSettled: () => Promise.reject(new Error('cleanup broke')),
        }),
      ],
    })
    const result = await engine.run('bad-hooks')
    expect(result.status).toBe('succeeded')
    expect(result.data).toBe('ok')
    expect(result.logs.map((l) => [l.level, l.message.split('\n')[0]])).toEqual([
      ['error', 'onSuccess hook failed: Error: post-action broke'],
      ['error', 'onSettled hook failed: Error: cleanup broke'],
    ])
  })

  it('does not wait forever for a hook that never finishes', async () => {
    vi.useFakeTimers()
    const engine = createEngine({
      hookTimeoutMs: 100,
      tasks: [defineTask({ key: 'stuck-hook', run: () => 1, onSettled: () => new Promise(() => undefined) })],
    })
    const pending = engine.run('stuck-hook')
    await vi.advanceTimersByTimeAsync(100)
    const result = await pending
    expect(result.status).toBe('succeeded')
    expect(result.logs[0]).toMatchObject({ level: 'error', message: 'onSettled hook did not finish within 100 ms' })
  })
})

describe('events', () => {
  it('delivers every log and progress update as it happens, in order, then the final status', async () => {
    const events: RunEvent[] = []
    const engine = createEngine({ tasks: [backup] })
    const result = await engine.run('backup', {}, { onEvent: (e) => events.push(e) })
    expect(events.map((e) => e.type)).toEqual(['started', 'log', 'progress', 'succeeded'])
    expect(events.every((e) => e.runId === result.id && e.task === 'backup')).toBe(true)
    const last = events.at(-1)
    expect(last?.type === 'succeeded' && last.result).toBe(result)
  })

  it('streams while the handler is still running', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const seen: string[] = []
    const engine = createEngine({
      tasks: [
        defineTask({
          key: 'gated',
          async run(ctx) {
            ctx.log('before')
            await gate
            ctx.log('after')
          },
        }),
      ],
    })
    const pending = engine.run('gated', {}, { onEvent: (e) => e.type === 'log' && seen.push(e.entry.message) })
    await vi.waitFor(() => expect(seen).toEqual(['before']))
    release()
    await pending
    expect(seen).toEqual(['before', 'after'])
  })

  it('feeds engine subscribers, filtered by task, and survives a throwing listener', async () => {
    const errors: Error[] = []
    const engine = createEngine({ tasks: [backup, defineTask({ key: 'other', run: () => 1 })], onError: (e) => errors.push(e) })
    const types: string[] = []
    const unsubscribe = engine.subscribe((e) => types.push(`${e.task}:${e.type}`), { task: 'backup' })
    engine.subscribe(() => {
      throw new Error('listener bug')
    })
    const result = await engine.run('backup', {}, { onEvent: () => { throw new Error('onEvent bug') } })
    await engine.run('other')
    expect(result.status).toBe('succeeded')
    expect(types).toEqual(['backup:started', 'backup:log', 'backup:progress', 'backup:succeeded'])
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]?.message).toBe('onEvent bug')
    unsubscribe()
    await engine.run('backup')
    expect(types).toHaveLength(4)
  })
})
