/**
 * Schedules on PostgreSQL under a fake clock (vitest's fake timers drive `Date` and the timers;
 * the database answers in real time): three engines (each with its own pool, as three processes
 * would have) share one schema and a per-minute schedule; every tick yields exactly one run,
 * marked with its fire key. A tick's run that has not started by the next tick expires. Settings
 * changed in one engine reach the others' workers at once (a signal, not the next heartbeat).
 */
import { afterEach, expect, it, vi } from 'vitest'
import { createEngine, defineSchedule, defineTask, type Engine, type EngineOptions, type Run } from '../../src/index.js'
import { describePostgres } from '../helpers/postgres.js'

const tick = defineTask({ key: 'tick', run: () => null })
const engines: Engine[] = []
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

// Kept before any test fakes the timers: waiting for the database takes real time.
const realSetTimeout = globalThis.setTimeout
/**
 * Polls `check` in real time until it passes (the database works while the fake clock stands
 * still). Each poll also fires the timers due at the fake clock's present: a scheduler whose
 * round (real database time) ended after an advance went past its tick sets a timer of 0 ms,
 * which only a moving fake clock would fire.
 */
async function until(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (performance.now() > deadline) throw error
      await new Promise((resolve) => realSetTimeout(resolve, 10))
      if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0)
    }
  }
}

const fakeClock = (at: string): void => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  vi.setSystemTime(new Date(at))
}

await describePostgres('schedules on postgres', ({ open, newSchema }) => {
  function engineOn(schema: string, options: EngineOptions = {}): Engine {
    // Long polls and leases: minutes of fake time pass in few timer callbacks. pg times its
    // connection attempts with setTimeout, which the fake clock drives: a connection opening in
    // real time while minutes of fake time pass would time out (and the scheduler's round fail,
    // to be retried 5 fake seconds later, after the test stopped moving the clock).
    const store = open({ schema, connectTimeoutMs: 86_400_000 })
    const engine = createEngine({ tasks: [tick], store, retention: false, onError: () => undefined, leaseMs: 3_600_000, pollIntervalMs: 3_600_000, ...options })
    engines.push(engine)
    return engine
  }

  async function runsOf(engine: Engine, scheduleId: string): Promise<Run[]> {
    const page = await engine.scheduleRuns(scheduleId, { pageSize: 1000 })
    return [...page.data].sort((a, b) => a.runAt.getTime() - b.runAt.getTime())
  }

  it('gives each tick exactly one run, with its fire key, with three engines on one schema', async () => {
    fakeClock('2026-06-01T00:00:30Z')
    const schema = newSchema()
    const trio = [0, 1, 2].map(() => engineOn(schema, { schedules: [defineSchedule({ id: 'every-minute', cron: '* * * * *', task: tick })] }))
    // The worker serves a queue nothing uses: the ticks' runs stay pending, for us to count.
    for (const engine of trio) await engine.start({ concurrency: 1, queues: ['nothing-here'] })
    await vi.advanceTimersByTimeAsync(30_000) // 00:01
    for (let minute = 1; minute <= 5; minute++) {
      await until(async () => expect(await runsOf(trio[minute % 3]!, 'every-minute')).toHaveLength(minute))
      if (minute < 5) await vi.advanceTimersByTimeAsync(60_000)
    }
    const runs = await runsOf(trio[0]!, 'every-minute')
    const minutes = Array.from({ length: 5 }, (_, i) => new Date(Date.UTC(2026, 5, 1, 0, i + 1)).toISOString())
    expect(runs.map((r) => r.runAt.toISOString())).toEqual(minutes)
    expect(runs.map((r) => r.fireKey)).toEqual(minutes.map((m) => `every-minute@${m}`))
    expect(runs.every((r) => r.status === 'pending' && r.category === 'system' && r.scheduleId === 'every-minute')).toBe(true)
  })

  it("cancels a tick's run as expired when it has not started by the next tick", async () => {
    fakeClock('2026-06-01T00:00:30Z')
    const schema = newSchema()
    // Maintenance (which expires runs) every leaseMs / 2 = one minute.
    const engine = engineOn(schema, { leaseMs: 120_000, schedules: [defineSchedule({ id: 'five', cron: '*/5 * * * *', task: tick })] })
    await engine.start({ concurrency: 1, queues: ['nothing-here'] })
    await vi.advanceTimersByTimeAsync(4.5 * 60_000) // 00:05: the tick's run, due until 00:10
    await until(async () => expect((await runsOf(engine, 'five')).map((r) => [r.status, r.notAfter?.toISOString()])).toEqual([['pending', '2026-06-01T00:10:00.000Z']]))
    await vi.advanceTimersByTimeAsync(5 * 60_000) // 00:10: the next tick
    await until(async () => expect(await runsOf(engine, 'five')).toHaveLength(2))
    await vi.advanceTimersByTimeAsync(30_000) // 00:10:30: maintenance
    await until(async () => {
      const [first, second] = await runsOf(engine, 'five')
      expect(first).toMatchObject({ status: 'cancelled', cancelReason: 'expired', error: { code: 'ERR_EXPIRED' }, startedAt: null })
      expect(second).toMatchObject({ status: 'pending', runAt: new Date('2026-06-01T00:10:00Z'), notAfter: new Date('2026-06-01T00:15:00Z') })
    })
  })

  it('applies a worker concurrency setting changed elsewhere to running workers at once', async () => {
    const schema = newSchema()
    const worker = createEngine({ tasks: [tick], store: open({ schema }), retention: false, leaseMs: 60_000, onError: () => undefined })
    const admin = createEngine({ tasks: [tick], store: open({ schema }), retention: false, onError: () => undefined })
    engines.push(worker, admin)
    await worker.start({ concurrency: 3 })
    expect((await admin.workers()).map((w) => w.concurrency)).toEqual([3])
    await admin.settings.update({ workerConcurrency: 7 })
    // The heartbeat is 20 s away: only the signal can do this in time.
    await vi.waitFor(async () => expect((await admin.workers()).map((w) => w.concurrency)).toEqual([7]), { timeout: 5000, interval: 50 })
    await admin.settings.update({ workerConcurrency: null })
    await vi.waitFor(async () => expect((await admin.workers()).map((w) => w.concurrency)).toEqual([3]), { timeout: 5000, interval: 50 })
  })
})
