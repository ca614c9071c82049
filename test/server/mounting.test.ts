/**
 * Mounting the server in real host applications, each over a real socket: plain Node http,
 * Express 5 (app.use with and without a mount path) and Fastify 5 (its serverFactory, and an
 * onRequest hook), with and without a base path and a token, the host's own routes beside ours,
 * and the WebSocket stream through the host's own server next to the host's own WebSockets.
 */
import express from 'express'
import Fastify from 'fastify'
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createEngine, defineTask, type Engine } from '../../src/index.js'
import { createServer, type TaskEngineServer } from '../../src/server/index.js'

const greet = defineTask({ key: 'greet', fields: [{ key: 'name', type: 'string', required: true }], run: (ctx) => ({ greeting: `Hello, ${ctx.args.name}!` }) })

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function mountable(basePath: string, reported: Error[] = []): { engine: Engine; te: TaskEngineServer } {
  const engine = createEngine({ tasks: [greet] })
  const te = createServer(engine, { basePath, onError: (e) => reported.push(e) })
  cleanups.push(() => engine.close({ graceMs: 0 }), () => te.close())
  return { engine, te }
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Opens a WebSocket and resolves with its first message. */
function firstMessage(url: string): Promise<Record<string, unknown>> {
  const socket = new WebSocket(url)
  cleanups.push(() => socket.terminate())
  return new Promise((resolve, reject) => {
    socket.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Record<string, unknown>))
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    socket.once('error', reject)
  })
}

/** A WebSocket endpoint of the host itself at `/host-ws`, answering "host" to whoever connects. */
function hostSockets(server: Server): void {
  const wss = new WebSocketServer({ noServer: true })
  cleanups.push(() => wss.close())
  server.on('upgrade', (request, socket, head) => {
    if (request.url !== '/host-ws') return
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('message', (data: Buffer) => ws.send(JSON.stringify({ type: 'echo', text: data.toString() })))
      ws.send(JSON.stringify({ type: 'host' }))
    })
  })
}

/** Talks to the host's own WebSocket: its greeting, then two round trips on the same connection. */
async function talkToHost(url: string): Promise<unknown[]> {
  const socket = new WebSocket(url)
  cleanups.push(() => socket.terminate())
  const received: unknown[] = []
  const next = () =>
    new Promise<void>((resolve, reject) => {
      socket.once('message', (data: Buffer) => {
        received.push(JSON.parse(data.toString()))
        resolve()
      })
      socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(received)}`)))
      socket.once('error', reject)
    })
  await next()
  for (const text of ['one', 'two']) {
    socket.send(text)
    await next()
  }
  return received
}

/** What every host must get right: reads, a posted JSON body, the host's own routes, both kinds of WebSocket. */
async function checkMounted(base: string, engine: Engine, hostText: string): Promise<void> {
  const task = await fetch(`${base}/ops/api/tasks/greet`)
  expect(task.status).toBe(200)
  expect(((await task.json()) as { key: string }).key).toBe('greet')
  const csv = await fetch(`${base}/ops/api/tasks?format=csv`)
  expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
  const created = await fetch(`${base}/ops/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'greet', args: { name: 'host' } }) })
  expect(created.status).toBe(201)
  const run = (await created.json()) as { id: string; args: unknown }
  expect(run.args).toEqual({ name: 'host' })
  expect((await engine.getRun(run.id))?.status).toBe('pending')
  // The admin UI's links and redirects carry the base path.
  const root = await fetch(`${base}/ops`, { redirect: 'manual' })
  expect(root.headers.get('location')).toBe('/ops/admin')
  const missing = await fetch(`${base}/ops/api/nothing`)
  expect(missing.status).toBe(404)
  expect(((await missing.json()) as { error: { message: string } }).error.message).toBe('no route for GET /ops/api/nothing')
  expect(await (await fetch(`${base}/elsewhere`)).text()).toBe(hostText)
  const ws = base.replace('http', 'ws')
  expect(await firstMessage(`${ws}/ops/api/stream`)).toMatchObject({ type: 'hello' })
  expect(await talkToHost(`${ws}/host-ws`)).toEqual([{ type: 'host' }, { type: 'echo', text: 'one' }, { type: 'echo', text: 'two' }])
}

describe('mounted in plain Node http', () => {
  it('serves under the base path and passes everything else to the host', async () => {
    const { engine, te } = mountable('/ops')
    const server = createHttpServer((req, res) => te.middleware(req, res, () => res.end('host app')))
    hostSockets(server)
    te.injectWebSocket(server)
    await checkMounted(await listening(server), engine, 'host app')
  })
})

describe('mounted in Express', () => {
  it('works under app.use(basePath, te.middleware), where Express rewrites req.url', async () => {
    const { engine, te } = mountable('/ops')
    const app = express()
    app.use('/ops', te.middleware)
    app.use(express.json())
    app.get('/elsewhere', (_req, res) => void res.send('express app'))
    const server = createHttpServer(app)
    hostSockets(server)
    te.injectWebSocket(server)
    await checkMounted(await listening(server), engine, 'express app')
  })

  it('works as app-wide middleware too, and says so when a body parser ran first', async () => {
    const reported: Error[] = []
    const { engine, te } = mountable('/ops', reported)
    const app = express()
    app.use(express.json())
    app.use(te.middleware)
    app.get('/elsewhere', (_req, res) => void res.send('express app'))
    const server = createHttpServer(app)
    te.injectWebSocket(server)
    const base = await listening(server)
    expect((await fetch(`${base}/ops/api/tasks/greet`)).status).toBe(200)
    const posted = await fetch(`${base}/ops/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'greet', args: { name: 'x' } }) })
    expect(posted.status).toBe(500)
    expect(await posted.json()).toEqual({ error: { code: 'ERR_BODY_CONSUMED', message: 'the request body was read by the host application before taskengine got it: mount taskengine before body parsers' } })
    expect(reported.map((e) => e.message)).toEqual(['POST /ops/api/runs: the request body was read before taskengine got it; mount te.middleware before body parsers such as express.json()'])
    expect((await engine.listRuns()).total).toBe(0)
    expect(await firstMessage(`${base.replace('http', 'ws')}/ops/api/stream`)).toMatchObject({ type: 'hello' })
  })
})

describe('mounted in Fastify', () => {
  it('works through serverFactory, ahead of Fastify\'s routing and body parsing', async () => {
    const { engine, te } = mountable('/ops')
    let server: Server | undefined
    const fastify = Fastify({
      serverFactory: (fastifyHandler) => {
        server = createHttpServer((req, res) => te.middleware(req, res, () => fastifyHandler(req, res)))
        return server
      },
    })
    fastify.get('/elsewhere', () => 'fastify app')
    cleanups.push(() => fastify.close())
    await fastify.ready()
    hostSockets(server!)
    te.injectWebSocket(server!)
    await checkMounted(await listening(server!), engine, 'fastify app')
  })

  it('works from an onRequest hook that hands the raw request over', async () => {
    const { engine, te } = mountable('/ops')
    const fastify = Fastify()
    fastify.addHook('onRequest', (request, reply, done) => {
      if (!te.owns(request.raw.url)) return done()
      reply.hijack()
      te.handler(request.raw, reply.raw)
    })
    fastify.get('/elsewhere', () => 'fastify app')
    await fastify.listen({ port: 0, host: '127.0.0.1' })
    cleanups.push(() => fastify.close())
    hostSockets(fastify.server)
    te.injectWebSocket(fastify.server)
    await checkMounted(`http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`, engine, 'fastify app')
  })
})

describe('WebSocket upgrades', () => {
  it('answers upgrades it does not serve with 404 when alone on the server', async () => {
    const { te } = mountable('/ops')
    const server = createHttpServer(te.handler)
    te.injectWebSocket(server)
    const base = (await listening(server)).replace('http', 'ws')
    await expect(firstMessage(`${base}/elsewhere`)).rejects.toThrow('HTTP 404')
    await vi.waitFor(async () => expect(await firstMessage(`${base}/ops/api/stream`)).toMatchObject({ type: 'hello' }))
  })
})

describe('host routes beside ours', () => {
  const TOKEN = 'mount-token-0123456789'
  /** Every mounting: with and without a base path, with and without a token. */
  const cases = [
    { basePath: '', token: undefined },
    { basePath: '', token: TOKEN },
    { basePath: '/ops', token: undefined },
    { basePath: '/ops', token: TOKEN },
  ] as const

  function mountedWith(basePath: string, token: string | undefined): { engine: Engine; te: TaskEngineServer } {
    const engine = createEngine({ tasks: [greet] })
    const te = createServer(engine, { basePath, ...(token === undefined ? {} : { token }), onError: () => undefined })
    cleanups.push(() => engine.close({ graceMs: 0 }), () => te.close())
    return { engine, te }
  }

  /**
   * The host answers its own routes (`/`, `/elsewhere`, a posted JSON body parsed by the host,
   * names that merely start like ours), without our token; we answer ours, behind the token.
   */
  async function checkBeside(base: string, basePath: string, token: string | undefined, host: string): Promise<void> {
    const bearer: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
    for (const path of ['/', '/elsewhere', '/apis', '/administrator', '/metrics-dashboard']) {
      const response = await fetch(`${base}${path}`)
      expect(response.status, path).toBe(200)
      expect(await response.text(), path).toBe(`${host} ${path}`)
    }
    const echoed = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hello: 'host' }) })
    expect(await echoed.json()).toEqual({ echo: { hello: 'host' } })
    const tasks = await fetch(`${base}${basePath}/api/tasks/greet`)
    expect(tasks.status).toBe(token === undefined ? 200 : 401)
    expect((await fetch(`${base}${basePath}/api/tasks/greet`, { headers: bearer })).status).toBe(200)
    expect((await fetch(`${base}${basePath}/api/nothing`, { headers: bearer })).status).toBe(404)
    expect((await fetch(`${base}${basePath}/metrics`)).status).toBe(token === undefined ? 200 : 401)
    expect((await fetch(`${base}${basePath}/healthz`)).status).toBe(200)
    const admin = await fetch(`${base}${basePath}/admin/task`, { headers: { ...bearer, accept: 'application/json' } })
    expect(admin.status).toBe(200)
    const created = await fetch(`${base}${basePath}/api/runs`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ task: 'greet', args: { name: 'host' } }) })
    expect(created.status).toBe(201)
    if (basePath !== '') expect((await fetch(`${base}${basePath}`, { redirect: 'manual' })).headers.get('location')).toBe(`${basePath}/admin`)
    const ws = base.replace('http', 'ws')
    const stream = `${ws}${basePath}/api/stream${token === undefined ? '' : `?access_token=${token}`}`
    expect(await firstMessage(stream)).toMatchObject({ type: 'hello' })
    expect(await talkToHost(`${ws}/host-ws`)).toEqual([{ type: 'host' }, { type: 'echo', text: 'one' }, { type: 'echo', text: 'two' }])
  }

  for (const { basePath, token } of cases) {
    const named = `${basePath === '' ? 'without a base path' : `under ${basePath}`}, ${token === undefined ? 'without a token' : 'with a token'}`

    it(`Express 5 (${named})`, async () => {
      const { te } = mountedWith(basePath, token)
      const app = express()
      if (basePath === '') app.use(te.middleware)
      else app.use(basePath, te.middleware)
      app.use(express.json())
      for (const path of ['/', '/elsewhere', '/apis', '/administrator', '/metrics-dashboard']) app.get(path, (_req, res) => void res.send(`express ${path}`))
      app.post('/echo', (req, res) => void res.json({ echo: req.body }))
      const server = createHttpServer(app)
      hostSockets(server)
      te.injectWebSocket(server)
      await checkBeside(await listening(server), basePath, token, 'express')
    })

    it(`Fastify 5 through serverFactory, the README's recipe (${named})`, async () => {
      const { te } = mountedWith(basePath, token)
      let server: Server | undefined
      const fastify = Fastify({
        serverFactory: (fastifyHandler) => {
          server = createHttpServer((req, res) => te.middleware(req, res, () => fastifyHandler(req, res)))
          return server
        },
      })
      for (const path of ['/', '/elsewhere', '/apis', '/administrator', '/metrics-dashboard']) fastify.get(path, () => `fastify ${path}`)
      fastify.post('/echo', (request) => ({ echo: request.body }))
      cleanups.push(() => fastify.close())
      await fastify.ready()
      hostSockets(server!)
      te.injectWebSocket(server!)
      await checkBeside(await listening(server!), basePath, token, 'fastify')
    })

    it(`Fastify 5 from an onRequest hook asking te.owns (${named})`, async () => {
      const { te } = mountedWith(basePath, token)
      const fastify = Fastify()
      fastify.addHook('onRequest', (request, reply, done) => {
        if (!te.owns(request.raw.url)) return done()
        reply.hijack()
        te.handler(request.raw, reply.raw)
      })
      for (const path of ['/', '/elsewhere', '/apis', '/administrator', '/metrics-dashboard']) fastify.get(path, () => `fastify ${path}`)
      fastify.post('/echo', (request) => ({ echo: request.body }))
      await fastify.listen({ port: 0, host: '127.0.0.1' })
      cleanups.push(() => fastify.close())
      hostSockets(fastify.server)
      te.injectWebSocket(fastify.server)
      await checkBeside(`http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`, basePath, token, 'fastify')
    })
  }

  it('owns exactly its routes without a base path, and everything under one with it', () => {
    const engine = createEngine({ tasks: [greet] })
    const root = createServer(engine)
    const ops = createServer(engine, { basePath: '/ops' })
    cleanups.push(() => engine.close({ graceMs: 0 }), () => root.close(), () => ops.close())
    const ours = ['/api', '/api/runs?status=failed', '/admin', '/admin/runs/1', '/metrics', '/healthz', '/readyz?x=1']
    const theirs = ['/', '/?format=json', '/apis', '/administrator', '/metrics/x', '/elsewhere', '/ops', undefined]
    for (const url of ours) expect(root.owns(url), url).toBe(true)
    for (const url of theirs) expect(root.owns(url), url).toBe(false)
    for (const url of ['/ops', '/ops/', '/ops/api/tasks', '/ops/anything', '/ops?x=1']) expect(ops.owns(url), url).toBe(true)
    for (const url of ['/', '/api/tasks', '/opsx', '/admin']) expect(ops.owns(url), url).toBe(false)
  })
})
