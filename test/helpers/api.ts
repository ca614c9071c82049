/**
 * The HTTP API in-process (`app.request`), for test/server/api*.test.ts: the tasks and schedule
 * they serve, an engine and server per test (closed after each), and small readers.
 */
import { afterEach, expect, vi } from 'vitest'
import { createEngine, defineSchedule, defineTask, type Engine, type Run } from '../../src/index.js'
import { createServer, type TaskEngineServer } from '../../src/server/index.js'

export const greet = defineTask({
  key: 'greet',
  title: 'Greet',
  category: 'demo',
  fields: [
    { key: 'name', type: 'string', required: true },
    { key: 'times', type: 'int', default: 1, min: 1, max: 5 },
  ],
  async run(ctx) {
    ctx.log(`hello ${ctx.args.name}`)
    await ctx.artifact('greeting.txt', `Hello, ${ctx.args.name}!`, 'text/plain')
    return { greeting: `Hello, ${ctx.args.name}!`.repeat(ctx.args.times) }
  },
})
export const hang = defineTask({ key: 'hang', run: () => new Promise(() => undefined) })
export const blocker = defineTask({
  key: 'blocker',
  run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
})

export const nightly = defineSchedule({ id: 'nightly-greet', name: 'Nightly greeting', cron: '0 2 * * *', timezone: 'Europe/Berlin', task: greet, args: { name: 'night' } })

/** Registers the clean-up of a test file's engines and servers (`setup` adds its own; push others onto `engines` and `servers`). */
export function apiHarness() {
  const engines: Engine[] = []
  const servers: TaskEngineServer[] = []
  afterEach(async () => {
    for (const s of servers.splice(0)) s.close()
    await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
  })

  /** An engine (greet, hang, blocker; the nightly schedule) and its server; `call` requests a path of it. */
  function setup(options: Parameters<typeof createServer>[1] = {}) {
    const engine = createEngine({ tasks: [greet, hang, blocker], schedules: [nightly], pollIntervalMs: 20 })
    engines.push(engine)
    const server = createServer(engine, { syncRunTimeoutMs: 200, onError: () => undefined, ...options })
    servers.push(server)
    const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
      const { json, ...rest } = init
      const headers = new Headers(rest.headers)
      if (json !== undefined) headers.set('content-type', 'application/json')
      return server.app.request(`${options.basePath ?? ''}${path}`, { ...rest, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) })
    }
    return { engine, server, call }
  }
  return { setup, engines, servers }
}

/** A response's JSON body. */
export async function body<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T
}

/** Waits until run `id` has `status`; returns it. */
export async function waitFor(engine: Engine, id: string, status: string): Promise<Run> {
  let run: Run | undefined
  await vi.waitFor(async () => {
    run = await engine.getRun(id)
    expect(run?.status).toBe(status)
  })
  return run!
}
