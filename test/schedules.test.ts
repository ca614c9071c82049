/**
 * Cron schedules on real SQLite stores under a fake clock (vitest's fake timers drive both
 * `Date` and the timers): ticks at the right instants across daylight-saving changes, exactly
 * one run per tick with three engines on one file, overlap, catch-up, expiry, toggle, trigger.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConflictError, NotFoundError, TaskDefinitionError, createEngine, defineSchedule, defineTask, type Engine, type EngineOptions, type Run } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-schedules-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let fileNo = 0
const dbFile = (): string => join(dir, `schedules-${++fileNo}.db`)

const engines: Engine[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

const report = defineTask({ key: 'report', fields: [{ key: 'day', type: 'string' }], run: (ctx) => ctx.args.day ?? 'none' })

function engineWith(options: EngineOptions = {}): Engine {
  // Long leases and polls: days of fake time pass in few timer callbacks.
  const engine = createEngine({ tasks: [report], leaseMs: 3_600_000, pollIntervalMs: 3_600_000, retention: false, onError: () => undefined, ...options })
  engines.push(engine)
  return engine
}

/** Fires schedules without executing their runs (the worker serves a queue nothing uses). */
async function scheduling(engine: Engine): Promise<void> {
  await engine.start({ concurrency: 1, queues: ['nothing-here'] })
}

async function runsOf(engine: Engine, scheduleId: string): Promise<Run[]> {
  const page = await engine.scheduleRuns(scheduleId, { pageSize: 1000 })
  return [...page.data].sort((a, b) => a.runAt.getTime() - b.runAt.getTime())
}

const iso = (runs: readonly Run[]): string[] => runs.map((r) => r.runAt.toISOString())

describe('defining schedules', () => {
  it('checks definitions, quoting what is wrong', () => {
    expect(() => defineSchedule({ id: 'x', cron: '61 * * * *', task: report })).toThrow(/schedule "x": invalid cron expression "61 \* \* \* \*": Invalid value for minute: 61/)
    expect(() => defineSchedule({ id: 'x', cron: '* * * * *', timezone: 'Mars/Olympus', task: report })).toThrow(/unknown time zone "Mars\/Olympus"/)
    expect(() => defineSchedule({ id: 'bad id', cron: '* * * * *', task: report })).toThrow(TaskDefinitionError)
    expect(() => defineSchedule({ id: 'x', cron: '* * * * *', task: report, args: {}, argsBuilder: () => ({}) })).toThrow(/args or argsBuilder, not both/)
    expect(() => defineSchedule({ id: 'x', cron: '* * * * *', task: report, catchUp: -1 })).toThrow(/catchUp must be an integer from 0 to 1000/)
    expect(() => defineSchedule({ id: 'x', cron: '* * * * *', task: report, options: { delayMs: 5 } as never })).toThrow(`schedule "x": options.delayMs: unknown option (known: label, queue, priority, maxAttempts, timeoutMs, tags)`)
    expect(() => defineSchedule({ id: 'x', cron: '* * * * *', task: report, colour: 'red' } as never)).toThrow('schedule "x": colour: unknown option (known: id, name, description, cron, timezone, task, args, argsBuilder, options, overlap, expireAtNextTick, catchUp, enabled)')
    const ok = defineSchedule({ id: 'reports:daily', cron: '0 6 * * 1-5', timezone: 'Europe/Berlin', task: report })
    expect(ok).toMatchObject({ id: 'reports:daily', name: 'reports:daily', task: 'report', timezone: 'Europe/Berlin', overlap: true, expireAtNextTick: true, catchUp: 0, enabled: true })
  })

  it('refuses duplicate ids and unknown tasks when registering', () => {
    const engine = engineWith()
    engine.registerSchedule(defineSchedule({ id: 'a', cron: '* * * * *', task: report }))
    expect(() => engine.registerSchedule(defineSchedule({ id: 'a', cron: '0 * * * *', task: report }))).toThrow(/a schedule with id "a" is already registered/)
    expect(() => engine.registerSchedule(defineSchedule({ id: 'b', cron: '* * * * *', task: 'nope' }))).toThrow(NotFoundError)
    // A task given as a definition is registered with its schedule.
    const other = defineTask({ key: 'other', run: () => 1 })
    engine.registerSchedule(defineSchedule({ id: 'c', cron: '* * * * *', task: other }))
    expect(engine.get('other')).toBe(other)
  })
  it('refuses fixed args that fail the fields or its validate, naming the schedule and field; nothing is registered', () => {
    const engine = engineWith()
    const weekday = defineTask({ key: 'weekday', fields: [{ key: 'day', type: 'int', required: true }], validate: ({ day }) => (day > 5 ? { field: 'day', message: 'must be a weekday (1-5)' } : undefined), run: () => 1 })
    expect(() => engine.registerSchedule(defineSchedule({ id: 'sat', cron: '0 9 * * 6', task: weekday, args: { day: 6 } }))).toThrow(
      'schedule "sat": invalid args for task "weekday": day: must be a weekday (1-5)',
    )
    expect(() => engine.registerSchedule(defineSchedule({ id: 'bad', cron: '0 9 * * 6', task: weekday, args: { day: 'x' } }))).toThrow(/schedule "bad": invalid args for task "weekday": day: expected int/)
    expect(engine.get('weekday')).toBeUndefined()
    engine.registerSchedule(defineSchedule({ id: 'mon', cron: '0 9 * * 1', task: weekday, args: { day: 1 } }))
    expect(engine.get('weekday')).toBe(weekday)
  })
})

describe('ticks under a fake clock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  })

  it('fires a daily 02:30 Berlin schedule at the right instants across the spring change (02:30 does not exist that night)', async () => {
    vi.setSystemTime(new Date('2026-03-27T12:00:00Z'))
    const engine = engineWith({ schedules: [defineSchedule({ id: 'nightly', cron: '30 2 * * *', timezone: 'Europe/Berlin', task: report, argsBuilder: ({ scheduledAt }) => ({ day: scheduledAt.toISOString().slice(0, 10) }) })] })
    await scheduling(engine)
    await vi.advanceTimersByTimeAsync(4 * 86_400_000)
    const runs = await runsOf(engine, 'nightly')
    // CET (+1) until the night of 29 March, then CEST (+2); the missing 02:30 runs at 03:00 CEST.
    expect(iso(runs)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z'])
    expect(runs.map((r) => r.args.day)).toEqual(['2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31'])
    expect(runs.every((r) => r.category === 'system' && r.scheduleId === 'nightly' && r.label === 'nightly')).toBe(true)
  })

  it('fires an hourly schedule at both 02:00s of the autumn change, and a daily 02:30 once', async () => {
    vi.setSystemTime(new Date('2026-10-24T22:30:00Z'))
    const engine = engineWith({
      schedules: [
        defineSchedule({ id: 'hourly', cron: '0 * * * *', timezone: 'Europe/Berlin', task: report }),
        defineSchedule({ id: 'daily', cron: '30 2 * * *', timezone: 'Europe/Berlin', task: report }),
      ],
    })
    await scheduling(engine)
    await vi.advanceTimersByTimeAsync(5 * 3_600_000)
    // 01:00, 02:00 CEST, 02:00 CET, 03:00 CET (local) — 02:00 happens twice.
    expect(iso(await runsOf(engine, 'hourly'))).toEqual(['2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z', '2026-10-25T03:00:00.000Z'])
    expect(iso(await runsOf(engine, 'daily'))).toEqual(['2026-10-25T00:30:00.000Z'])
  })

  it('gives each tick exactly one run with three engines on one SQLite file', async () => {
    vi.setSystemTime(new Date('2026-06-01T00:00:30Z'))
    const file = dbFile()
    const schedule = (): ReturnType<typeof defineSchedule> => defineSchedule({ id: 'every-minute', cron: '* * * * *', task: report })
    const trio = [0, 1, 2].map(() => engineWith({ store: sqliteStore(file), schedules: [schedule()] }))
    for (const engine of trio) await scheduling(engine)
    await vi.advanceTimersByTimeAsync(10 * 60_000)
    const runs = await runsOf(trio[0]!, 'every-minute')
    const minutes = Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(2026, 5, 1, 0, i + 1)).toISOString())
    expect(iso(runs)).toEqual(minutes)
    // Each run names its tick; the store keeps fire keys unique.
    expect(runs.map((r) => r.fireKey)).toEqual(minutes.map((m) => `every-minute@${m}`))
    // A trigger is no tick: it has no fire key.
    expect((await trio[1]!.triggerSchedule('every-minute')).fireKey).toBeNull()
  })

  it('skips a tick while the previous run is active when overlap is off', async () => {
    vi.setSystemTime(new Date('2026-06-01T00:00:30Z'))
    let release: () => void = () => undefined
    const slow = defineTask({ key: 'slow', run: () => new Promise<void>((resolve) => (release = resolve)) })
    const engine = engineWith({ tasks: [slow], schedules: [defineSchedule({ id: 'single', cron: '* * * * *', task: slow, overlap: false })] })
    await engine.start({ concurrency: 2 })
    await vi.advanceTimersByTimeAsync(60_000) // tick 00:01 → a run, which keeps running
    await vi.waitFor(async () => expect((await runsOf(engine, 'single')).map((r) => r.status)).toEqual(['running']))
    await vi.advanceTimersByTimeAsync(60_000) // tick 00:02 → skipped
    expect(await runsOf(engine, 'single')).toHaveLength(1)
    release()
    await vi.waitFor(async () => expect((await runsOf(engine, 'single')).map((r) => r.status)).toEqual(['succeeded']))
    await vi.advanceTimersByTimeAsync(60_000) // tick 00:03 → a run again
    const runs = await runsOf(engine, 'single')
    expect(iso(runs)).toEqual(['2026-06-01T00:01:00.000Z', '2026-06-01T00:03:00.000Z'])
    expect((await engine.getSchedule('single')).lastTickAt?.toISOString()).toBe('2026-06-01T00:03:00.000Z')
  })

  it('skips ticks missed while nothing ran, unless asked to catch up the last N', async () => {
    vi.setSystemTime(new Date('2026-06-01T00:00:30Z'))
    const file = dbFile()
    const both = (): ReturnType<typeof defineSchedule>[] => [
      defineSchedule({ id: 'skip', cron: '* * * * *', task: report }),
      defineSchedule({ id: 'catch', cron: '* * * * *', task: report, catchUp: 2 }),
    ]
    const first = engineWith({ store: sqliteStore(file), schedules: both() })
    await scheduling(first)
    await vi.advanceTimersByTimeAsync(60_000) // 00:01 fires
    await first.close()
    engines.splice(engines.indexOf(first), 1)
    // Ten minutes with no scheduler, then another process starts at 00:11:30.
    vi.setSystemTime(new Date('2026-06-01T00:11:30Z'))
    const second = engineWith({ store: sqliteStore(file), schedules: both() })
    await scheduling(second)
    await vi.advanceTimersByTimeAsync(45_000) // 00:12 fires on time
    expect(iso(await runsOf(second, 'skip'))).toEqual(['2026-06-01T00:01:00.000Z', '2026-06-01T00:12:00.000Z'])
    expect(iso(await runsOf(second, 'catch'))).toEqual(['2026-06-01T00:01:00.000Z', '2026-06-01T00:10:00.000Z', '2026-06-01T00:11:00.000Z', '2026-06-01T00:12:00.000Z'])
  })

  it('lets a tick run expire if it has not started by the next tick, unless told otherwise', async () => {
    vi.setSystemTime(new Date('2026-06-01T00:00:30Z'))
    const engine = engineWith({
      schedules: [
        defineSchedule({ id: 'expiring', cron: '*/5 * * * *', task: report }),
        defineSchedule({ id: 'lasting', cron: '*/5 * * * *', task: report, expireAtNextTick: false }),
      ],
    })
    await scheduling(engine)
    await vi.advanceTimersByTimeAsync(5 * 60_000)
    const [expiring] = await runsOf(engine, 'expiring')
    const [lasting] = await runsOf(engine, 'lasting')
    expect(expiring).toMatchObject({ runAt: new Date('2026-06-01T00:05:00Z'), notAfter: new Date('2026-06-01T00:10:00Z'), status: 'pending' })
    expect(lasting!.notAfter).toBeNull()
    // Maintenance (every leaseMs / 2 = 30 minutes here) finds the first run unstarted past the next tick.
    await vi.advanceTimersByTimeAsync(26 * 60_000) // 00:31, maintenance ran at 00:30:30
    const expired = await runsOf(engine, 'expiring')
    expect(expired[0]).toMatchObject({ id: expiring!.id, status: 'cancelled', cancelReason: 'expired', error: { code: 'ERR_EXPIRED' }, startedAt: null })
    // The 00:30 tick's run still has until 00:35.
    expect(expired.at(-1)).toMatchObject({ runAt: new Date('2026-06-01T00:30:00Z'), status: 'pending' })
    expect((await runsOf(engine, 'lasting')).every((r) => r.status === 'pending')).toBe(true)
  })

  it('persists toggles for every engine on the store, refuses to trigger a disabled schedule, and keeps history', async () => {
    vi.setSystemTime(new Date('2026-06-01T00:00:30Z'))
    const file = dbFile()
    const def = (): ReturnType<typeof defineSchedule> => defineSchedule({ id: 'toggled', name: 'Toggled report', cron: '* * * * *', task: report, args: { day: 'x' } })
    const a = engineWith({ store: sqliteStore(file), schedules: [def()] })
    const b = engineWith({ store: sqliteStore(file), schedules: [def()] })
    await scheduling(a)
    await scheduling(b)
    expect(await a.toggleSchedule('toggled', false)).toMatchObject({ id: 'toggled', enabled: false, nextRunAt: null })
    expect((await b.getSchedule('toggled')).enabled).toBe(false)
    await vi.advanceTimersByTimeAsync(3 * 60_000)
    expect(await runsOf(a, 'toggled')).toEqual([])
    await expect(b.triggerSchedule('toggled')).rejects.toThrow(ConflictError)
    await expect(b.triggerSchedule('toggled')).rejects.toThrow('schedule "toggled" is disabled; enable it before triggering it')
    const on = await b.toggleSchedule('toggled', true)
    expect(on).toMatchObject({ enabled: true, nextRunAt: new Date('2026-06-01T00:04:00Z') })
    // Ticks missed while off are never caught up; the next one fires.
    await vi.advanceTimersByTimeAsync(60_000)
    const triggered = await a.triggerSchedule('toggled', { createdBy: 'ada' })
    expect(triggered).toMatchObject({ scheduleId: 'toggled', category: 'system', createdBy: 'ada', label: 'Toggled report', args: { day: 'x' } })
    const history = await a.scheduleRuns('toggled')
    expect(history.total).toBe(2)
    expect(history.data[0]!.id).toBe(triggered.id)
    const info = await a.getSchedule('toggled')
    expect(info).toMatchObject({ name: 'Toggled report', cron: '* * * * *', timezone: 'UTC', task: 'report', lastRun: { id: triggered.id }, lastTickAt: new Date('2026-06-01T00:04:00Z') })
    await expect(a.getSchedule('nope')).rejects.toThrow(NotFoundError)
    await expect(a.toggleSchedule('toggled', 'yes' as never)).rejects.toThrow(/enabled: expected true or false/)
  })

  it('skips a tick whose built args fail validate, reporting why; the next good tick runs; a trigger is refused', async () => {
    vi.setSystemTime(new Date('2026-06-01T00:00:30Z'))
    const errors: Error[] = []
    let minute = 0
    const even = defineTask({ key: 'even', fields: [{ key: 'n', type: 'int', required: true }], validate: ({ n }) => (n % 2 === 1 ? 'n must be even' : undefined), run: () => 1 })
    const engine = engineWith({ tasks: [even], onError: (error) => errors.push(error), schedules: [defineSchedule({ id: 'evens', cron: '* * * * *', task: even, argsBuilder: () => ({ n: ++minute }) })] })
    await scheduling(engine)
    await vi.advanceTimersByTimeAsync(2 * 60_000) // 00:01 → n = 1, skipped; 00:02 → n = 2, a run
    expect((await runsOf(engine, 'evens')).map((r) => [r.runAt.toISOString(), r.args])).toEqual([['2026-06-01T00:02:00.000Z', { n: 2 }]])
    expect(errors.map((e) => e.message)).toEqual(['schedule "evens": tick 2026-06-01T00:01:00.000Z skipped: invalid arguments: n must be even'])
    await expect(engine.triggerSchedule('evens')).rejects.toThrow(/invalid arguments: n must be even/)
  })
})
