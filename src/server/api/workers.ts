/**
 * Workers: every live process sharing the store (workers and servers), with what each runs and
 * whether it is quiet; with `?dead=true`, the workers whose heartbeat stopped in the last day and
 * what became of the runs they held. `POST /api/workers/:id/quiet|resume|stop` steers one, on any
 * machine, within a heartbeat.
 */
import { Hono } from 'hono'
import type { DeadWorker } from '../../engine/durable/dead-workers.js'
import { ValidationError } from '../../errors.js'
import { requirePermission, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { jsonBody } from '../json-body.js'
import { QueryReader, checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { recordAction } from '../audit.js'

/** The CSV columns of a worker (lists become `a; b`). */
const WORKER_COLUMNS = ['id', 'host', 'pid', 'concurrency', 'busy', 'queues', 'tasks', 'startedAt', 'heartbeatAt', 'running', 'observer', 'state', 'command', 'commandBy', 'commandAt'] as const

/** The CSV columns of a dead worker: each held run as `id: fate`. */
const DEAD_COLUMNS = ['id', 'host', 'pid', 'concurrency', 'queues', 'startedAt', 'heartbeatAt', 'heldTotal', 'held'] as const

export function workerRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()

  routes.get('/workers', async (c) => {
    requirePermission(c, 'workers:read')
    const query = new QueryReader(c)
    const dead = query.bool('dead') ?? false
    query.done()
    if (dead) {
      return respond(c, await engine.deadWorkers(), {
        name: 'dead-workers',
        rows: (list) =>
          (list as DeadWorker[]).map((w) => ({
            id: w.id,
            host: w.host,
            pid: w.pid,
            concurrency: w.concurrency,
            queues: w.queues,
            startedAt: w.startedAt,
            heartbeatAt: w.heartbeatAt,
            heldTotal: w.heldTotal,
            held: w.held.map((h) => `${h.id}: ${h.fate}${h.nowOn === null ? '' : ` on ${h.nowOn}`}`),
          })),
        columns: DEAD_COLUMNS,
      })
    }
    const workers = await engine.workers()
    return respond(c, workers, {
      name: 'workers',
      rows: (list) => (list as typeof workers).map((w) => ({ ...w, command: w.command?.type ?? '', commandBy: w.command?.by ?? '', commandAt: w.command?.at.toISOString() ?? '' })),
      columns: WORKER_COLUMNS,
    })
  })

  // quiet: no more claims, held runs finish; resume: claim again; stop: stop gracefully.
  routes.post('/workers/:id/:command', async (c) => {
    checkQuery(c)
    const who = requirePermission(c, 'workers:write')
    const body = await jsonBody(c)
    if (Object.keys(body).length > 0) throw new ValidationError('a worker command takes no body: the command is in the path (quiet, resume or stop)')
    const command = c.req.param('command') as 'quiet'
    const worker = await engine.commandWorker(c.req.param('id'), command, { by: who.id })
    await recordAction(c, deps, { action: `worker.${command}`, target: c.req.param('id') })
    return c.json(worker)
  })

  return routes
}
