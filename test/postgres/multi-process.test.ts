/**
 * The multi-process proof: four `taskengine worker` processes on one PostgreSQL schema share
 * 20,000 runs. Without crashes every run executes exactly once; with one worker killed by SIGKILL
 * mid-way every run still succeeds, and only runs that the killed worker had in flight execute
 * twice. Each worker appends the id of every run it starts to a file of its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, expect, it, vi } from 'vitest'
import { createEngine, type Engine } from '../../src/index.js'
import { FIXTURES, finished, startCli, waitForOutput } from '../helpers/cli.js'
import { describePostgres } from '../helpers/postgres.js'

const RUNS = 20_000
const TASKS = join(FIXTURES, 'pg-tasks.mjs')
const dir = mkdtempSync(join(tmpdir(), 'taskengine-pg-workers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const children: ReturnType<typeof startCli>[] = []
const engines: Engine[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await Promise.all(engines.splice(0).map((e) => e.close()))
})

interface WorkerProcess {
  readonly child: ReturnType<typeof startCli>
  readonly done: ReturnType<typeof finished>
  readonly log: string
}

/** Lines of a worker's execution log (run ids, one per execution). */
function executed(worker: WorkerProcess): string[] {
  try {
    return readFileSync(worker.log, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

await describePostgres('worker processes sharing one PostgreSQL schema', ({ newSchema, open, storeUrl }) => {
  async function setUp(args: { ms: number }): Promise<{ engine: Engine; workers: WorkerProcess[] }> {
    const schema = newSchema()
    const { tick } = (await import(TASKS)) as { tick: Parameters<Engine['register']>[0] }
    const engine = createEngine({ tasks: [tick], store: open({ schema }) })
    engines.push(engine)
    // Queued before the workers start, in bulk, as a backlog would be.
    for (let i = 0; i < RUNS; i += 5000) await engine.enqueueMany('tick', Array.from({ length: 5000 }, () => args))
    const workers = Array.from({ length: 4 }, (_, i) => {
      const log = join(dir, `${schema}-${i}.log`)
      const child = startCli(['worker', '--store', storeUrl(schema), '--tasks', TASKS, '--concurrency', '16', '--lease-ms', '2000', '--grace', '2000'], { env: { TASKENGINE_EXEC_LOG: log } })
      children.push(child)
      return { child, done: finished(child), log }
    })
    await Promise.all(workers.map((w) => waitForOutput(w.child.stderr, 'started')))
    return { engine, workers }
  }

  async function allSucceeded(engine: Engine, timeout: number): Promise<void> {
    await vi.waitFor(
      async () => {
        const stats = await engine.stats()
        expect(stats.statuses.failed).toBe(0)
        expect(stats.statuses.succeeded).toBe(RUNS)
      },
      { timeout, interval: 250 },
    )
  }

  it(`executes each of ${RUNS.toLocaleString('en')} runs exactly once across four worker processes`, { timeout: 120_000 }, async () => {
    const { engine, workers } = await setUp({ ms: 0 })
    await allSucceeded(engine, 90_000)
    for (const w of workers) w.child.kill('SIGTERM')
    const exits = await Promise.all(workers.map((w) => w.done))
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0, 0])

    const lines = workers.flatMap(executed)
    expect(lines).toHaveLength(RUNS)
    expect(new Set(lines).size).toBe(RUNS)
    // Every process took a share of the work.
    for (const w of workers) expect(executed(w).length).toBeGreaterThan(0)
    const page = await engine.listRuns({ pageSize: 1000 })
    expect(page.data.every((r) => r.attempt === 1 && r.attempts.length === 1 && r.attempts[0]!.outcome === 'succeeded')).toBe(true)
  })

  it('with one worker killed by SIGKILL mid-way, every run succeeds; only runs in flight on it execute twice', { timeout: 120_000 }, async () => {
    const { engine, workers } = await setUp({ ms: 2 })
    const [victim, ...survivors] = workers as [WorkerProcess, ...WorkerProcess[]]
    await vi.waitFor(async () => expect((await engine.stats()).statuses.succeeded).toBeGreaterThanOrEqual(RUNS / 4), { timeout: 60_000, interval: 50 })
    victim.child.kill('SIGKILL')
    const killed = await victim.done
    expect(killed.signal).toBe('SIGKILL')
    const victimId = `:${victim.child.pid}:`

    await allSucceeded(engine, 90_000)
    for (const w of survivors) w.child.kill('SIGTERM')
    expect((await Promise.all(survivors.map((w) => w.done))).map((e) => e.code)).toEqual([0, 0, 0])

    const byVictim = new Set(executed(victim))
    const counts = new Map<string, number>()
    for (const id of workers.flatMap(executed)) counts.set(id, (counts.get(id) ?? 0) + 1)
    expect(counts.size).toBe(RUNS)
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
    expect([...counts.values()].every((n) => n <= 2)).toBe(true)
    // The victim really was mid-way: it had executed some runs and held some when it died.
    expect(byVictim.size).toBeGreaterThan(0)
    expect(byVictim.size).toBeLessThan(RUNS)

    // Runs taken from the victim when its lease ran out: their first attempt says so.
    const lost: string[] = []
    for (let page = 1; ; page++) {
      const { data } = await engine.listRuns({ pageSize: 1000, page })
      for (const run of data) {
        const first = run.attempts[0]!
        // A handler is never called more often than the attempts the run counts.
        expect(counts.get(run.id)).toBeLessThanOrEqual(run.attempt)
        if (first.error?.code === 'ERR_WORKER_LOST') {
          // Its attempt counted on the victim (the handler may have run there).
          expect(first.workerId).toContain(victimId)
          expect(run.attempts.map((a) => a.outcome)).toEqual(['retry', 'succeeded'])
          lost.push(run.id)
        } else {
          // Never started on the victim (held ahead), or never taken by it: one attempt.
          expect(run.attempts.map((a) => a.outcome)).toEqual(['succeeded'])
        }
      }
      if (data.length < 1000) break
    }
    expect(lost.length).toBeGreaterThan(0)
    // Executed twice ⇒ started on the victim and taken from it when it died: runs it was
    // executing, or had finished but not yet written (completions are committed in groups).
    for (const id of twice) {
      expect(byVictim.has(id)).toBe(true)
      expect(lost).toContain(id)
    }
  })
})
