/**
 * Workers: every live process sharing the store (workers and servers), with what each runs.
 */
import { Hono } from 'hono'
import { requirePermission, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'

/** The CSV columns of a worker (lists become `a; b`). */
const WORKER_COLUMNS = ['id', 'host', 'pid', 'concurrency', 'busy', 'queues', 'tasks', 'startedAt', 'heartbeatAt', 'running', 'observer'] as const

export function workerRoutes({ engine }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()

  routes.get('/workers', async (c) => {
    checkQuery(c)
    requirePermission(c, 'workers:read')
    return respond(c, await engine.workers(), { name: 'workers', columns: WORKER_COLUMNS })
  })

  return routes
}
