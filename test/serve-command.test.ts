/**
 * `taskengine serve` as a real process: it serves, refuses unsafe addresses, stops on SIGTERM;
 * its token, tasks module, concurrency and store options and their TASKENGINE_* variables.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { FIXTURES, finished, runBin, startCli, waitForOutput } from './helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-serve-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const children: ReturnType<typeof startCli>[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('taskengine serve', () => {
  it('serves the API with the store, a worker and the examples, and stops gracefully on SIGTERM', async () => {
    const { url, banner, stop } = await startServe(['--store', join(dir, 'serve.db')])
    expect(banner).toMatch(/worker concurrency 10; tasks from examples \(4\)/)
    const created = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'hello', args: { name: 'serve' } }) })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    await vi.waitFor(async () => expect(((await (await fetch(`${url}/api/runs/${id}`)).json()) as { status: string }).status).toBe('succeeded'), { timeout: 5000, interval: 50 })
    const exit = await stop()
    expect(exit.code).toBe(0)
    expect(exit.stderr).toMatch(/SIGTERM: stopping/)
  })

  it('refuses to listen beyond loopback without a token, and takes settings from TASKENGINE_* variables', async () => {
    const refused = await runBin(['serve', '--host', '0.0.0.0', '--port', '0', '--store', ':memory:'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without a token/)
    const env = await runBin(['serve', '--store', ':memory:'], { env: { TASKENGINE_HOST: '0.0.0.0', TASKENGINE_PORT: '0' } })
    expect(env.stderr).toMatch(/refusing to listen on 0\.0\.0\.0/)
  })
})

/** Starts `taskengine serve` on a free port and resolves once it serves, with its URL and banner. */
async function startServe(args: readonly string[], env: Record<string, string> = {}) {
  const child = startCli(['serve', '--port', '0', ...args], { cwd: dir, env })
  children.push(child)
  const done = finished(child)
  let banner = ''
  child.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()))
  await waitForOutput(child.stderr, 'metrics')
  const url = /serving (http:\/\/127\.0\.0\.1:\d+)\/admin/.exec(banner)?.[1]
  if (url === undefined) throw new Error(`no URL in the banner: ${banner}`)
  const stop = async () => {
    child.kill('SIGTERM')
    return done
  }
  return { url, banner, stop }
}

describe('taskengine serve options', () => {
  it('requires the --token, or TASKENGINE_TOKEN, on every request but health checks', async () => {
    for (const [args, env] of [[['--token', 's3cret'], {}], [[], { TASKENGINE_TOKEN: 's3cret' }]] as const) {
      const served = await startServe([...args, '--store', ':memory:'], env)
      expect(served.banner).toContain('(token required)')
      const none = await fetch(`${served.url}/api/tasks`)
      expect(none.status).toBe(401)
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="taskengine"')
      expect((await fetch(`${served.url}/api/tasks`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
      expect((await fetch(`${served.url}/api/tasks`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200)
      expect((await fetch(`${served.url}/metrics`)).status).toBe(401)
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200)
      expect((await served.stop()).code).toBe(0)
    }
  })

  it('serves the tasks of --tasks, with the worker concurrency of --concurrency', async () => {
    const served = await startServe(['--tasks', join(FIXTURES, 'tasks.mjs'), '--concurrency', '3', '--store', join(dir, 'tasks.db')])
    expect(served.banner).toMatch(/worker concurrency 3; tasks from .*tasks\.mjs \(2\)/)
    const tasks = (await (await fetch(`${served.url}/api/tasks`)).json()) as { key: string }[]
    expect(tasks.map((t) => t.key)).toEqual(['add', 'echo', 'taskengine.retention'])
    const workers = (await (await fetch(`${served.url}/api/workers`)).json()) as { concurrency: number }[]
    expect(workers.map((w) => w.concurrency)).toEqual([3])
    const sum = await fetch(`${served.url}/api/tasks/add/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ args: { a: 40, b: 2 } }) })
    expect(((await sum.json()) as { data: unknown }).data).toEqual({ sum: 42 })
    await served.stop()
  })

  it('runs no worker with --concurrency 0: runs it enqueues stay pending', async () => {
    const served = await startServe(['--concurrency', '0', '--store', join(dir, 'no-worker.db')])
    expect(served.banner).toContain('; no worker;')
    const created = (await (await fetch(`${served.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'hello', args: { name: 'idle' } }) })).json()) as { id: string }
    const workers = (await (await fetch(`${served.url}/api/workers`)).json()) as { concurrency: number }[]
    expect(workers.filter((w) => w.concurrency > 0)).toEqual([])
    expect(((await (await fetch(`${served.url}/api/runs/${created.id}`)).json()) as { status: string }).status).toBe('pending')
    await served.stop()
  })

  it('opens the store TASKENGINE_STORE names', async () => {
    const file = join(dir, 'from-env.db')
    const served = await startServe([], { TASKENGINE_STORE: file })
    expect(served.banner).toContain(`store ${file};`)
    const created = (await (await fetch(`${served.url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'hello', args: { name: 'env' } }) })).json()) as { id: string }
    await vi.waitFor(async () => expect(((await (await fetch(`${served.url}/api/runs/${created.id}`)).json()) as { status: string }).status).toBe('succeeded'), { timeout: 10_000 })
    expect((await served.stop()).code).toBe(0)
    const store = sqliteStore(file)
    await store.ready()
    expect((await store.getRun(created.id))?.status).toBe('succeeded')
    await store.close()
  })
})
