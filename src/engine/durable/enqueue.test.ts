import { afterEach, describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import { createEngine } from '../../create-engine.js'
import { defineTask } from '../../task/define.js'
import type { Engine } from '../engine.js'
import type { RunEvent } from '../events/run-events.js'
import { enqueueOptionIssues, newRunRows } from './enqueue.js'

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)
const DEFAULTS = { maxAttempts: 3, label: 'ad-hoc' }

const tenant = defineTask({
  key: 'sync-tenant',
  fields: [
    { key: 'tenantId', type: 'string' },
    { key: 'n', type: 'int', default: 0 },
  ],
  limits: { groupBy: (args) => args.tenantId ?? 'none', groupConcurrency: 1 },
  run: () => undefined,
})
const plain = defineTask({ key: 'reindex', fields: [{ key: 'n', type: 'int', default: 0 }], run: () => undefined })

/** A task whose groupBy is `groupBy` (of any result, for the bad ones). */
function groupedBy(groupBy: (args: Record<string, unknown>) => unknown) {
  return defineTask({ key: 'odd', fields: [{ key: 'n', type: 'int', default: 0 }], limits: { groupBy: groupBy as (args: Record<string, unknown>) => string, groupConcurrency: 2 }, run: () => undefined })
}

const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()))
})

/** An engine on a private in-memory SQLite store with a clock the test moves. */
function engineAt(start = NOW): { engine: Engine; events: RunEvent[]; clock: { now: number } } {
  const clock = { now: start }
  const engine = createEngine({ tasks: [tenant, plain, groupedBy(() => 'x')], clock: () => clock.now })
  engines.push(engine)
  const events: RunEvent[] = []
  engine.subscribe((event) => events.push(event))
  return { engine, events, clock }
}

describe('enqueue options: groupKey, debounce, throttle', () => {
  it('accepts good ones', () => {
    expect(enqueueOptionIssues({ groupKey: 't-42', debounce: { key: 'shop', ms: 5_000 } })).toEqual([])
    expect(enqueueOptionIssues({ throttle: { key: 'k'.repeat(200), ms: 86_400_000 }, delayMs: 10, runAt: undefined })).toEqual([])
  })

  it('names each bad field, with what it got', () => {
    const messages = (options: unknown): string[] => enqueueOptionIssues(options).map((i) => i.message)
    expect(messages({ groupKey: '' })).toEqual(['options.groupKey: expected a non-empty string of at most 200 characters, got "" (string)'])
    expect(messages({ groupKey: 'k'.repeat(201) })[0]).toMatch(/^options\.groupKey: expected a non-empty string of at most 200 characters, got "k{3}/)
    expect(messages({ groupKey: 42 })).toEqual(['options.groupKey: expected a non-empty string of at most 200 characters, got 42 (number)'])
    expect(messages({ debounce: 'shop' })).toEqual([
      'options.debounce: expected { key, ms } (key: a non-empty string of at most 200 characters; ms: an integer from 1 to 86400000), got "shop" (string)',
    ])
    expect(messages({ debounce: { key: '', ms: 0 } })).toEqual([
      'options.debounce.key: expected a non-empty string of at most 200 characters, got "" (string)',
      'options.debounce.ms: expected an integer from 1 to 86400000 (a day), in ms, got 0 (number)',
    ])
    expect(messages({ throttle: { key: 'a', ms: 1.5 } })).toEqual(['options.throttle.ms: expected an integer from 1 to 86400000 (a day), in ms, got 1.5 (number)'])
    expect(messages({ throttle: { key: 'a', ms: 86_400_001 } })).toHaveLength(1)
    expect(messages({ throttle: { key: 'a', ms: 10, mss: 5 } })).toEqual(['options.throttle.mss: unknown option (did you mean ms?)'])
    expect(messages({ debounc: { key: 'a', ms: 1 } })).toEqual([expect.stringMatching(/^options\.debounc: unknown option \(did you mean debounce\?\)/)])
  })

  it('refuses debounce with runAt, delayMs or throttle, naming both', () => {
    const messages = (options: unknown): string[] => enqueueOptionIssues(options).map((i) => i.message)
    const debounce = { key: 'shop', ms: 100 }
    expect(messages({ debounce, runAt: NOW })).toEqual([expect.stringMatching(/^options\.debounce and options\.runAt: /)])
    expect(messages({ debounce, delayMs: 5 })).toEqual([expect.stringMatching(/^options\.debounce and options\.delayMs: /)])
    expect(messages({ debounce, throttle: debounce })).toEqual(['options.debounce and options.throttle: give one of them, not both'])
  })
})

describe('newRunRows: group keys and the flow-control columns', () => {
  it('takes the group key from the enqueue, else from the task\'s groupBy, per run', () => {
    const rows = newRunRows(tenant, [{ tenantId: 't-1', n: 0 }, { tenantId: 't-2', n: 0 }], {}, DEFAULTS, NOW)
    expect(rows.map((r) => r.groupKey)).toEqual(['t-1', 't-2'])
    expect(newRunRows(tenant, [{ tenantId: 't-1', n: 0 }], { groupKey: 'override' }, DEFAULTS, NOW)[0]).toMatchObject({ groupKey: 'override', debounceKey: null, throttle: null })
    expect(newRunRows(plain, [{ n: 0 }], {}, DEFAULTS, NOW)[0]?.groupKey ?? null).toBeNull()
  })

  it('a debounced run starts debounce.ms from now, whatever the task\'s delay; a throttled one as usual', () => {
    const [debounced] = newRunRows(plain, [{ n: 0 }], { debounce: { key: 'shop', ms: 5_000 } }, DEFAULTS, NOW)
    expect(debounced).toMatchObject({ debounceKey: 'shop', runAt: NOW + 5_000, throttle: null })
    const [throttled] = newRunRows(plain, [{ n: 0 }], { throttle: { key: 'u', ms: 60_000 }, delayMs: 10 }, DEFAULTS, NOW)
    expect(throttled).toMatchObject({ debounceKey: null, runAt: NOW + 10, throttle: { key: 'u', ms: 60_000 } })
  })

  it('a groupBy that throws or returns a bad key is a ValidationError naming the task and limits.groupBy', () => {
    const throws = groupedBy(() => {
      throw new Error('no tenant')
    })
    let error: unknown
    try {
      newRunRows(throws, [{ n: 0 }], {}, DEFAULTS, NOW)
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as Error).message).toBe('task "odd": limits.groupBy threw: no tenant')
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect(() => newRunRows(groupedBy(() => 7), [{ n: 0 }], {}, DEFAULTS, NOW)).toThrow('task "odd": limits.groupBy must return a non-empty string of at most 200 characters, got 7 (number)')
    expect(() => newRunRows(groupedBy(() => ''), [{ n: 0 }], {}, DEFAULTS, NOW)).toThrow('limits.groupBy must return a non-empty string of at most 200 characters, got "" (string)')
    expect(() => newRunRows(groupedBy((args) => (args.n === 1 ? undefined : 'ok')), [{ n: 0 }, { n: 1 }], {}, DEFAULTS, NOW)).toThrow(
      'task "odd", run [1]: limits.groupBy must return a non-empty string of at most 200 characters, got undefined',
    )
  })
})

describe('engine.enqueue with group keys, debounce and throttle', () => {
  it('stores the group key; a bad groupBy result or groupKey stores nothing, in enqueue and enqueueMany', async () => {
    const { engine } = engineAt()
    expect(await engine.enqueue(tenant, { tenantId: 't-42' })).toMatchObject({ groupKey: 't-42' })
    expect(await engine.enqueue(tenant, { tenantId: 't-42' }, { groupKey: 'vip' })).toMatchObject({ groupKey: 'vip' })
    expect((await engine.enqueueMany(tenant, [{ tenantId: 'a' }, { tenantId: 'b' }])).map((r) => r.groupKey)).toEqual(['a', 'b'])
    const bad = defineTask({ key: 'bad', fields: [{ key: 'id', type: 'string' }], limits: { groupBy: (args) => (args.id === 'x' ? (null as never) : (args.id as string)), groupConcurrency: 1 }, run: () => undefined })
    engine.register(bad)
    await expect(engine.enqueueMany(bad, [{ id: 'a' }, { id: 'x' }])).rejects.toThrow('task "bad", run [1]: limits.groupBy must return a non-empty string of at most 200 characters, got null')
    await expect(engine.enqueue(tenant, { tenantId: 't' }, { groupKey: '' })).rejects.toThrow(/options\.groupKey: expected a non-empty string/)
    expect((await engine.listRuns({ task: 'bad' })).total).toBe(0)
    expect((await engine.listRuns({})).total).toBe(4)
  })

  it('debounce: one pending run per key takes the latest arguments and start; no second created event', async () => {
    const { engine, events, clock } = engineAt()
    const first = await engine.enqueue(plain, { n: 1 }, { debounce: { key: 'shop', ms: 5_000 }, label: 'one' })
    expect(first).toMatchObject({ status: 'pending', runAt: new Date(NOW + 5_000), args: { n: 1 } })
    clock.now += 2_000
    const second = await engine.enqueue(plain, { n: 2 }, { debounce: { key: 'shop', ms: 5_000 }, label: 'two', tags: ['t'], priority: 3 })
    expect(second).toMatchObject({ id: first.id, runAt: new Date(NOW + 7_000), args: { n: 2 }, label: 'two', tags: ['t'], priority: 3 })
    expect(await engine.getRun(first.id)).toMatchObject({ args: { n: 2 }, runAt: new Date(NOW + 7_000) })
    expect(events.filter((e) => e.type === 'created').map((e) => e.runId)).toEqual([first.id])
    expect((await engine.listRuns({ task: 'reindex' })).total).toBe(1)
  })

  it('throttle: a second enqueue within the window returns the first run; after it, a new run', async () => {
    const { engine, events, clock } = engineAt()
    const first = await engine.enqueue(plain, { n: 1 }, { throttle: { key: 'user-7', ms: 60_000 } })
    clock.now += 59_999
    expect(await engine.enqueue(plain, { n: 2 }, { throttle: { key: 'user-7', ms: 60_000 } })).toMatchObject({ id: first.id, args: { n: 1 } })
    clock.now += 1
    const next = await engine.enqueue(plain, { n: 3 }, { throttle: { key: 'user-7', ms: 60_000 } })
    expect(next.id).not.toBe(first.id)
    expect(events.filter((e) => e.type === 'created').map((e) => e.runId)).toEqual([first.id, next.id])
  })

  it('refuses debounce and throttle in enqueueMany, and bad options with bad arguments at once; nothing is stored', async () => {
    const { engine } = engineAt()
    await expect(engine.enqueueMany(plain, [{ n: 1 }, { n: 2 }], { debounce: { key: 'k', ms: 10 } })).rejects.toThrow('options.debounce: debounce applies to one run; use enqueue')
    await expect(engine.enqueueMany(plain, [{ n: 1 }, { n: 2 }], { throttle: { key: 'k', ms: 10 } })).rejects.toThrow('options.throttle: throttle applies to one run; use enqueue')
    const error = await engine.enqueue(plain, { n: 'x' }, { debounce: { key: 'k', ms: 0 } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).fields.map((f) => f.key)).toEqual(['n', 'options.debounce.ms'])
    expect((await engine.listRuns({})).total).toBe(0)
  })
})

describe('enqueue option requestId', () => {
  it('returns the run a request id made, whatever its status, with no second created event; another task\'s id is a conflict', async () => {
    const { engine, events } = engineAt()
    const first = await engine.enqueue(plain, { n: 1 }, { requestId: 'msg-1' })
    await engine.cancel(first.id)
    const again = await engine.enqueue(plain, { n: 2 }, { requestId: 'msg-1' })
    expect(again).toMatchObject({ id: first.id, status: 'cancelled', args: { n: 1 }, requestId: 'msg-1' })
    expect(events.filter((e) => e.type === 'created')).toHaveLength(1)
    await expect(engine.enqueue(tenant, { tenantId: 't' }, { requestId: 'msg-1' })).rejects.toThrow(`requestId "msg-1" already names run ${first.id} of task "reindex", not of task "sync-tenant"`)
    expect((await engine.listRuns({})).total).toBe(1)
  })

  it('names a bad one, and refuses it with debounce, throttle or many runs', async () => {
    const messages = (options: unknown): string[] => enqueueOptionIssues(options).map((i) => i.message)
    expect(messages({ requestId: '' })).toEqual(['options.requestId: expected a non-empty string of at most 200 characters, got "" (string)'])
    expect(messages({ requestId: 'r'.repeat(201) })).toHaveLength(1)
    expect(messages({ requestId: 'r', throttle: { key: 'k', ms: 10 } })).toEqual(['options.requestId and options.throttle: a request id names one stored run; give one of them, not both'])
    const { engine } = engineAt()
    await expect(engine.enqueueMany(plain, [{ n: 1 }, { n: 2 }], { requestId: 'r' })).rejects.toThrow('options.requestId: requestId applies to one run; use enqueue')
  })
})
