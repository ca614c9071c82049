/**
 * taskengine/server — the HTTP API, WebSocket streams, metrics, health checks and the admin UI.
 */
export { createServer } from './server.js'
export type { ServerOptions, TaskEngineServer } from './server.js'
export { serve, serveMetrics } from './serve.js'
export { isLoopback } from './hosts.js'
export type { MetricsServeOptions, RunningMetrics, RunningServer, ServeOptions } from './serve.js'
export type { ServerMetrics } from './metrics.js'
export { tokenAuth, can, requestToken, PERMISSIONS } from './auth.js'
export type { AuthResolver, Identity, Permission, TokenAuthOptions } from './auth.js'
export { FORMATS, serialize, toCsv } from './formats.js'
export type { Format } from './formats.js'
export { HttpError } from './http-errors.js'
export type { ErrorBody } from './http-errors.js'
export { openApiDocument } from './api/openapi.js'
