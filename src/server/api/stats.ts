/**
 * Stats: run counts by status and queue, throughput over the last hour, and the tasks with
 * pending runs no live worker serves (`unserved`); history over the
 * last hour, day or week (`/api/history`, from the per-minute rollups).
 */
import { Hono } from 'hono'
import { readScope, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { checkQuery, QueryReader } from '../query.js'
import { parseHistoryRange } from '../../engine/history/history.js'
import type { RouteDeps } from './deps.js'

export function statsRoutes({ engine }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()

  routes.get('/stats', async (c) => {
    checkQuery(c)
    readScope(c)
    const [stats, throughput, unserved] = await Promise.all([engine.stats(), engine.throughput(), engine.unserved()])
    return respond(c, { ...stats, throughput, unserved }, { name: 'stats', rows: () => throughput, columns: ['start', 'succeeded', 'failed', 'cancelled'] })
  })

  routes.get('/history', async (c) => {
    const query = new QueryReader(c)
    const range = parseHistoryRange(query.string('range'))
    const task = query.string('task')
    query.done()
    readScope(c)
    const history = await engine.history({ range, ...(task === undefined ? {} : { task }), totals: true })
    return respond(c, history, { name: 'history', rows: () => history.buckets, columns: ['start', 'succeeded', 'failed', 'cancelled'] })
  })

  return routes
}
