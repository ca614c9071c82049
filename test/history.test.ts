/**
 * History kept by maintenance: workers fold the minutes closed since the watermark into rollups
 * on their own, two engines maintaining one SQLite file count each run once, and the history read
 * over a range matches the runs.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-history-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const engines: Engine[] = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
})

const job = defineTask({ key: 'job', fields: [{ key: 'fail', type: 'bool', default: false }], maxAttempts: 1, run: (ctx) => (ctx.args.fail ? Promise.reject(new Error('no')) : 'ok') })

describe('history', () => {
  it('is folded by the maintenance of two workers on one file, each run once, and read back per range', async () => {
    const clock = { now: Date.UTC(2026, 5, 1, 12, 0, 10) }
    const file = join(dir, 'two.db')
    // Maintenance every 100 ms (leaseMs / 2).
    const open = (): Engine => {
      const engine = createEngine({ tasks: [job], store: sqliteStore(file), clock: () => clock.now, leaseMs: 200, pollIntervalMs: 10 })
      engines.push(engine)
      return engine
    }
    const [a, b] = [open(), open()]
    await Promise.all([a.start({ concurrency: 4 }), b.start({ concurrency: 4 })])
    const runs = await a.enqueueMany(job, [...Array.from({ length: 30 }, () => ({ fail: false })), ...Array.from({ length: 10 }, () => ({ fail: true }))])
    await vi.waitFor(async () => expect((await a.stats()).statuses.pending + (await a.stats()).statuses.running).toBe(0), { timeout: 20_000, interval: 20 })
    expect(runs).toHaveLength(40)
    // Two minutes on: both workers' maintenance folds the minute of those runs; one of them wins.
    clock.now += 120_000
    await vi.waitFor(async () => expect((await a.history()).foldedUntil?.getTime()).toBeGreaterThanOrEqual(Date.UTC(2026, 5, 1, 12, 1)), { timeout: 20_000, interval: 20 })
    const store = await a.store()
    const stored = await store.readRollups({ since: Date.UTC(2026, 5, 1, 12, 0), until: Date.UTC(2026, 5, 1, 12, 1), bucketMs: 60_000, totals: true })
    expect(stored.foldedUntil).toBeGreaterThanOrEqual(Date.UTC(2026, 5, 1, 12, 1))
    expect(stored.totals).toMatchObject({ succeeded: 30, failed: 10, cancelled: 0 })
    // Nothing after it is read from the runs: the range comes from the rollups alone, and agrees.
    const history = await b.history({ range: '24h', task: 'job', totals: true })
    expect(history).toMatchObject({ succeeded: 30, failed: 10, failureRate: 0.25, retries: 0 })
    expect(history.duration?.p50).toBeGreaterThanOrEqual(0)
    expect(history.wait?.max).toBeGreaterThanOrEqual(0)
    expect(history.buckets).toHaveLength(96)
    await expect(a.history({ range: 'forever' as never })).rejects.toThrow('range: expected one of 1h, 24h, 7d, got "forever" (string)')
  })
})
