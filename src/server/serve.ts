/**
 * Standalone serving: an HTTP server (with WebSockets) for an engine, safe by default —
 * loopback needs no credentials; any other address requires a token, or the server refuses
 * to start.
 */
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Engine } from '../engine/engine.js'
import { ValidationError } from '../errors.js'
import { createServer, type ServerOptions, type TaskEngineServer } from './server.js'

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

/** Whether an address is loopback only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)
}

/** Listens on `host:port` and serves the engine. */
export async function serve(engine: Engine, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 8080
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ValidationError(`port: expected 0–65535, got ${port}`)
  const hasToken = options.token !== undefined && options.token !== ''
  if (!isLoopback(host) && !hasToken && options.auth === undefined) {
    throw new ValidationError(`refusing to listen on ${host} without a token: anyone who can reach it could run tasks. Set --token (or TASKENGINE_TOKEN), or listen on 127.0.0.1`)
  }
  const app = createServer(engine, options)
  const server = createHttpServer(app.handler)
  app.injectWebSocket(server)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shownHost}:${address.port}${app.basePath}`,
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
