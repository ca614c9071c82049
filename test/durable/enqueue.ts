/** Enqueue: validation of arguments and options, task defaults, unique keys, reuse, delays and expiry. */
import { describe, expect, it } from 'vitest'
import { NotFoundError, ValidationError, defineTask } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import { echo, moreCalls, observed, type DurableSuite } from './harness.js'

export function describeEnqueue({ backend, engineWith }: DurableSuite): void {
  describe('enqueue', () => {
    it('stores a validated run and a worker executes it: data, logs, progress, attempts', async () => {
      const engine = engineWith({ tasks: [echo] })
      const run = await engine.enqueue(echo, { text: 'hi', times: '2', at: '2026-01-02T03:04:05Z' }, { label: 'greeting', tags: ['t1'], createdBy: 'ada' })
      expect(run).toMatchObject({ task: 'echo', status: 'pending', label: 'greeting', queue: 'default', args: { text: 'hi', times: 2, at: '2026-01-02T03:04:05.000Z' }, tags: ['t1'], createdBy: 'ada', category: 'user', maxAttempts: 3 })
      await engine.start({ concurrency: 2 })
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done).toMatchObject({ data: { text: 'hihi', at: '2026-01-02T03:04:05.000Z', attempt: 1 }, attempt: 1, progress: { percent: 100, message: 'done' }, error: null, logCount: 1 })
      expect(done.startedAt).not.toBeNull()
      expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime())
      expect(done.attempts).toMatchObject([{ number: 1, outcome: 'succeeded', error: null, workerId: engine.workerId }])
      expect((await engine.getLogs(run.id)).map((l) => [l.seq, l.level, l.message])).toEqual([[1, 'info', 'echo hi']])
    })

    it('refuses invalid arguments and options, naming each problem, and stores nothing', async () => {
      const engine = engineWith({ tasks: [echo] })
      const error = await engine.enqueue(echo, { times: 'x' } as never).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).fields.map((f) => f.key)).toEqual(['text', 'times'])
      await expect(engine.enqueueMany(echo, [{ text: 'ok' }, { text: 5 }])).rejects.toThrow(/\[1\]\.text: expected string, got 5/)
      await expect(engine.enqueue(echo, { text: 'a' }, { priority: 1.5, queue: 'bad queue', delayMs: -1, colour: 'red' } as never)).rejects.toThrow(
        /invalid enqueue options: options.colour: unknown option .*; options.queue: expected a queue name .*, got "bad queue" \(string\); options.priority: expected an integer from -9007199254740991 to 9007199254740991, got 1.5 \(number\); options.delayMs: expected a non-negative number of milliseconds, got -1/,
      )
      await expect(engine.enqueue(echo, { text: 'a' }, { backoff: (() => 1) as never })).rejects.toThrow(/options.backoff: a backoff function can only be set on the task definition/)
      await expect(engine.enqueue('nope', {})).rejects.toThrow(NotFoundError)
      expect((await engine.listRuns()).total).toBe(0)
    })

    it('reports every bad argument and every bad option at once, in fields, for enqueue, enqueueMany and run', async () => {
      const engine = engineWith({ tasks: [echo] })
      const keys = async (call: Promise<unknown>): Promise<string[]> => {
        const error = await call.then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(ValidationError)
        return (error as ValidationError).fields.map((f) => f.key)
      }
      // JSON straight from a client: wrong types and a name that is no option.
      const options = JSON.parse('{"priority":"high","maxAttempts":0,"tags":"a,b","category":"admin","notAfter":"tomorrow","colour":"red","runAt":1,"delayMs":5}') as never
      expect(await keys(engine.enqueue(echo, { times: 'x', extra: 1 } as never, options))).toEqual([
        'text',
        'times',
        'extra',
        'options.colour',
        'options.priority',
        'options.maxAttempts',
        'options.notAfter',
        'options.delayMs',
        'options.category',
        'options.tags',
      ])
      const error = (await engine.enqueue(echo, { text: 'ok' }, { timeoutMs: 0 }).catch((e: unknown) => e)) as ValidationError
      expect(error.fields).toEqual([{ key: 'options.timeoutMs', expected: 'a positive number of milliseconds', received: '0 (number)', message: 'options.timeoutMs: expected a positive number of milliseconds, got 0 (number)' }])
      expect(await keys(engine.enqueueMany(echo, [{ text: 'ok' }, { text: 5 }], { queue: '' }))).toEqual(['[1].text', 'options.queue'])
      expect(await keys(engine.enqueue(echo, { text: 'ok' }, 'fast' as never))).toEqual(['options'])
      expect(await keys(engine.run(echo, { times: 'x' } as never, { timeoutMs: -1, label: '', speed: 2 } as never))).toEqual(['text', 'times', 'options.speed', 'options.label', 'options.timeoutMs'])
      // runAll throws at once (it returns a batch, not a promise).
      expect(await keys((async () => engine.runAll(echo, '', [{ text: 'a' }], { concurrency: -3, label: 'x' } as never))())).toEqual(['label', 'options.label', 'options.concurrency'])
      expect((await engine.listRuns({ includeDeleted: true })).total).toBe(0)
    })

    it('takes label, start delay, expiry, creator, category and tags from the task\'s defaults; the enqueue wins', async () => {
      const now = Date.UTC(2026, 5, 1, 12)
      const digest = defineTask({
        key: 'digest',
        defaults: { label: 'daily digest', delayMs: 60_000, notAfterMs: 3_600_000, createdBy: 'cron', category: 'system', tags: ['mail'] },
        run: (ctx) => ({ label: ctx.label }),
      })
      const engine = engineWith({ tasks: [digest], clock: () => now })
      const run = await engine.enqueue(digest, {})
      expect(run).toMatchObject({ label: 'daily digest', runAt: new Date(now + 60_000), notAfter: new Date(now + 60_000 + 3_600_000), createdBy: 'cron', category: 'system', tags: ['mail'] })
      expect(await engine.getRun(run.id)).toMatchObject({ label: 'daily digest', runAt: new Date(now + 60_000), notAfter: new Date(now + 3_660_000), createdBy: 'cron', category: 'system', tags: ['mail'] })
      const own = await engine.enqueue(digest, {}, { label: 'mine', delayMs: 5, createdBy: 'ada', category: 'user', tags: ['x'] })
      // The expiry counts from the run's own start.
      expect(own).toMatchObject({ label: 'mine', runAt: new Date(now + 5), notAfter: new Date(now + 5 + 3_600_000), createdBy: 'ada', category: 'user', tags: ['x'] })
      const at = await engine.enqueue(digest, {}, { runAt: now + 10, notAfter: now + 20 })
      expect(at).toMatchObject({ runAt: new Date(now + 10), notAfter: new Date(now + 20) })
      const many = await engine.enqueueMany(digest, [{}, {}])
      expect(many.map((r) => [r.label, r.category, r.tags])).toEqual([
        ['daily digest', 'system', ['mail']],
        ['daily digest', 'system', ['mail']],
      ])
      // In-process runs take the label and tags.
      expect(await engine.run(digest)).toMatchObject({ label: 'daily digest', tags: ['mail'], data: { label: 'daily digest' } })
      expect(await engine.run(digest, {}, { label: 'now', tags: [] })).toMatchObject({ label: 'now', tags: [] })
    })

    it('enqueues many in one call, in order', async () => {
      const engine = engineWith({ tasks: [echo] })
      const runs = await engine.enqueueMany(echo, [{ text: 'a' }, { text: 'b' }, { text: 'c' }], { queue: 'letters' })
      expect(runs.map((r) => r.args.text)).toEqual(['a', 'b', 'c'])
      expect(new Set(runs.map((r) => r.id)).size).toBe(3)
      expect((await engine.listRuns({ queue: 'letters' })).total).toBe(3)
    })

    it('returns the active run for a unique key, from the option or the task', async () => {
      const keyed = defineTask({ key: 'keyed', fields: [{ key: 'user', type: 'string', required: true }], uniqueKey: (args) => `sync:${args.user}`, run: () => 1 })
      const engine = engineWith({ tasks: [echo, keyed] })
      const a = await engine.enqueue(echo, { text: 'x' }, { uniqueKey: 'only-one' })
      const b = await engine.enqueue(echo, { text: 'y' }, { uniqueKey: 'only-one' })
      expect(b.id).toBe(a.id)
      const c = await engine.enqueue(keyed, { user: 'ada' })
      const d = await engine.enqueue(keyed, { user: 'ada' })
      const e = await engine.enqueue(keyed, { user: 'bob' })
      expect(d.id).toBe(c.id)
      expect(e.id).not.toBe(c.id)
      expect(c.uniqueKey).toBe('sync:ada')
    })

    it('reuses a recent identical success when the task asks for it', async () => {
      let executions = 0
      const reusing = defineTask({
        key: 'expensive',
        fields: [{ key: 'n', type: 'int', required: true }],
        reuseResultMs: 60_000,
        run: (ctx) => {
          executions++
          return ctx.args.n * 2
        },
      })
      const engine = engineWith({ tasks: [reusing] })
      await engine.start()
      const first = await engine.enqueue(reusing, { n: 21 })
      await runReaches(engine, first.id, 'succeeded')
      const second = await engine.enqueue(reusing, { n: '21' })
      expect(second).toMatchObject({ id: first.id, status: 'succeeded', data: 42 })
      const other = await engine.enqueue(reusing, { n: 1 })
      expect(other.id).not.toBe(first.id)
      await runReaches(engine, other.id, 'succeeded')
      expect(executions).toBe(2)
    })

    it('starts delayed runs when due and expires runs not started by notAfter', async () => {
      const clock = { now: Date.UTC(2026, 0, 1) }
      const watched = observed(backend.store())
      // Maintenance (which expires runs) every leaseMs / 2 = 100 ms.
      const engine = engineWith({ tasks: [echo], store: watched.store, clock: () => clock.now, leaseMs: 200 })
      await engine.start()
      const delayed = await engine.enqueue(echo, { text: 'later' }, { delayMs: 150 })
      const expired = await engine.enqueue(echo, { text: 'never' }, { runAt: clock.now + 10_000, notAfter: clock.now + 50 })
      // Before notAfter: the worker looked three times and maintained once; both wait.
      clock.now += 49
      await moreCalls(watched, 'claimRuns', 3)
      await moreCalls(watched, 'expireOverdue', 1)
      expect((await engine.getRun(delayed.id))?.status).toBe('pending')
      expect((await engine.getRun(expired.id))?.status).toBe('pending')
      // At notAfter the one expires; the delayed one still waits for its time.
      clock.now += 1
      const cancelled = await runReaches(engine, expired.id, 'cancelled')
      expect(cancelled).toMatchObject({ cancelReason: 'expired', error: { code: 'ERR_EXPIRED' }, startedAt: null, attempt: 0 })
      await moreCalls(watched, 'claimRuns', 3)
      expect((await engine.getRun(delayed.id))?.status).toBe('pending')
      clock.now += 100
      await runReaches(engine, delayed.id, 'succeeded')
    })
  })
}
