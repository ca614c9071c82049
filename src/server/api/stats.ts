/**
 * Stats: run counts by status and queue, and throughput over the last hour.
 */
import { Hono } from 'hono'
import { readScope, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'

export function statsRoutes({ engine }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()

  routes.get('/stats', async (c) => {
    checkQuery(c)
    readScope(c)
    const [stats, throughput] = await Promise.all([engine.stats(), engine.throughput()])
    return respond(c, { ...stats, throughput }, { name: 'stats', rows: () => throughput, columns: ['start', 'succeeded', 'failed', 'cancelled'] })
  })

  return routes
}
