/**
 * `taskengine worker --metrics-port`: a worker process serves its own Prometheus metrics,
 * health and readiness on loopback, so runs it executes are visible where they happen.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { request as httpRequest } from 'node:http'
import { serveMetrics } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { FIXTURES, finished, runBin, startCli, waitForOutput } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-worker-metrics-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const children: ReturnType<typeof startCli>[] = []
const engines: Engine[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all(engines.splice(0).map((e) => e.close()))
})

/** The same task key and fields as the fixture module the worker loads. */
const add = defineTask({ key: 'add', fields: [{ key: 'a', type: 'int', required: true }, { key: 'b', type: 'int', default: 1 }], run: (ctx) => ({ sum: ctx.args.a + ctx.args.b }) })

async function startWorker(store: string, args: readonly string[], env: Record<string, string> = {}) {
  const child = startCli(['worker', '--tasks', join(FIXTURES, 'tasks.mjs'), '--store', store, '-q', ...args], { env })
  children.push(child)
  const done = finished(child)
  let banner = ''
  child.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()))
  await waitForOutput(child.stderr, /started: .*\n/)
  return { child, done, banner: () => banner }
}

describe('taskengine worker --metrics-port', () => {
  it('serves the runs it executes as Prometheus metrics, with health and readiness, on loopback', async () => {
    const store = join(dir, 'metrics.db')
    const worker = await startWorker(store, ['--metrics-port', '0'])
    const url = /; metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics\n/.exec(worker.banner())?.[1]
    expect(url, worker.banner()).toBeDefined()
    const engine = createEngine({ tasks: [add], store: sqliteStore(store) })
    engines.push(engine)
    const runs = await engine.enqueueMany(add, [{ a: 1 }, { a: 2 }, { a: 3 }])
    for (const run of runs) await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'), { timeout: 10_000 })
    await vi.waitFor(async () => expect(await (await fetch(`${url}/metrics`)).text()).toContain('taskengine_runs_completed_total{task="add",status="succeeded"} 3'))
    const response = await fetch(`${url}/metrics`)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    expect(text).toContain('taskengine_runs_started_total{task="add"} 3')
    expect(text).toContain('taskengine_run_duration_seconds_count{task="add",status="succeeded"} 3')
    expect(text).toMatch(/taskengine_workers 1/)
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' })
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' })
    // Only those three: the API stays with the server.
    const api = await fetch(`${url}/api/tasks`)
    expect(api.status).toBe(404)
    expect(((await api.json()) as { error: { message: string } }).error.message).toBe('no route for GET /api/tasks (this port serves /metrics, /healthz and /readyz)')
    worker.child.kill('SIGTERM')
    expect((await worker.done).code).toBe(0)
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })

  it('takes the port from TASKENGINE_METRICS_PORT, and refuses a bad one', async () => {
    const worker = await startWorker(join(dir, 'env.db'), [], { TASKENGINE_METRICS_PORT: '0' })
    const url = /; metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics\n/.exec(worker.banner())?.[1]
    expect(url, worker.banner()).toBeDefined()
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    worker.child.kill('SIGTERM')
    await worker.done
    const bad = await runBin(['worker', '--store', join(dir, 'bad.db'), '--metrics-port', 'ninety'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('taskengine: --metrics-port: expected a port from 0 to 65535 (0 picks a free one), got "ninety" (string)\n')
    const tooHigh = await runBin(['worker', '--store', join(dir, 'bad.db'), '--metrics-port', '70000'])
    expect(tooHigh.code).toBe(2)
    expect(tooHigh.stderr).toBe('taskengine: --metrics-port: expected a port from 0 to 65535 (0 picks a free one), got "70000" (string)\n')
  })
})

describe('serveMetrics', () => {
  it('refuses addresses beyond loopback, since its routes need no credentials', async () => {
    const engine = createEngine({ tasks: [add] })
    engines.push(engine)
    await expect(serveMetrics(engine, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/^refusing to serve metrics on 0\.0\.0\.0: they need no credentials/)
    const local = await serveMetrics(engine, { port: 0 })
    await engine.run(add, { a: 1 })
    expect(await (await fetch(`${local.url}/metrics`)).text()).toContain('taskengine_runs_completed_total{task="add",status="succeeded"} 1')
    // A page whose name was rebound to 127.0.0.1 cannot read them under its own name.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: local.port, path: '/metrics', headers: { host: `attacker.example:${local.port}` } }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })
    expect(rebound.status).toBe(403)
    expect(rebound.body).toContain('ERR_HOST_NOT_ALLOWED')
    expect(rebound.body).not.toContain('taskengine_runs_completed_total')
    await local.close()
  })
})
