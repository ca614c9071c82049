/**
 * `GET /metrics`: the Prometheus text format. Behind `metrics:read` on the server; open on the
 * metrics port (`serveMetrics`), which answers loopback names only.
 */
import { Hono } from 'hono'
import { requirePermission, type ServerEnv } from '../caller.js'
import type { ServerMetrics } from '../metrics.js'

export function metricsRoutes(metrics: ServerMetrics, options: { readonly permission: boolean }): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()
  routes.get('/metrics', async (c) => {
    if (options.permission) requirePermission(c, 'metrics:read')
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType })
  })
  return routes
}
