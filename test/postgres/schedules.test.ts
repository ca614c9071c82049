/**
 * Schedules on PostgreSQL: three engines (each with its own pool, as three processes would have)
 * share one schema and a per-second schedule; every tick yields exactly one run. Settings
 * changed in one engine reach the others' workers at once (a signal, not the next heartbeat).
 */
import { afterEach, expect, it, vi } from 'vitest'
import { createEngine, defineSchedule, defineTask, type Engine } from '../../src/index.js'
import { describePostgres } from '../helpers/postgres.js'

const tick = defineTask({ key: 'tick', run: () => null })
const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

await describePostgres('schedules on postgres', ({ open, newSchema }) => {
  it('gives each tick exactly one run with three engines on one schema', { timeout: 20_000 }, async () => {
    const schema = newSchema()
    const trio = [0, 1, 2].map(() => {
      const engine = createEngine({
        tasks: [tick],
        store: open({ schema }),
        retention: false,
        onError: () => undefined,
        schedules: [defineSchedule({ id: 'every-second', cron: '* * * * * *', task: tick })],
      })
      engines.push(engine)
      return engine
    })
    await Promise.all(trio.map((e) => e.start({ concurrency: 2 })))
    await new Promise((r) => setTimeout(r, 4500))
    await Promise.all(trio.map((e) => e.stop({ graceMs: 1000 })))
    const runs = (await trio[0]!.scheduleRuns('every-second', { pageSize: 1000 })).data
    const ticks = runs.map((r) => r.runAt.getTime()).sort((a, b) => a - b)
    expect(new Set(ticks).size).toBe(ticks.length)
    expect(ticks.length).toBeGreaterThanOrEqual(3)
    // One run per second, none missing between the first and the last.
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBe(1000)
    expect(runs.every((r) => r.status === 'succeeded' && r.category === 'system')).toBe(true)
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
