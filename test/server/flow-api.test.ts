/**
 * Flow control over HTTP, on a real socket and a SQLite file: `PUT /api/queues/:name`,
 * `PUT /api/tasks/:key`, `GET /api/flow` (and `flow` in `/api/stats`). Changes answer with the
 * limits that hold now, show in `GET /api/queues`, and take effect on a running worker; bad
 * bodies are a 400 naming each field and change nothing; unknown names are a 404; the usual
 * guards of writes (permission, origin, body size, JSON) hold.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEngine, defineTask, type Engine, type QueueInfo, type Run } from '../../src/index.js'
import { serve, type RunningServer, type ServeOptions } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { runReaches } from '../helpers/runs.js'

const send = defineTask({ key: 'send', queue: 'mail', fields: [{ key: 'to', type: 'string', default: 'x' }], run: (ctx) => `sent to ${ctx.args.to}` })
const ping = defineTask({ key: 'ping', run: () => 'pong' })
const sync = defineTask({
  key: 'sync-tenant',
  fields: [{ key: 'tenant', type: 'string', required: true }],
  limits: { concurrency: 2, groupBy: (args) => args.tenant, groupConcurrency: 1 },
  run: () => 'synced',
})

const dir = mkdtempSync(join(tmpdir(), 'taskengine-flow-api-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The answer of a PUT: its status and body, a result or the error envelope. */
interface Answer {
  readonly status: number
  readonly body: Record<string, unknown> & { readonly error: { readonly code: string; readonly message: string; readonly fields: readonly { readonly key: string }[] } }
}

/** The keys of the fields an error names. */
const fieldKeys = (answer: Answer): string[] => answer.body.error.fields.map((f) => f.key)

let files = 0
async function setup(options: ServeOptions = {}): Promise<{ engine: Engine; url: string; put: (path: string, body: unknown, headers?: Record<string, string>) => Promise<Answer> }> {
  const engine = createEngine({ tasks: [send, ping, sync], queues: { mail: { concurrency: 3, rate: { max: 10, perMs: 1000 } }, bulk: { concurrency: 7 } }, store: sqliteStore(join(dir, `flow-${++files}.db`)), pollIntervalMs: 20 })
  cleanups.push(() => engine.close({ graceMs: 0 }))
  const server: RunningServer = await serve(engine, { port: 0, onError: () => undefined, ...options })
  cleanups.push(() => server.close())
  const put = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
    return { status: response.status, body: (await response.json()) as Answer['body'] }
  }
  return { engine, url: server.url, put }
}

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T

describe('PUT /api/queues/:name', () => {
  it('changes a queue\'s limits and answers with them; GET /api/queues, /api/flow and /api/stats show them', async () => {
    const { url, put } = await setup()
    expect(await put('/api/queues/mail', { concurrency: 5, rate: { max: 20, perMs: 2000 }, paused: true })).toEqual({ status: 200, body: { name: 'mail', concurrency: 5, rate: { max: 20, perMs: 2000 }, paused: true } })
    // A key left out keeps what holds; null removes a limit, the code's too.
    expect(await put('/api/queues/mail', { rate: null })).toEqual({ status: 200, body: { name: 'mail', concurrency: 5, rate: null, paused: true } })
    // An idle queue (limits only, no runs) can be changed too.
    expect((await put('/api/queues/bulk', { concurrency: null })).body).toEqual({ name: 'bulk', concurrency: null, rate: null, paused: false })
    const queues = await getJson<QueueInfo[]>(`${url}/api/queues`)
    expect(queues.map((q) => q.name)).toEqual(['bulk', 'default', 'mail'])
    expect(queues.find((q) => q.name === 'mail')).toMatchObject({ concurrency: 5, rate: null, paused: true, tasks: ['send'], pending: 0, running: 0, startsInWindow: null })
    const flow = await getJson<{ queues: QueueInfo[]; tasks: { task: string; groupConcurrency: number | null }[] }>(`${url}/api/flow`)
    expect(flow.queues).toEqual(queues)
    expect(flow.tasks.map((t) => [t.task, t.groupConcurrency])).toEqual([['sync-tenant', 1]])
    expect((await getJson<{ flow: unknown }>(`${url}/api/stats`)).flow).toEqual(flow)
    // CSV: the rate as max/perMs, paused as a column.
    await put('/api/queues/mail', { rate: { max: 10, perMs: 1000 } })
    const csv = (await (await fetch(`${url}/api/queues?format=csv`)).text()).trim().split('\n')
    expect(csv[0]).toBe('name,concurrency,rate,paused,tasks,pending,running,startsInWindow,oldestPendingAt,nextDueAt')
    expect(csv.find((line) => line.startsWith('mail,'))).toBe('mail,5,10/1000,1,send,0,0,0,,')
  })

  it('answers a bad body with a 400 naming each field, and changes nothing', async () => {
    const { engine, put } = await setup()
    const before = JSON.stringify(await engine.queues())
    const bad = await put('/api/queues/mail', { concurrency: 0, rate: { max: 5 }, paused: 'yes' })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('ERR_VALIDATION')
    expect(fieldKeys(bad)).toEqual(['concurrency', 'rate', 'paused'])
    expect(bad.body.error.message).toContain('concurrency must be an integer from 1 to 1000000, got 0 (number)')
    expect(bad.body.error.message).toContain('rate.perMs is missing: give the window in ms, an integer from 1 to 86400000 (a day)')
    const typo = await put('/api/queues/mail', { concurency: 2 })
    expect(typo.status).toBe(400)
    expect(typo.body.error.fields).toEqual([expect.objectContaining({ key: 'concurency' })])
    expect(typo.body.error.message).toContain('did you mean concurrency?')
    // A task's key is not a queue's.
    expect(fieldKeys(await put('/api/queues/mail', { groupConcurrency: 1 }))).toEqual(['groupConcurrency'])
    expect(await put('/api/queues/mail', '{"concurrency":')).toMatchObject({ status: 400, body: { error: { code: 'ERR_MALFORMED_JSON' } } })
    expect(await put('/api/queues/mail', [1, 2])).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', message: 'expected a JSON object as body, got [1,2] (array)' } } })
    expect(await put('/api/queues/mail', 'null')).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION' } } })
    expect(await put('/api/queues/mail', 'concurrency=2', { 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({ status: 415 })
    expect(await put('/api/queues/mail?concurrency=2', { concurrency: 2 })).toMatchObject({ status: 400, body: { error: { fields: [expect.objectContaining({ key: 'concurrency' })] } } })
    // A name no queue could have is a 400; a name no queue has, a 404.
    expect(await put('/api/queues/no%20such', { paused: true })).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('expected a queue name') as string } } })
    expect(await put('/api/queues/nope', { paused: true })).toEqual({
      status: 404,
      body: { error: { code: 'ERR_NOT_FOUND', message: 'unknown queue "nope": no task enqueues into it, no limits name it and no run is in it' } },
    })
    expect(JSON.stringify(await engine.queues())).toBe(before)
  })

  it('holds to the guards of every write: permission, origin, body size', async () => {
    const viewer = await setup({ auth: () => ({ id: 'viewer', permissions: ['runs:read'] }), maxBodyBytes: 200 })
    expect(await viewer.put('/api/queues/mail', { paused: true })).toMatchObject({ status: 403, body: { error: { code: 'ERR_FORBIDDEN', message: 'forbidden: "viewer" lacks the "settings:write" permission' } } })
    expect(await viewer.put('/api/tasks/send', { paused: true })).toMatchObject({ status: 403 })
    expect((await viewer.engine.queues()).find((q) => q.name === 'mail')?.paused).toBe(false)
    const open = await setup({ maxBodyBytes: 200 })
    expect(await open.put('/api/queues/mail', { paused: true }, { origin: 'https://evil.example' })).toMatchObject({ status: 403, body: { error: { code: 'ERR_ORIGIN_NOT_ALLOWED' } } })
    expect(await open.put('/api/queues/mail', { paused: true, pad: 'x'.repeat(500) })).toMatchObject({ status: 413, body: { error: { code: 'ERR_PAYLOAD_TOO_LARGE' } } })
    expect((await open.engine.queues()).find((q) => q.name === 'mail')?.paused).toBe(false)
  })
})

describe('PUT /api/tasks/:key', () => {
  it('changes a task\'s limits and answers with them; bad bodies are a 400 naming each field; an unknown task a 404', async () => {
    const { engine, url, put } = await setup()
    expect(await put('/api/tasks/sync-tenant', { concurrency: 4, groupConcurrency: 2, rate: { max: 100, perMs: 60_000 } })).toEqual({
      status: 200,
      body: { task: 'sync-tenant', concurrency: 4, rate: { max: 100, perMs: 60_000 }, groupConcurrency: 2, paused: false },
    })
    // A task without limits gets some, and joins the flow report.
    expect((await put('/api/tasks/ping', { paused: true })).body).toEqual({ task: 'ping', concurrency: null, rate: null, groupConcurrency: null, paused: true })
    const flow = await getJson<{ tasks: { task: string; paused: boolean; concurrency: number | null }[] }>(`${url}/api/flow`)
    expect(flow.tasks.map((t) => [t.task, t.concurrency, t.paused])).toEqual([
      ['ping', null, true],
      ['sync-tenant', 4, false],
    ])
    const before = JSON.stringify((await engine.stats()).flow.tasks)
    const bad = await put('/api/tasks/sync-tenant', { concurrency: -1, groupConcurrency: 1.5, colour: 'red' })
    expect(bad.status).toBe(400)
    expect(fieldKeys(bad)).toContain('colour')
    const values = await put('/api/tasks/sync-tenant', { concurrency: -1, groupConcurrency: 1.5 })
    expect(fieldKeys(values)).toEqual(['concurrency', 'groupConcurrency'])
    expect(await put('/api/tasks/sync-tenant', '{')).toMatchObject({ status: 400, body: { error: { code: 'ERR_MALFORMED_JSON' } } })
    expect(await put('/api/tasks/nope', { paused: true })).toEqual({ status: 404, body: { error: { code: 'ERR_NOT_FOUND', message: 'unknown task "nope"' } } })
    expect(JSON.stringify((await engine.stats()).flow.tasks)).toBe(before)
  })
})

describe('a change takes effect on a running worker', () => {
  it('a paused queue\'s runs stay pending while the worker runs others; resumed, they run', async () => {
    const { engine, put } = await setup()
    await engine.start({ concurrency: 4 })
    expect((await put('/api/queues/mail', { paused: true })).status).toBe(200)
    const held = await Promise.all([1, 2, 3].map((i) => engine.enqueue(send, { to: `u${i}` })))
    // Enqueued after them, in a queue that is not paused: once it has run, the worker has
    // passed over the paused runs (it claims in order of enqueue).
    await runReaches(engine, (await engine.enqueue(ping, {})).id, 'succeeded', 10_000)
    await runReaches(engine, (await engine.enqueue(ping, {})).id, 'succeeded', 10_000)
    expect((await Promise.all(held.map((r) => engine.getRun(r.id)))).map((r) => r?.status)).toEqual(['pending', 'pending', 'pending'])
    expect((await engine.queues()).find((q) => q.name === 'mail')).toMatchObject({ paused: true, pending: 3 })
    expect((await put('/api/queues/mail', { paused: false })).status).toBe(200)
    const done: Run[] = await Promise.all(held.map((r) => runReaches(engine, r.id, 'succeeded', 10_000)))
    expect(done.map((r) => r.data)).toEqual(['sent to u1', 'sent to u2', 'sent to u3'])
  })

  it('a paused task\'s runs stay pending while the worker runs others; resumed, they run', async () => {
    const { engine, put } = await setup()
    await engine.start({ concurrency: 4 })
    expect((await put('/api/tasks/send', { paused: true })).status).toBe(200)
    const held = await engine.enqueue(send, { to: 'later' })
    await runReaches(engine, (await engine.enqueue(ping, {})).id, 'succeeded', 10_000)
    await runReaches(engine, (await engine.enqueue(ping, {})).id, 'succeeded', 10_000)
    expect((await engine.getRun(held.id))?.status).toBe('pending')
    expect((await put('/api/tasks/send', { paused: false })).status).toBe(200)
    expect((await runReaches(engine, held.id, 'succeeded', 10_000)).data).toBe('sent to later')
  })
})
