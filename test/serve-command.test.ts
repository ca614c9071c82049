/**
 * `taskengine serve` as a real process: it serves, refuses unsafe addresses, stops on SIGTERM;
 * its token, tasks module, concurrency and store options and their TASKENGINE_* variables.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { get as httpGet } from 'node:http'
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
    expect(banner).toMatch(/worker concurrency 10; tasks from examples \(5\)/)
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
  // A process that ends before it serves (a refused option) fails the test at once, with its output.
  await Promise.race([
    waitForOutput(child.stderr, 'metrics'),
    done.then((exit) => Promise.reject(new Error(`serve exited with ${exit.code} before serving: ${exit.stderr}`))),
  ])
  const url = /serving (http:\/\/127\.0\.0\.1:\d+)\/admin/.exec(banner)?.[1]
  if (url === undefined) throw new Error(`no URL in the banner: ${banner}`)
  const stop = async () => {
    child.kill('SIGTERM')
    return done
  }
  return { url, banner, stop }
}

const TOKEN = 's3cret-s3cret-s3cret'

/** Runs a serve that should refuse to start; killed after the test if it serves instead. */
function runRefused(args: readonly string[], env: Record<string, string> = {}) {
  const child = startCli(args, { cwd: dir, env })
  children.push(child)
  return finished(child)
}

/** GET `path` on 127.0.0.1:`port` with the `Host` header given (fetch does not let one set it). */
function getWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path, headers: { host } }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('error', reject)
  })
}

describe('taskengine serve options', () => {
  it('refuses a blank or short --token (or TASKENGINE_TOKEN) with exit 2, naming the flag and how to make one, and never listens', async () => {
    for (const [args, env, got] of [
      [['--token', ' '], {}, '1 character of white space'],
      [[], { TASKENGINE_TOKEN: 'short' }, '5 characters'],
      [['--host', '0.0.0.0', '--token', '                '], {}, '16 characters of white space'],
    ] as const) {
      const { code, stdout, stderr } = await runRefused(['serve', '--port', '0', '--store', ':memory:', ...args], env)
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toBe(`taskengine: --token (or TASKENGINE_TOKEN): expected at least 16 characters, not all blank, got ${got}: make one with \`openssl rand -hex 32\`\n`)
    }
  })

  it('answers the host names of --allowed-hosts (or TASKENGINE_ALLOWED_HOSTS) besides loopback, and refuses others', async () => {
    const served = await startServe(['--allowed-hosts', 'a.example, b.example:9999', '--store', ':memory:'])
    expect(served.banner).toContain('also answers as a.example, b.example:9999\n')
    const port = Number(new URL(served.url).port)
    expect(await getWithHost(port, '/api/tasks', `localhost:${port}`)).toBe(200)
    expect(await getWithHost(port, '/api/tasks', `a.example:${port}`)).toBe(200)
    expect(await getWithHost(port, '/api/tasks', 'b.example:9999')).toBe(200)
    expect(await getWithHost(port, '/api/tasks', `b.example:${port}`)).toBe(403)
    expect(await getWithHost(port, '/api/tasks', `attacker.example:${port}`)).toBe(403)
    expect((await served.stop()).code).toBe(0)
    const fromEnv = await startServe(['--store', ':memory:'], { TASKENGINE_ALLOWED_HOSTS: 'c.example' })
    const envPort = Number(new URL(fromEnv.url).port)
    expect(await getWithHost(envPort, '/api/tasks', `c.example:${envPort}`)).toBe(200)
    expect(await getWithHost(envPort, '/api/tasks', `a.example:${envPort}`)).toBe(403)
    expect((await fromEnv.stop()).code).toBe(0)
  })

  it('refuses a bad --allowed-hosts entry with exit 2, naming the flag and the entry', async () => {
    const { code, stderr } = await runRefused(['serve', '--port', '0', '--store', ':memory:', '--allowed-hosts', 'ok.example,http://bad.example/'])
    expect(code).toBe(2)
    expect(stderr).toBe('taskengine: --allowed-hosts (or TASKENGINE_ALLOWED_HOSTS): expected a host name such as "ops.example", "ops.example:8443" or ".example.com" (the domain and its subdomains), without scheme or path, got "http://bad.example/" (string)\n')
  })

  it('requires the --token, or TASKENGINE_TOKEN, on every request but health checks', async () => {
    for (const [args, env] of [[['--token', TOKEN], {}], [[], { TASKENGINE_TOKEN: TOKEN }]] as const) {
      const served = await startServe([...args, '--store', ':memory:'], env)
      expect(served.banner).toContain('(token required)')
      const none = await fetch(`${served.url}/api/tasks`)
      expect(none.status).toBe(401)
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="taskengine"')
      expect((await fetch(`${served.url}/api/tasks`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
      expect((await fetch(`${served.url}/api/tasks`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
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
