/**
 * Retention under load: a SQLite file with 1,000,000 runs (BENCH_PURGE_RUNS, or the size after the
 * suite's name) finished long past the run retention, each with a log line, and a worker
 * processing a steady stream of new no-op runs. The stream is measured for a few seconds, then the
 * retention schedule is triggered as an operator would (`triggerSchedule`: the same run the daily
 * schedule makes, executed by the same workers) and the stream is measured until the purge has
 * deleted every old run.
 *
 * Figures per phase: runs/s executed, claim latency (each `store.claimRuns` call, timed around
 * the store's method), enqueue → handler start latency and the event loop's delay (better-sqlite3
 * is synchronous, so a long statement delays every claim and completion waiting behind it: the
 * claim's own timing would not show that). The producer enqueues what the rate asks for by the
 * clock, in bulk every 10 ms: a timer that fires late catches up, so what is offered does not drop
 * with the loop's delays and the throughput measures the worker alone.
 * Targets: claim p99 during the purge < 50 ms; throughput during ≥ 80% of before.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Engine, defineTask } from '../src/index.js'
import { RETENTION_ID } from '../src/engine/settings/retention.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { fillFinishedRuns } from './fill-runs.js'
import { percentile, type Row } from './table.js'
import { target } from './targets.js'

/** Old runs to purge by default. */
export const PURGE_RUNS = Number(process.env.BENCH_PURGE_RUNS ?? 1_000_000)
/** Runs per second offered to the worker (one it sustains on this machine with room to spare). */
export const PURGE_RATE = Number(process.env.BENCH_PURGE_RATE ?? 5000)
const BEFORE_MS = Number(process.env.BENCH_PURGE_BEFORE_MS ?? 5000)
/** Runs per retention batch (`retention.batchSize`; unset: the engine's default). */
const BATCH = process.env.BENCH_PURGE_BATCH === undefined ? undefined : Number(process.env.BENCH_PURGE_BATCH)
const CONCURRENCY = 50
const DAY_MS = 86_400_000

/** What one phase saw. */
interface Phase {
  readonly claims: number[]
  readonly latencies: number[]
  executed: number
  startedAt: number
  endedAt: number
}

const newPhase = (): Phase => ({ claims: [], latencies: [], executed: 0, startedAt: performance.now(), endedAt: 0 })

export interface PurgeFigures {
  readonly rows: Row[]
  readonly purgeMs: number
  /** Attempts the retention run took (more than one: an attempt's lease expired while it purged). */
  readonly attempts: number
  readonly fillMs: number
}

export async function benchPurge(size = PURGE_RUNS): Promise<PurgeFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-purge-'))
  const store = sqliteStore(join(dir, 'purge.db'))
  const fillStart = performance.now()
  // Finished 40 to 60 days ago: past the default run retention (30 days) and log retention (14).
  fillFinishedRuns(store, { runs: size, fromMs: Date.now() - 60 * DAY_MS, toMs: Date.now() - 40 * DAY_MS, tasks: ['sync-users', 'send-mail', 'report'], logEvery: 1 })
  const fillMs = performance.now() - fillStart

  let phase = newPhase()
  const noop = defineTask({
    key: 'noop',
    fields: [{ key: 'at', type: 'int', required: true }],
    run(ctx) {
      phase.executed++
      phase.latencies.push(Date.now() - ctx.args.at)
    },
  })
  const claimRuns = store.claimRuns.bind(store)
  store.claimRuns = async (request) => {
    const t0 = performance.now()
    try {
      return await claimRuns(request)
    } finally {
      phase.claims.push(performance.now() - t0)
    }
  }
  const engine = new Engine({ tasks: [noop], store, onError: (e) => console.error(e), ...(BATCH === undefined ? {} : { retention: { batchSize: BATCH } }) })
  await engine.settings.update({ runRetentionDays: 30, logRetentionDays: 14 })
  await engine.start({ concurrency: CONCURRENCY })

  // The producer: what the rate asks for by now, in one bulk enqueue per tick.
  const produceStart = performance.now()
  let offered = 0
  let producing = true
  const produce = async (): Promise<void> => {
    while (producing) {
      const due = Math.floor(((performance.now() - produceStart) / 1000) * PURGE_RATE) - offered
      if (due > 0) {
        offered += due
        const at = Date.now()
        await engine.enqueueMany(noop, Array.from({ length: due }, () => ({ at })))
      }
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  const producer = produce()
  const loop = monitorEventLoopDelay({ resolution: 5 })

  // Warm up a second, then measure before the purge.
  await new Promise((r) => setTimeout(r, 1000))
  phase = newPhase()
  loop.enable()
  await new Promise((r) => setTimeout(r, BEFORE_MS))
  const before = phase
  before.endedAt = performance.now()
  const loopBefore = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }
  loop.reset()

  phase = newPhase()
  const purge = await engine.triggerSchedule(RETENTION_ID)
  for (;;) {
    const run = await engine.getRun(purge.id)
    if (run !== undefined && ['succeeded', 'failed', 'cancelled'].includes(run.status)) {
      if (run.status !== 'succeeded') throw new Error(`the retention run ended ${run.status}: ${JSON.stringify(run.error)}`)
      break
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  const during = phase
  during.endedAt = performance.now()
  const loopDuring = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }
  loop.disable()
  const result = (await engine.getRun(purge.id))!
  producing = false
  await producer
  await engine.stop()
  const left = store.database.prepare('SELECT count(*) FROM runs WHERE task NOT IN (?, ?)').pluck().get(noop.key, RETENTION_ID) as number
  if (left !== 0) throw new Error(`the purge left ${left} of ${size} old runs`)
  await engine.close()
  rmSync(dir, { recursive: true, force: true })

  const rate = (p: Phase): number => p.executed / ((p.endedAt - p.startedAt) / 1000)
  const row = (name: string, p: Phase, loopDelay: { p99: number; max: number }): Row => {
    const claims = [...p.claims].sort((a, b) => a - b)
    const latencies = [...p.latencies].sort((a, b) => a - b)
    return {
      phase: name,
      seconds: (p.endedAt - p.startedAt) / 1000,
      'runs/s': Math.round(rate(p)),
      claims: claims.length,
      'claim p50 ms': percentile(claims, 50),
      'claim p99 ms': percentile(claims, 99),
      'claim max ms': claims.at(-1) ?? NaN,
      'start p50 ms': percentile(latencies, 50),
      'start p99 ms': percentile(latencies, 99),
      'loop delay p99 ms': loopDelay.p99,
      'loop delay max ms': loopDelay.max,
    }
  }
  const purgeMs = during.endedAt - during.startedAt
  target(`Claim p99 during a purge of ${size.toLocaleString('en-US')} runs (SQLite)`, percentile([...during.claims].sort((a, b) => a - b), 99), '≤', 50, 'ms')
  target('Throughput during the purge ÷ before (SQLite)', (rate(during) / rate(before)) * 100, '≥', 80, '%')
  return { rows: [row('before', before, loopBefore), row('during purge', during, loopDuring)], purgeMs, attempts: result.attempt, fillMs }
}
