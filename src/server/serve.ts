/**
 * Standalone serving: an HTTP server (with WebSockets) for an engine, safe by default —
 * loopback needs no credentials; any other address requires a token, or the server refuses
 * to start.
 */
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Engine } from '../engine/engine.js'
import { ValidationError, describeValue } from '../errors.js'
import { healthRoutes } from './api/health.js'
import { metricsRoutes } from './api/metrics.js'
import type { ServerEnv } from './caller.js'
import { HttpError, errorResponse } from './http-errors.js'
import { ServerMetrics } from './metrics.js'
import { createServer, type ServerOptions, type TaskEngineServer } from './server.js'
import { hasToken } from './auth.js'
import { guardHosts, hostPolicy, isLoopback } from './hosts.js'

/** Options of {@link serve}. */
export interface ServeOptions extends ServerOptions {
  /** Default: `127.0.0.1`. */
  readonly host?: string
  /** Default: 8080; `0` picks a free port. */
  readonly port?: number
}

/** A running server. */
export interface RunningServer {
  /** e.g. `http://127.0.0.1:8080` (with the base path). */
  readonly url: string
  readonly port: number
  readonly host: string
  readonly server: Server
  readonly app: TaskEngineServer
  /** Stops accepting connections, closes streams and open connections. The engine stays. */
  close(): Promise<void>
}

/** Listens on `host:port` and serves the engine. */
export async function serve(engine: Engine, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 8080
  checkPort(port, 'port')
  if (!isLoopback(host) && !hasToken(options.token) && options.auth === undefined) {
    throw new ValidationError(`refusing to listen on ${host} without a token: anyone who can reach it could run tasks. Set --token (or TASKENGINE_TOKEN), or listen on 127.0.0.1`)
  }
  const app = createServer(engine, options)
  const server = createHttpServer(app.handler)
  app.injectWebSocket(server)
  const address = await listen(server, port, host)
  return {
    url: `http://${shownHost(address)}:${address.port}${app.basePath}`,
    port: address.port,
    host: address.address,
    server,
    app,
    async close() {
      app.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

/** Options of {@link serveMetrics}. */
export interface MetricsServeOptions {
  /** Default: `127.0.0.1`; only loopback addresses (the routes need no credentials). */
  readonly host?: string
  /** Default: 9464; `0` picks a free port. */
  readonly port?: number
  /** Receives the server's own errors. Default: stderr. */
  readonly onError?: (error: Error) => void
}

/** A running metrics endpoint. */
export interface RunningMetrics {
  /** e.g. `http://127.0.0.1:9464` */
  readonly url: string
  readonly port: number
  readonly metrics: ServerMetrics
  /** Stops listening and closes open connections. The engine stays. */
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (Prometheus), `/healthz` and `/readyz` for an engine on loopback,
 * without the API: what a worker process (`taskengine worker --metrics-port`) exposes, so that
 * the runs it starts and finishes and their durations are scraped from where they happen. Call
 * it before `engine.start()` so that no run goes uncounted.
 *
 * @example
 * const metrics = await serveMetrics(engine, { port: 9464 })
 * await engine.start()
 */
export async function serveMetrics(engine: Engine, options: MetricsServeOptions = {}): Promise<RunningMetrics> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 9464
  checkPort(port, 'metrics port')
  if (!isLoopback(host)) throw new ValidationError(`refusing to serve metrics on ${host}: they need no credentials, so only loopback addresses are allowed (scrape through a local agent or proxy)`)
  const report = options.onError ?? ((error: Error) => console.error('[taskengine metrics]', error))
  const metrics = new ServerMetrics(engine)
  const unsubscribe = engine.subscribe((event) => {
    if (event.remote !== true) metrics.observe(event)
  })
  const app = new Hono<ServerEnv>()
  app.onError((error, c) => errorResponse(c, error, report))
  // No credentials here: a rebinding page must not read the metrics under its own name.
  app.use('*', guardHosts(hostPolicy({ checkHost: true })))
  app.notFound((c) => errorResponse(c, new HttpError('ERR_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname} (this port serves /metrics, /healthz and /readyz)`), report))
  app.route('/', healthRoutes(engine, report))
  app.route('/', metricsRoutes(metrics, { permission: false }))
  const listener = getRequestListener(app.fetch)
  const server = createHttpServer((req, res) => void listener(req, res))
  let address: AddressInfo
  try {
    address = await listen(server, port, host)
  } catch (error) {
    unsubscribe()
    throw error
  }
  return {
    url: `http://${shownHost(address)}:${address.port}`,
    port: address.port,
    metrics,
    async close() {
      unsubscribe()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValidationError(`${what}: expected 0–65535, got ${describeValue(port)}`)
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

function shownHost(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address
}
