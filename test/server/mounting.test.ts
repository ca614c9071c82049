/**
 * Mounting the server in real host applications, each over a real socket under a base path:
 * plain Node http, Express (app.use with a mount path) and Fastify (its serverFactory, and an
 * onRequest hook), with the WebSocket stream through the host's own server next to the host's
 * own WebSockets.
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
      if (request.url !== '/ops' && !request.url.startsWith('/ops/')) return done()
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
