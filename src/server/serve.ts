/**
 * Standalone serving: an HTTP server (with WebSockets) for an engine, safe by default —
 * loopback needs no credentials; any other address requires a token or built-in users, or the
 * server refuses to start.
 */
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Engine } from '../engine/engine.js'
import { ValidationError, describeValue } from '../errors.js'
import { checkOptionKeys, optionKeys } from '../options.js'
import { healthRoutes } from './api/health.js'
import { metricsRoutes } from './api/metrics.js'
import type { ServerEnv } from './caller.js'
import { HttpError, errorResponse } from './http-errors.js'
import { ServerMetrics } from './metrics.js'
import { SERVER_OPTION_KEYS, createServer, type ServerOptions, type TaskEngineServer } from './server.js'
import { hasToken } from './auth.js'
import { guardHosts, hostPolicy, isLoopback } from './hosts.js'

/** The address {@link serve} and {@link serveMetrics} listen on by default: loopback only. */
export const DEFAULT_HOST = '127.0.0.1'
/** The port {@link serve} listens on by default ({@link ServeOptions.port}). */
export const DEFAULT_PORT = 8080
/** The port {@link serveMetrics} listens on by default ({@link MetricsServeOptions.port}). */
const DEFAULT_METRICS_PORT = 9464

/** Options of {@link serve}: the server's ({@link ServerOptions}) and where to listen. */
export interface ServeOptions extends ServerOptions {
  /**
   * The address to listen on; any but a loopback address requires a `token`, an `auth` resolver or an enabled user in the store.
   * @default '127.0.0.1'
   */
  readonly host?: string
  /**
   * The port to listen on; `0` picks a free port.
   * @default 8080
   */
  readonly port?: number
}

/** Every key of {@link ServeOptions}: the server's and its own. */
const SERVE_OPTION_KEYS: readonly string[] = [...SERVER_OPTION_KEYS, ...optionKeys<Omit<ServeOptions, keyof ServerOptions>>({ host: true, port: true })]

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

/** Listens on `host:port` and serves the engine; picks up the bulk jobs other servers left (`engine.bulk.resume()`). */
export async function serve(engine: Engine, options: ServeOptions = {}): Promise<RunningServer> {
  checkOptionKeys(options, SERVE_OPTION_KEYS, 'serve')
  const { host: givenHost, port: givenPort, ...serverOptions } = options
  const host = givenHost ?? DEFAULT_HOST
  const port = givenPort ?? DEFAULT_PORT
  checkPort(port, 'port')
  if (!isLoopback(host) && !hasToken(options.token) && options.auth === undefined && (await engine.users.enabledCount()) === 0) {
    throw new ValidationError(`refusing to listen on ${host} without a token or users: anyone who can reach it could run tasks. Set --token (or TASKENGINE_TOKEN), add a user (taskengine users add NAME --role admin), or listen on 127.0.0.1`)
  }
  const app = createServer(engine, serverOptions)
  const server = createHttpServer(app.handler)
  app.injectWebSocket(server)
  const address = await listen(server, port, host)
  // Bulk jobs left running by a server that stopped or died go on here.
  void engine.bulk.resume()
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
  /**
   * The address to listen on: only loopback addresses (the routes need no credentials).
   * @default '127.0.0.1'
   */
  readonly host?: string
  /**
   * The port to listen on; `0` picks a free port.
   * @default 9464
   */
  readonly port?: number
  /**
   * Receives the server's own errors.
   * @default print to stderr
   */
  readonly onError?: (error: Error) => void
}

/** Every key of {@link MetricsServeOptions}. */
const METRICS_SERVE_OPTION_KEYS = optionKeys<MetricsServeOptions>({ host: true, port: true, onError: true })

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
  checkOptionKeys(options, METRICS_SERVE_OPTION_KEYS, 'serveMetrics')
  const host = options.host ?? DEFAULT_HOST
  const port = options.port ?? DEFAULT_METRICS_PORT
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
