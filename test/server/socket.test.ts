/**
 * The server over real sockets: standalone serving and its safe defaults, mounting in host
 * applications, WebSocket streams with resume, slow clients, the live task view.
 */
import { Hono } from 'hono'
import { mkdtempSync } from 'node:fs'
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { createServer, serve, type RunningServer, type TaskEngineServer } from '../../src/server/index.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { WsClient } from '../helpers/ws-client.js'

const chatty = defineTask({
  key: 'chatty',
  fields: [
    { key: 'lines', type: 'int', default: 3 },
    { key: 'delayMs', type: 'int', default: 0 },
    { key: 'padding', type: 'int', default: 0 },
  ],
  async run(ctx) {
    for (let i = 1; i <= ctx.args.lines; i++) {
      if (ctx.args.delayMs > 0) await new Promise((r) => setTimeout(r, ctx.args.delayMs))
      ctx.log(`line ${i}${' '.repeat(ctx.args.padding)}`)
      ctx.progress({ step: i, steps: ctx.args.lines })
    }
    return { lines: ctx.args.lines }
  },
})
const hostile = defineTask({ key: 'hostile', run: (ctx) => ctx.log('<img src=x onerror=alert(1)>') })
const report = defineTask({
  key: 'report',
  async run(ctx) {
    await ctx.artifact('report.csv', 'a,b\n1,2\n', 'text/csv')
    await ctx.artifact('weird name ä.bin', Buffer.from([0, 1, 2, 255]), 'application/octet-stream')
  },
})
const waitsForAbort = defineTask({
  key: 'waits',
  run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
})

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function newEngine(): Engine {
  const engine = createEngine({ tasks: [chatty, hostile, waitsForAbort, report], pollIntervalMs: 20 })
  cleanups.push(() => engine.close({ graceMs: 0 }))
  return engine
}

async function started(engine: Engine, options: Parameters<typeof serve>[1] = {}): Promise<RunningServer> {
  const running = await serve(engine, { port: 0, onError: () => undefined, ...options })
  cleanups.push(() => running.close())
  return running
}

/** A WebSocket client collecting JSON messages, closed after each test. */
class Client extends WsClient {
  constructor(url: string, headers: Record<string, string> = {}) {
    super(url, headers)
    cleanups.push(() => this.socket.terminate())
  }
}

describe('standalone serving', () => {
  it('listens on loopback without credentials, and refuses another address without a token', async () => {
    const engine = newEngine()
    const running = await started(engine)
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await fetch(`${running.url}/api/tasks`)).status).toBe(200)
    await expect(serve(engine, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token/)
    const guarded = await started(engine, { host: '0.0.0.0', token: 'abc-0123456789abcdef' })
    const url = `http://127.0.0.1:${guarded.port}`
    expect((await fetch(`${url}/api/tasks`)).status).toBe(401)
    expect((await fetch(`${url}/api/tasks`, { headers: { authorization: 'Bearer abc-0123456789abcdef' } })).status).toBe(200)
  })
})

describe('mounting', () => {
  it('mounts in a plain Node http server under a base path, passing other requests on', async () => {
    const engine = newEngine()
    const app = createServer(engine, { basePath: '/ops' })
    cleanups.push(() => app.close())
    const host: Server = createHttpServer((req, res) =>
      app.middleware(req, res, () => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('host app')
      }),
    )
    app.injectWebSocket(host)
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => host.close(() => resolve())))
    const base = `http://127.0.0.1:${(host.address() as AddressInfo).port}`
    const tasks = (await (await fetch(`${base}/ops/api/tasks`)).json()) as { key: string }[]
    expect(tasks.map((t) => t.key)).toEqual(['chatty', 'hostile', 'report', 'taskengine.retention', 'waits'])
    expect(await (await fetch(`${base}/elsewhere`)).text()).toBe('host app')
    const client = new Client(`${base.replace('http', 'ws')}/ops/api/stream`)
    await client.opened
    await vi.waitFor(() => expect(client.of('hello')).toHaveLength(1))
  })

  it('mounts as a Hono app inside a Hono host', async () => {
    const engine = newEngine()
    const server: TaskEngineServer = createServer(engine, { basePath: '/te' })
    cleanups.push(() => server.close())
    const host = new Hono()
    host.get('/', (c) => c.text('home'))
    host.route('/', server.app)
    expect(await (await host.request('/')).text()).toBe('home')
    const response = await host.request('/te/api/tasks/chatty')
    expect(response.status).toBe(200)
    expect(((await response.json()) as { key: string }).key).toBe('chatty')
  })
})

describe('GET /api/stream', () => {
  it('streams every event of a run as it happens, numbered', async () => {
    const engine = newEngine()
    const running = await started(engine)
    await engine.start()
    const client = new Client(`${running.url.replace('http', 'ws')}/api/stream`)
    await client.opened
    client.send({ type: 'subscribe', id: 'all' })
    await vi.waitFor(() => expect(client.of('subscribed')).toHaveLength(1))
    const run = await engine.enqueue(chatty, { lines: 2 })
    await vi.waitFor(() => expect(client.events().at(-1)?.event.type).toBe('succeeded'))
    const mine = client.events().filter((e) => e.event.runId === run.id)
    expect(mine.map((e) => e.event.type)).toEqual(['created', 'started', 'log', 'progress', 'log', 'progress', 'succeeded'])
    const seqs = mine.map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(seqs).size).toBe(seqs.length)
  })

  it('filters by run, task or pool', async () => {
    const engine = newEngine()
    const running = await started(engine)
    await engine.start()
    const client = new Client(`${running.url.replace('http', 'ws')}/api/stream`)
    await client.opened
    const pool = engine.pool()
    client.send({ type: 'subscribe', id: 'task', filter: { task: 'hostile' } })
    client.send({ type: 'subscribe', id: 'pool', filter: { poolId: pool.id } })
    await vi.waitFor(() => expect(client.of('subscribed')).toHaveLength(2))
    await engine.enqueue(chatty, { lines: 1 })
    const inPool = await pool.add(chatty, { lines: 1 })
    const h = await engine.enqueue(hostile, {})
    await vi.waitFor(() => expect(client.events().filter((e) => e.event.type === 'succeeded')).toHaveLength(2))
    const byId = (id: string) => new Set(client.events().filter((m) => (m as unknown as { id: string }).id === id).map((e) => e.event.runId))
    expect([...byId('task')]).toEqual([h.id])
    expect([...byId('pool')]).toEqual([inPool.id])
  })

  it('resumes without gaps or duplicates after a reconnect, and says "gap" when it cannot', async () => {
    const engine = newEngine()
    const running = await started(engine)
    await engine.start()
    const url = `${running.url.replace('http', 'ws')}/api/stream`
    const first = new Client(url)
    await first.opened
    first.send({ type: 'subscribe', id: 's' })
    await vi.waitFor(() => expect(first.of('subscribed')).toHaveLength(1))
    const epoch = first.of('subscribed')[0]!.epoch
    const a = await engine.enqueue(chatty, { lines: 2 })
    await vi.waitFor(() => expect(first.events().some((e) => e.event.type === 'succeeded' && e.event.runId === a.id)).toBe(true))
    const lastSeen = first.events().at(-1)!.seq
    first.socket.terminate()
    // Events happen while the client is away.
    const b = await engine.enqueue(chatty, { lines: 2 })
    await vi.waitFor(async () => expect((await engine.getRun(b.id))?.status).toBe('succeeded'))
    const second = new Client(url)
    await second.opened
    second.send({ type: 'subscribe', id: 's', after: lastSeen, epoch })
    await vi.waitFor(() => expect(second.events().some((e) => e.event.type === 'succeeded' && e.event.runId === b.id)).toBe(true))
    const replayed = second.events()
    expect(replayed[0]!.seq).toBe(lastSeen + 1)
    expect(replayed.every((e) => e.event.runId === b.id)).toBe(true)
    expect(replayed.map((e) => e.event.type)).toEqual(['created', 'started', 'log', 'progress', 'log', 'progress', 'succeeded'])
    // A resume from another server process (another epoch) cannot be served from memory.
    second.send({ type: 'subscribe', id: 'old', after: 3, epoch: 'another-process' })
    await vi.waitFor(() => expect(second.of('gap')).toMatchObject([{ id: 'old' }]))
  })

  it('replays stored log lines of a run after a position, then live ones, without doubles', async () => {
    const engine = newEngine()
    const running = await started(engine)
    await engine.start()
    const run = await engine.enqueue(chatty, { lines: 6, delayMs: 40 })
    await vi.waitFor(async () => expect((await engine.getLogs(run.id)).length).toBeGreaterThanOrEqual(2))
    const client = new Client(`${running.url.replace('http', 'ws')}/api/stream`)
    await client.opened
    client.send({ type: 'subscribe', id: 'r', filter: { runId: run.id }, logsAfter: 1 })
    await vi.waitFor(() => expect(client.events().some((e) => e.event.type === 'succeeded')).toBe(true), { timeout: 5000 })
    const stored = (client.of('logs')[0]!.logs as { seq: number }[]).map((l) => l.seq)
    const live = client.events().flatMap((e) => (e.event.type === 'log' ? [e.event.entry.seq] : []))
    expect(stored[0]).toBe(2)
    expect([...stored, ...live]).toEqual([2, 3, 4, 5, 6].slice(0, stored.length + live.length))
    expect(stored.length + live.length).toBe(5)
  })

  it('follows a run executed by a worker in another process through the store', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'taskengine-follow-')), 'shared.db')
    const serverEngine = createEngine({ tasks: [chatty], store: sqliteStore(file) })
    const workerEngine = createEngine({ tasks: [chatty], store: sqliteStore(file), pollIntervalMs: 20 })
    cleanups.push(() => serverEngine.close(), () => workerEngine.close({ graceMs: 0 }))
    const running = await started(serverEngine, { streamPollIntervalMs: 50 })
    const run = await serverEngine.enqueue(chatty, { lines: 5, delayMs: 60 })
    const client = new Client(`${running.url.replace('http', 'ws')}/api/stream`)
    await client.opened
    client.send({ type: 'subscribe', id: 'r', filter: { runId: run.id }, logsAfter: 0 })
    await vi.waitFor(() => expect(client.of('subscribed')).toHaveLength(1))
    await workerEngine.start()
    await vi.waitFor(() => expect(client.of('run').some((m) => (m.run as { status: string }).status === 'succeeded')).toBe(true), { timeout: 5000 })
    const seqs = client.of('logs').flatMap((m) => (m.logs as { seq: number }[]).map((l) => l.seq))
    expect(seqs).toEqual([1, 2, 3, 4, 5])
    expect(client.events()).toEqual([])
  })

  it('answers bad messages with errors and keeps the connection', async () => {
    const engine = newEngine()
    const running = await started(engine)
    const client = new Client(`${running.url.replace('http', 'ws')}/api/stream`)
    await client.opened
    client.socket.send('{not json')
    client.send([1, 2])
    client.send({ type: 'dance' })
    client.send({ type: 'subscribe', id: 'x', filter: { colour: 'red' } })
    client.send({ type: 'subscribe', id: 'y', logsAfter: 3 })
    client.send({ type: 'ping' })
    await vi.waitFor(() => expect(client.of('pong')).toHaveLength(1))
    expect(client.of('error').map((m) => m.message)).toEqual([
      expect.stringMatching(/^malformed JSON/) as string,
      'expected a JSON object, got [1,2] (array)',
      'unknown message type "dance" (string) (expected subscribe, unsubscribe or ping)',
      'subscribe: unknown filter "colour" (expected runId, task or poolId)',
      'subscribe: "logsAfter" needs a runId filter and a log position >= 0',
    ])
    expect(client.closed).toBeUndefined()
  })

  it('drops a client that cannot keep up, with a reason, without slowing the engine or other clients', async () => {
    const engine = newEngine()
    const running = await started(engine, { streamMaxBufferedBytes: 1024 * 1024 })
    await engine.start()
    const url = `${running.url.replace('http', 'ws')}/api/stream`
    const slow = new Client(url)
    const healthy = new Client(url)
    await Promise.all([slow.opened, healthy.opened])
    slow.send({ type: 'subscribe', id: 's' })
    healthy.send({ type: 'subscribe', id: 'h' })
    await vi.waitFor(() => expect(slow.of('subscribed').length + healthy.of('subscribed').length).toBe(2))
    // The slow client stops reading: its socket buffers fill up.
    slow.socket.pause()
    ;(slow.socket as unknown as { _socket: { pause(): void } })._socket.pause()
    // 24 MB of log lines, a line every few ms: more than the kernel's socket buffers can hold
    // for the paused client, while the reading client keeps its buffer empty.
    const run = await engine.enqueue(chatty, { lines: 400, padding: 60_000, delayMs: 2 })
    await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'), { timeout: 20_000 })
    await vi.waitFor(() => expect(healthy.events().some((e) => e.event.type === 'succeeded')).toBe(true), { timeout: 20_000 })
    expect(healthy.events().filter((e) => e.event.type === 'log')).toHaveLength(400)
    slow.socket.resume()
    ;(slow.socket as unknown as { _socket: { resume(): void } })._socket.resume()
    await vi.waitFor(() => expect(slow.closed).toEqual({ code: 4008, reason: 'slow consumer: too many undelivered events; reconnect and resume' }), { timeout: 20_000 })
    expect(await (await fetch(`${running.url}/metrics`)).text()).toMatch(/taskengine_stream_overflow_total\{stream="api"\} 1/)
  })

  it('refuses query parameters it does not take, like every API route', async () => {
    const engine = newEngine()
    const running = await started(engine)
    const url = `${running.url.replace('http', 'ws')}/api/stream`
    await expect(new Client(`${url}?format=json`).opened).rejects.toThrow('HTTP 400')
    await expect(new Client(`${url}?access_token=a&access_token=b`).opened).rejects.toThrow('HTTP 400')
    const ok = new Client(`${url}?access_token=a`)
    await ok.opened
    await vi.waitFor(() => expect(ok.of('hello')).toHaveLength(1))
  })

  it('checks the token and the Origin of WebSocket upgrades', async () => {
    const engine = newEngine()
    const running = await started(engine, { token: 'tok-0123456789abcdef' })
    const url = `${running.url.replace('http', 'ws')}/api/stream`
    await expect(new Client(url).opened).rejects.toThrow('HTTP 401')
    await new Client(`${url}?access_token=tok-0123456789abcdef`).opened
    await new Client(url, { authorization: 'Bearer tok-0123456789abcdef' }).opened
    await expect(new Client(url, { authorization: 'Bearer tok-0123456789abcdef', origin: 'https://evil.example' }).opened).rejects.toThrow('HTTP 403')
    const host = new URL(running.url).host
    await new Client(url, { authorization: 'Bearer tok-0123456789abcdef', origin: `http://${host}` }).opened
  })
})

describe('GET /admin/task/:key/start (live task view)', () => {
  it('streams output lines, then the result, then close-connection; HTML is escaped', async () => {
    const engine = newEngine()
    const running = await started(engine)
    const base = running.url.replace('http', 'ws')
    const client = new Client(`${base}/admin/task/chatty/start?lines=2&label=live`)
    await client.opened
    await vi.waitFor(() => expect(client.closed).toBeDefined())
    const cmds = client.messages.map((m) => m.cmd)
    // The last output line says how the run ended and how long its handler took.
    expect(cmds).toEqual(['started', 'output', 'progress', 'output', 'progress', 'output', 'complete', 'close-connection'])
    expect(client.messages[5]).toMatchObject({ cmd: 'output', param: { msg: expect.stringMatching(/^completed in \d+ ms$/) as string, level: 'info' } })
    expect(client.messages[1]).toMatchObject({ channel: 'task:chatty', cmd: 'output', param: { msg: 'line 1', level: 'info' } })
    expect(client.messages[6]).toMatchObject({ cmd: 'complete', param: { result: { status: 'succeeded', label: 'live', data: { lines: 2 } } } })
    const xss = new Client(`${base}/admin/task/hostile/start`)
    await xss.opened
    await vi.waitFor(() => expect(xss.closed).toBeDefined())
    const output = xss.messages.find((m) => m.cmd === 'output') as { param: { msg: string; html: string } }
    expect(output.param.msg).toBe('<img src=x onerror=alert(1)>')
    expect(output.param.html).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(output.param.html).not.toContain('<img')
  })

  it('reports invalid arguments and an unknown task, and cancels the run when the viewer leaves', async () => {
    const engine = newEngine()
    const running = await started(engine)
    const base = running.url.replace('http', 'ws')
    const bad = new Client(`${base}/admin/task/chatty/start?lines=many`)
    await bad.opened
    await vi.waitFor(() => expect(bad.closed?.code).toBe(4000))
    expect(bad.messages[0]).toMatchObject({ cmd: 'error', param: { code: 'ERR_VALIDATION', fields: [{ key: 'lines' }] } })
    const unknown = new Client(`${base}/admin/task/nope/start`)
    await unknown.opened
    await vi.waitFor(() => expect(unknown.closed?.code).toBe(4004))
    expect(unknown.messages[0]).toMatchObject({ cmd: 'error', param: { code: 'ERR_NOT_FOUND', message: 'unknown task "nope"' } })
    const cancelled: string[] = []
    engine.subscribe((event) => {
      if (event.type === 'cancelled') cancelled.push(event.runId)
    })
    const watcher = new Client(`${base}/admin/task/waits/start`)
    await watcher.opened
    await vi.waitFor(() => expect(watcher.messages.some((m) => m.cmd === 'started')).toBe(true))
    watcher.socket.close()
    await vi.waitFor(() => expect(cancelled).toHaveLength(1))
  })
})

describe('every route over a real socket', () => {
  it('answers each route of the API through HTTP', async () => {
    const engine = newEngine()
    const running = await started(engine)
    await engine.start()
    const url = running.url
    const json = (method: string, body?: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const run = (await (await fetch(`${url}/api/runs`, json('POST', { task: 'chatty', args: { lines: 1 } }))).json()) as { id: string }
    await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'))
    const blocked = (await (await fetch(`${url}/api/runs`, json('POST', { task: 'waits' }))).json()) as { id: string }
    await vi.waitFor(async () => expect((await engine.getRun(blocked.id))?.status).toBe('running'))
    const pool = engine.pool()
    await pool.add(chatty, { lines: 1 })
    const checks: [string, string, RequestInit | undefined, number][] = [
      ['GET', '/api/tasks', undefined, 200],
      ['GET', '/api/tasks/chatty', undefined, 200],
      ['POST', '/api/tasks/chatty/run', json('POST', { args: { lines: 1 } }), 200],
      ['GET', '/api/runs?pageSize=5', undefined, 200],
      ['GET', `/api/runs/${run.id}`, undefined, 200],
      ['GET', `/api/runs/${run.id}/logs?after=0`, undefined, 200],
      ['GET', `/api/runs/${run.id}/artifacts`, undefined, 200],
      ['GET', `/api/runs/${run.id}/artifacts/none`, undefined, 404],
      ['POST', `/api/runs/${blocked.id}/cancel`, json('POST'), 200],
      ['POST', `/api/runs/${run.id}/retry`, json('POST'), 409],
      ['DELETE', `/api/runs/${run.id}`, json('DELETE'), 200],
      ['GET', `/api/pools/${pool.id}`, undefined, 200],
      ['GET', '/api/me/runs', undefined, 200],
      ['GET', '/api/workers', undefined, 200],
      ['GET', '/api/stats?format=csv', undefined, 200],
      ['GET', '/api/openapi.json', undefined, 200],
      ['GET', '/metrics', undefined, 200],
      ['GET', '/healthz', undefined, 200],
      ['GET', '/readyz', undefined, 200],
      ['GET', '/api/stream', undefined, 404],
    ]
    for (const [method, path, init, status] of checks) {
      const response = await fetch(`${url}${path}`, init ?? { method })
      expect(response.status, `${method} ${path}`).toBe(status)
      await response.arrayBuffer()
    }
  })
})

/** Sends a body in chunks (Transfer-Encoding: chunked, no Content-Length) and reads the answer. */
function postChunked(url: string, chunks: readonly string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    // The server may answer and close before every chunk is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)))
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })
}

describe('bad requests over a real socket', () => {
  it('answers malformed JSON 400, another content type 415, and an oversized body 413 (with or without Content-Length), storing nothing', async () => {
    const engine = newEngine()
    const running = await started(engine, { maxBodyBytes: 1000 })
    const url = `${running.url}/api/runs`
    const post = async (body: string, type: string) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body })
      return { status: response.status, error: ((await response.json()) as { error: { code: string; message: string } }).error }
    }
    expect(await post('{"task":', 'application/json')).toMatchObject({ status: 400, error: { code: 'ERR_MALFORMED_JSON', message: expect.stringMatching(/^malformed JSON body: /) as string } })
    expect(await post('task=chatty', 'application/x-www-form-urlencoded')).toEqual({
      status: 415,
      error: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE', message: 'expected a JSON body (Content-Type: application/json), got "application/x-www-form-urlencoded"' },
    })
    const big = JSON.stringify({ task: 'chatty', args: { lines: 1 }, options: { label: 'x'.repeat(5000) } })
    expect(await post(big, 'application/json')).toEqual({ status: 413, error: { code: 'ERR_PAYLOAD_TOO_LARGE', message: 'request body too large: at most 1000 bytes' } })
    const chunked = await postChunked(url, Array.from({ length: 50 }, (_, i) => (i === 0 ? '{"task":"chatty","args":{},"options":{"label":"' : 'y'.repeat(200))))
    expect(chunked.status).toBe(413)
    expect(JSON.parse(chunked.body)).toEqual({ error: { code: 'ERR_PAYLOAD_TOO_LARGE', message: 'request body too large: at most 1000 bytes' } })
    // A small chunked body is fine.
    const small = await postChunked(url, ['{"task":"chatty",', '"args":{"lines":1}}'])
    expect(small.status).toBe(201)
    expect((await engine.listRuns()).data.map((r) => r.args)).toEqual([{ lines: 1, delayMs: 0, padding: 0 }])
  })

  it('answers bad query values with one 400 listing every bad parameter', async () => {
    const engine = newEngine()
    const running = await started(engine)
    const response = await fetch(`${running.url}/api/runs?page=0&pageSize=abc&status=pending,done&from=yesterday&to=2026-13-45`)
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { code: string; message: string; fields: { key: string; received: string }[] } }
    expect(error.code).toBe('ERR_VALIDATION')
    expect(error.fields.map((f) => [f.key, f.received])).toEqual([
      ['page', '"0" (string)'],
      ['pageSize', '"abc" (string)'],
      ['status', '"pending,done" (string)'],
      ['from', '"yesterday" (string)'],
      ['to', '"2026-13-45" (string)'],
    ])
    expect(error.message).toMatch(/^invalid query: page: expected int from 1 to 1000000, got "0" \(string\); pageSize: /)
    const logs = await fetch(`${running.url}/api/runs/00000000-0000-7000-8000-000000000000/logs?after=-1`)
    expect(logs.status).toBe(404)
  })

  it('downloads an artifact with its content type, length and a safe file name', async () => {
    const engine = newEngine()
    const running = await started(engine)
    await engine.start()
    const run = await engine.enqueue(report, {})
    await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'))
    const csv = await fetch(`${running.url}/api/runs/${run.id}/artifacts/report.csv`)
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toBe('text/csv')
    expect(csv.headers.get('content-length')).toBe('8')
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="report.csv"; filename*=UTF-8''report.csv`)
    expect(csv.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await csv.text()).toBe('a,b\n1,2\n')
    const binary = await fetch(`${running.url}/api/runs/${run.id}/artifacts/${encodeURIComponent('weird name ä.bin')}`)
    expect(binary.headers.get('content-type')).toBe('application/octet-stream')
    expect(binary.headers.get('content-disposition')).toBe(`attachment; filename="weird_name__.bin"; filename*=UTF-8''weird%20name%20%C3%A4.bin`)
    expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 255])
    const missing = await fetch(`${running.url}/api/runs/${run.id}/artifacts/nope.txt`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: { code: 'ERR_NOT_FOUND', message: `run ${run.id} has no artifact "nope.txt"` } })
  })

  it('checks the token and the Origin before opening the live task view', async () => {
    const engine = newEngine()
    const running = await started(engine, { token: 'tok-0123456789abcdef' })
    const url = `${running.url.replace('http', 'ws')}/admin/task/chatty/start?lines=1`
    await expect(new Client(url).opened).rejects.toThrow('HTTP 401')
    await expect(new Client(`${url}&access_token=wrong`).opened).rejects.toThrow('HTTP 401')
    await expect(new Client(`${url}&access_token=tok-0123456789abcdef`, { origin: 'https://evil.example' }).opened).rejects.toThrow('HTTP 403')
    await expect(new Client(url, { authorization: 'Bearer tok-0123456789abcdef', origin: 'null' }).opened).rejects.toThrow('HTTP 403')
    const allowed = new Client(url, { authorization: 'Bearer tok-0123456789abcdef', origin: `http://${new URL(running.url).host}` })
    await allowed.opened
    await vi.waitFor(() => expect(allowed.messages.map((m) => m.cmd)).toContain('complete'))
    const cookie = new Client(`${url}`, { cookie: 'taskengine_token=tok-0123456789abcdef' })
    await cookie.opened
    await vi.waitFor(() => expect(cookie.messages.map((m) => m.cmd)).toContain('close-connection'))
  })

  it('admits other origins to the stream only when allowed, and still asks them for the token', async () => {
    const engine = newEngine()
    const running = await started(engine, { token: 'tok-0123456789abcdef', allowedOrigins: ['https://ops.example'] })
    const url = `${running.url.replace('http', 'ws')}/api/stream`
    await expect(new Client(url, { origin: 'https://ops.example' }).opened).rejects.toThrow('HTTP 401')
    await expect(new Client(url, { authorization: 'Bearer tok-0123456789abcdef', origin: 'https://other.example' }).opened).rejects.toThrow('HTTP 403')
    const ok = new Client(url, { authorization: 'Bearer tok-0123456789abcdef', origin: 'https://ops.example' })
    await ok.opened
    await vi.waitFor(() => expect(ok.of('hello')).toHaveLength(1))
  })
})
