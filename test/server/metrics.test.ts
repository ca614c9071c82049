/** Prometheus exposition: the process's own metrics under one prefix, per-queue gauges, the wait-time histogram from rollups. */
import { describe, expect, it } from 'vitest'
import { createEngine, defineTask } from '../../src/index.js'
import { createServer } from '../../src/server/index.js'
import { apiHarness, waitFor } from '../helpers/api.js'

const { engines, servers } = apiHarness()
const noop = defineTask({ key: 'noop', queue: 'work', run: () => 'ok' })

function serverOf(options: Parameters<typeof createEngine>[0] = {}) {
  const engine = createEngine({ tasks: [noop], queues: { reports: { concurrency: 2 } }, pollIntervalMs: 20, ...options })
  engines.push(engine)
  const server = createServer(engine, { onError: () => undefined })
  servers.push(server)
  const scrape = async (): Promise<string> => (await server.app.request('/metrics')).text()
  return { engine, scrape }
}

describe('metrics', () => {
  it('names the process metrics taskengine_process_* and taskengine_nodejs_*, without a doubled prefix', async () => {
    const text = await serverOf().scrape()
    expect(text).toMatch(/^taskengine_process_cpu_seconds_total \d/m)
    expect(text).toMatch(/^taskengine_nodejs_eventloop_lag_seconds \d/m)
    expect(text).not.toContain('process_process')
    expect(text).not.toMatch(/^process_/m)
  })

  it('reports each queue\'s depth and how long its oldest due run has waited, idle queues included', async () => {
    const { engine, scrape } = serverOf()
    await engine.enqueue(noop, {})
    await engine.enqueue(noop, {})
    await engine.enqueue(noop, {}, { delayMs: 3_600_000 })
    const text = await scrape()
    expect(text).toContain('# TYPE taskengine_queue_depth gauge')
    expect(text).toMatch(/^taskengine_queue_depth\{queue="work"\} 3$/m)
    expect(text).toMatch(/^taskengine_queue_depth\{queue="reports"\} 0$/m)
    expect(text).toMatch(/^taskengine_queue_oldest_due_seconds\{queue="reports"\} 0$/m)
    const oldest = Number(/^taskengine_queue_oldest_due_seconds\{queue="work"\} (\S+)$/m.exec(text)?.[1])
    expect(oldest).toBeGreaterThanOrEqual(0)
    expect(oldest).toBeLessThan(60)
  })

  it('counts waits from due to start of runs the rollups folded since the first scrape', async () => {
    const { engine, scrape } = serverOf()
    const store = await engine.store()
    const now = Date.now()
    await store.foldRollups(now, now - 86_400_000, 3_600_000)
    // The first scrape sets where counting starts.
    expect(await scrape()).toMatch(/^taskengine_run_wait_seconds_count 0$/m)
    await engine.start()
    const runs = await engine.enqueueMany(noop, [{}, {}, {}])
    for (const run of runs) await waitFor(engine, run.id, 'succeeded')
    expect(await scrape()).toMatch(/^taskengine_run_wait_seconds_count 0$/m)
    // Folded (here by hand, as maintenance would two minutes later): the next scrape counts them.
    await store.foldRollups(Date.now() + 120_000, now - 86_400_000, 3_600_000)
    const text = await scrape()
    expect(text).toContain('# TYPE taskengine_run_wait_seconds histogram')
    expect(text).toMatch(/^taskengine_run_wait_seconds_count 3$/m)
    expect(text).toMatch(/^taskengine_run_wait_seconds_bucket\{le="\+Inf"\} 3$/m)
    expect(text).toMatch(/^taskengine_run_wait_seconds_bucket\{le="0\.001"\} \d$/m)
    expect(text).toMatch(/^taskengine_run_wait_seconds_sum \d/m)
    // Counted once: a scrape without a new fold adds nothing.
    expect(await scrape()).toMatch(/^taskengine_run_wait_seconds_count 3$/m)
  })
})
