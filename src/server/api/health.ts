/**
 * Liveness and readiness (`/healthz`, `/readyz`), always JSON: no credentials, nothing
 * sensitive. Readiness reads the settings (one small row set), not the run counts: probes come
 * often, and counting runs on a large PostgreSQL table is not cheap. Mounted ahead of
 * authentication by `createServer`, and on the metrics port by `serveMetrics`.
 */
import { Hono } from 'hono'
import type { Engine } from '../../engine/engine.js'
import { coerceError } from '../../errors.js'
import type { ServerEnv } from '../caller.js'

export function healthRoutes(engine: Engine, report: (error: Error) => void): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()
  routes.get('/healthz', (c) => c.json({ status: 'ok' }))
  routes.get('/readyz', async (c) => {
    try {
      await (await engine.store()).getSettings()
      return c.json({ status: 'ready' })
    } catch (error) {
      report(coerceError(error))
      return c.json({ status: 'unavailable', error: 'the store is not reachable' }, 503)
    }
  })
  return routes
}
