/**
 * `taskengine serve` as a real process: it serves, refuses unsafe addresses, stops on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { finished, runBin, startCli, waitForOutput } from './helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-serve-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const children: ReturnType<typeof startCli>[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('taskengine serve', () => {
  it('serves the API with the store, a worker and the examples, and stops gracefully on SIGTERM', async () => {
    const child = startCli(['serve', '--port', '0', '--store', join(dir, 'serve.db')], { cwd: dir })
    children.push(child)
    const done = finished(child)
    let banner = ''
    child.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()))
    await waitForOutput(child.stderr, 'metrics')
    const url = /serving (http:\/\/127\.0\.0\.1:\d+)\/admin/.exec(banner)?.[1]
    expect(url).toBeDefined()
    expect(banner).toMatch(/worker concurrency 10; tasks from examples \(4\)/)
    const created = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'hello', args: { name: 'serve' } }) })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    let status = ''
    for (let i = 0; i < 100 && status !== 'succeeded'; i++) {
      status = ((await (await fetch(`${url}/api/runs/${id}`)).json()) as { status: string }).status
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(status).toBe('succeeded')
    child.kill('SIGTERM')
    const exit = await done
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
