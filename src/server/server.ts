/**
 * `createServer(engine, options)`: the HTTP/WebSocket surface of an engine as a Hono app,
 * standalone or mounted in a host application under any base path.
 */
import { getRequestListener } from '@hono/node-server'
import { createNodeWebSocket } from '@hono/node-ws'
import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { EventEmitter } from 'node:events'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Engine } from '../engine/engine.js'
import { checkOptionKeys, optionKeys } from '../options.js'
import { adminRoutes } from './admin/routes.js'
import type { RouteDeps } from './api/deps.js'
import { healthRoutes } from './api/health.js'
import { metricsRoutes } from './api/metrics.js'
import { openApiRoutes } from './api/openapi.js'
import { poolRoutes } from './api/pools.js'
import { runRoutes } from './api/runs.js'
import { scheduleRoutes } from './api/schedules.js'
import { settingsRoutes } from './api/settings.js'
import { queueRoutes } from './api/queues.js'
import { statsRoutes } from './api/stats.js'
import { taskRoutes } from './api/tasks.js'
import { workerRoutes } from './api/workers.js'
import { userRoutes } from './api/users.js'
import { auditRoutes } from './api/audit.js'
import { builtInAuth, hasToken, type AuthResolver } from './auth.js'
import { authenticate, type ServerEnv } from './caller.js'
import { HttpError, errorResponse } from './http-errors.js'
import { frameAncestors } from './frame-ancestors.js'
import { guardHosts, hostPolicy } from './hosts.js'
import { ServerMetrics } from './metrics.js'
import { EventLog } from './stream/event-log.js'
import { streamRoute } from './stream/route.js'
import { taskSocketRoute } from './task-socket/socket.js'

/** Largest request body by default, in bytes: 1 MiB ({@link ServerOptions.maxBodyBytes}). */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/** Longest synchronous run over HTTP or the live task view by default, in ms ({@link ServerOptions.syncRunTimeoutMs}). */
const DEFAULT_SYNC_RUN_TIMEOUT_MS = 60_000
/** Events kept for clients resuming a stream, by default ({@link ServerOptions.streamBufferEvents}). */
const DEFAULT_STREAM_BUFFER_EVENTS = 10_000
/** Bytes a stream client may have waiting before it is dropped, by default: 4 MiB ({@link ServerOptions.streamMaxBufferedBytes}). */
const DEFAULT_STREAM_MAX_BUFFERED_BYTES = 4 * 1024 * 1024
/** How often a run subscription reads the store by default, in ms ({@link ServerOptions.streamPollIntervalMs}). */
const DEFAULT_STREAM_POLL_INTERVAL_MS = 500

/** Options of {@link createServer}. */
export interface ServerOptions {
  /**
   * Where the app lives, e.g. `/ops/tasks`.
   * @default '' (the root)
   */
  readonly basePath?: string
  /**
   * Who is calling; when given, it alone decides (the built-in users and `token` are not consulted).
   * @default the built-in users' sessions and API tokens, then `token`; everyone is let in while there is no token and no enabled user
   */
  readonly auth?: AuthResolver
  /**
   * Shared secret for the default resolver: at least 16 characters, not all blank (make one
   * with `openssl rand -hex 32`). `undefined` or `''` lets every caller in.
   * @default none
   */
  readonly token?: string
  /**
   * Host names this server answers besides the loopback names (`localhost`, `127.0.0.1`,
   * `[::1]`, any port), and whose pages may post and open WebSockets here. Without a `token`
   * or `auth` resolver, a request for any other `Host` is refused (403): a web page whose
   * name resolves to 127.0.0.1 (DNS rebinding) must not reach the API. Entries are
   * `name` (any port), `name:port`, or `.domain` (the domain and its subdomains); no scheme or
   * path. A host app mounting the server lists the names it is served under.
   * @default [] (loopback only)
   *
   * @example
   * createServer(engine, { allowedHosts: ['ops.example.com', 'ops.internal:8080'] })
   */
  readonly allowedHosts?: readonly string[]
  /**
   * Largest request body, in bytes.
   * @default 1024 * 1024 (1 MiB)
   */
  readonly maxBodyBytes?: number
  /**
   * Longest synchronous run over HTTP or the live task view, in ms.
   * @default 60_000
   */
  readonly syncRunTimeoutMs?: number
  /**
   * Events kept for clients resuming a stream.
   * @default 10_000
   */
  readonly streamBufferEvents?: number
  /**
   * Bytes a stream client may have waiting before it is dropped.
   * @default 4 * 1024 * 1024 (4 MiB)
   */
  readonly streamMaxBufferedBytes?: number
  /**
   * How often a run subscription reads the store for progress made in other processes, in ms.
   * @default 500
   */
  readonly streamPollIntervalMs?: number
  /**
   * Browser origins whose pages may post (POST, PUT, PATCH, DELETE) and open WebSockets here,
   * besides loopback origins and those on `allowedHosts`. Never compared with `Host`, which
   * a rebinding page controls. Requests without an `Origin` (programs, not pages) pass;
   * `Origin: null` is refused.
   * @default []
   *
   * @example
   * createServer(engine, { token, allowedOrigins: ['https://dashboard.example.com'] })
   */
  readonly allowedOrigins?: readonly string[]
  /**
   * Origins whose pages may show the embeddable views (`/admin/embed/runs/:id`, `…/pool`) in a
   * frame: they get `frame-ancestors <origins>` in their CSP. Every other response stays
   * unframeable (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), and so do the embeds while
   * this is empty. Entries are origins (scheme, host, port); a bad one throws a `ValidationError`
   * when the server is built. The embeds need the same credentials as every page: see the
   * README's "Embedding" section for how a framing app authenticates.
   * @default [] (no page may be framed)
   *
   * @example
   * createServer(engine, { allowedFrameAncestors: ['https://app.example.com'] })
   */
  readonly allowedFrameAncestors?: readonly string[]
  /**
   * Receives the server's own errors (500s, failing listeners).
   * @default print to stderr
   */
  readonly onError?: (error: Error) => void
}

/** Every key of {@link ServerOptions}. */
export const SERVER_OPTION_KEYS = optionKeys<ServerOptions>({
  basePath: true,
  auth: true,
  token: true,
  allowedHosts: true,
  maxBodyBytes: true,
  syncRunTimeoutMs: true,
  streamBufferEvents: true,
  streamMaxBufferedBytes: true,
  streamPollIntervalMs: true,
  allowedOrigins: true,
  allowedFrameAncestors: true,
  onError: true,
})

/** What {@link createServer} returns. */
export interface TaskEngineServer {
  /** The Hono app (mount it in a Hono host with `host.route('/', server.app)`, with the same base path). */
  readonly app: Hono<ServerEnv>
  /** The Fetch handler. */
  readonly fetch: (request: Request) => Response | Promise<Response>
  /** A Node `http` request listener, for `http.createServer` or Fastify (`reply.raw`). */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  /**
   * Whether a request URL (path and query, as in `req.url`) is this server's: anything under
   * the base path; without a base path exactly its own routes (`/api` and `/admin` and below,
   * `/metrics`, `/healthz`, `/readyz`), so `/` and every other path stay the host app's.
   * For hosts that hand requests over themselves.
   *
   * @example
   * fastify.addHook('onRequest', (request, reply, done) => {
   *   if (!te.owns(request.raw.url)) return done()
   *   reply.hijack()
   *   te.handler(request.raw, reply.raw)
   * })
   */
  owns(url: string | undefined): boolean
  /**
   * Express/Connect middleware: handles the requests {@link TaskEngineServer.owns} says are
   * ours and passes the rest to `next()`, so the host's routes (and their auth) stay the
   * host's, and a `token` guards only ours.
   * Mounted with a path (`app.use('/ops', te.middleware)`, base path `/ops`) it routes on
   * Express's `req.originalUrl`. Mount it before body parsers (`express.json()`): the app reads
   * the body itself, and answers 500 saying so when a parser consumed it first.
   */
  readonly middleware: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void
  /**
   * Routes WebSocket upgrades of a Node HTTP server to this app (live streams need it): those
   * under the base path, or with no base path this app's own WebSocket routes; other upgrades
   * are left to the host's own listeners.
   */
  injectWebSocket(server: Server): void
  /** Stops streaming: closes every WebSocket and the engine subscription. The engine stays. */
  close(): void
  readonly basePath: string
  readonly metrics: ServerMetrics
}

/** Builds the server for an engine. */
export function createServer(engine: Engine, options: ServerOptions = {}): TaskEngineServer {
  checkOptionKeys(options, SERVER_OPTION_KEYS, 'createServer')
  const basePath = normalizeBasePath(options.basePath ?? '')
  const report = options.onError ?? ((error: Error) => console.error('[taskengine server]', error))
  const tokenSet = hasToken(options.token)
  const auth = options.auth ?? builtInAuth(engine, { token: options.token })
  // Without credentials the name the request was sent to is all that tells a local tool from a rebinding page.
  const checkHost = tokenSet || options.auth !== undefined ? false : async () => (await engine.users.enabledCount()) === 0
  const frameOrigins = frameAncestors(options.allowedFrameAncestors)
  const hosts = hostPolicy({ allowedHosts: options.allowedHosts, allowedOrigins: options.allowedOrigins, checkHost })
  const deps: RouteDeps = { engine, syncRunTimeoutMs: options.syncRunTimeoutMs ?? DEFAULT_SYNC_RUN_TIMEOUT_MS, report, basePath }
  const metrics = new ServerMetrics(engine)
  const log = new EventLog(options.streamBufferEvents ?? DEFAULT_STREAM_BUFFER_EVENTS)
  const unsubscribe = engine.subscribe((event) => {
    if (event.remote !== true) metrics.observe(event)
    log.append(event)
  })
  // Live views here want the runs executing in other processes too.
  const stopObserving = engine.observe()
  const clients = new Set<{ close(): void }>()

  const app = new Hono<ServerEnv>().basePath(basePath)
  const ws = createNodeWebSocket({ app })

  app.use('*', securityHeaders)
  app.onError((error, c) => errorResponse(c, error, report))
  app.notFound((c) => errorResponse(c, new HttpError('ERR_NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), report))

  app.route('/', healthRoutes(engine, report))
  // Before authentication: a browser sent here without credentials should reach the sign-in page, not a 401.
  app.get('/', (c) => c.redirect(`${basePath}/admin`, 302))

  app.use('*', guardHosts(hosts))
  app.use('*', authenticate(auth, `${basePath}/admin`))
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  app.on(
    ['POST', 'PUT', 'PATCH', 'DELETE'],
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new HttpError('ERR_PAYLOAD_TOO_LARGE', `request body too large: at most ${maxBodyBytes} bytes`)
      },
    }),
  )

  app.route('/', metricsRoutes(metrics, { permission: true }))
  // The two WebSockets: live events (stream/) and the live task view (task-socket/).
  const streamLimits = { maxBufferedBytes: options.streamMaxBufferedBytes ?? DEFAULT_STREAM_MAX_BUFFERED_BYTES, maxSubscriptions: 100, pollIntervalMs: options.streamPollIntervalMs ?? DEFAULT_STREAM_POLL_INTERVAL_MS }
  app.get(
    '/api/stream',
    streamRoute(ws.upgradeWebSocket, {
      engine,
      log,
      limits: streamLimits,
      onOverflow: () => metrics.overflow.inc({ stream: 'api' }),
      track: (session, socket) => clients.add(closer(session, socket)),
    }),
  )
  app.get('/admin/task/:key/start', taskSocketRoute(ws.upgradeWebSocket, { engine, report, timeoutMs: deps.syncRunTimeoutMs, track: (socket) => clients.add(closer({ close: () => undefined }, socket)) }))
  // The admin UI (admin/routes.tsx maps its URLs), and the JSON API, one file per resource (api/).
  app.route('/admin', adminRoutes({ engine, base: basePath, auth, syncRunTimeoutMs: deps.syncRunTimeoutMs, report, token: options.token, frameAncestors: frameOrigins }))
  for (const routes of [taskRoutes, runRoutes, poolRoutes, workerRoutes, queueRoutes, statsRoutes, scheduleRoutes, settingsRoutes, userRoutes, auditRoutes, openApiRoutes]) app.route('/api', routes(deps))

  const handler = getRequestListener(app.fetch)
  const owns = (url: string | undefined): boolean => ownsPath(basePath, pathOf(url))
  const ownUpgrade = (url: string | undefined): boolean => {
    if (basePath !== '') return owns(url)
    const path = pathOf(url)
    return path === '/api/stream' || /^\/admin\/task\/[^/]+\/start$/.test(path)
  }
  return {
    app,
    fetch: app.fetch,
    handler: (req, res) => void handler(req, res),
    owns,
    middleware(req, res, next) {
      // Express strips its mount path from req.url (app.use('/ops', …)); the app routes on the full path.
      const original = (req as { originalUrl?: unknown }).originalUrl
      const url = basePath !== '' && typeof original === 'string' && owns(original) ? original : req.url
      if (!owns(url)) return next()
      req.url = url ?? '/'
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.readableEnded) {
        // A body parser of the host read the body already; reading it again would see nothing.
        report(new Error(`${req.method} ${req.url}: the request body was read before taskengine got it; mount te.middleware before body parsers such as express.json()`))
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
        res.end(JSON.stringify({ error: { code: 'ERR_BODY_CONSUMED', message: 'the request body was read by the host application before taskengine got it: mount taskengine before body parsers' } }))
        return
      }
      void handler(req, res)
    },
    injectWebSocket(server) {
      // @hono/node-ws answers every upgrade it sees (404 for paths it does not serve), so it
      // only sees ours: the host's own WebSockets on the same server keep working.
      const ours = new EventEmitter()
      ws.injectWebSocket(ours as unknown as Server)
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        // Alone on the server, it answers every upgrade (a 404 rather than a socket left hanging).
        if (ownUpgrade(request.url) || server.listenerCount('upgrade') === 1) ours.emit('upgrade', request, socket, head)
      })
    },
    close() {
      unsubscribe()
      stopObserving()
      for (const client of clients) client.close()
      clients.clear()
      ;(ws.wss as unknown as { close(): void }).close()
    },
    basePath,
    metrics,
  }
}

function closer(client: { close(): void }, socket: { close(code?: number, reason?: string): void }): { close(): void } {
  return {
    close() {
      client.close()
      socket.close(1001, 'server shutting down')
    },
  }
}

/**
 * The paths of a server without a base path: its own routes and nothing else, so that a host
 * app mounting it at the root keeps `/` and every other path of its own.
 */
const ROOT_PREFIXES = ['/api', '/admin'] as const
const ROOT_PATHS = ['/metrics', '/healthz', '/readyz'] as const

/** Whether a path is the server's: under its base path, or (without one) one of its own routes. */
function ownsPath(basePath: string, path: string): boolean {
  if (basePath !== '') return path === basePath || path.startsWith(`${basePath}/`)
  return ROOT_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)) || (ROOT_PATHS as readonly string[]).includes(path)
}

function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?')[0]!
}

function normalizeBasePath(path: string): string {
  if (path === '' || path === '/') return ''
  const withSlash = path.startsWith('/') ? path : `/${path}`
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash
}

/** Security headers on every response. The JSON API needs no scripts, frames or styles at all. */
const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next()
  const h = c.res.headers
  h.set('x-content-type-options', 'nosniff')
  // An embeddable view allowed in frames says so in its CSP (frame-ancestors with origins): DENY would block it.
  if (!/frame-ancestors (?!'none')/.test(h.get('content-security-policy') ?? '')) h.set('x-frame-options', 'DENY')
  if (!h.has('referrer-policy')) h.set('referrer-policy', 'no-referrer')
  h.set('cross-origin-opener-policy', 'same-origin')
  h.set('cross-origin-resource-policy', 'same-origin')
  if (!h.has('content-security-policy')) h.set('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
  h.set('cache-control', h.get('cache-control') ?? 'no-store')
}
