/**
 * Queues: every queue the engine knows of, idle ones included, with its limit across workers and
 * what is pending and running now.
 */
import { Hono } from 'hono'
import { readScope, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'

/** The CSV columns of a queue (lists become `a; b`). */
const QUEUE_COLUMNS = ['name', 'concurrency', 'tasks', 'pending', 'running', 'oldestPendingAt', 'nextDueAt'] as const

export function queueRoutes({ engine }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()

  routes.get('/queues', async (c) => {
    checkQuery(c)
    readScope(c)
    return respond(c, await engine.queues(), { name: 'queues', columns: QUEUE_COLUMNS })
  })

  return routes
}
