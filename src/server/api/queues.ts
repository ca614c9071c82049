/**
 * Queues and flow control: every queue the engine knows of, idle ones included, with its limits
 * across workers (concurrency, rate), paused state and usage; changing a queue's or a task's
 * limits live (`PUT /api/queues/:name`, `PUT /api/tasks/:key` in `tasks.ts`); and the whole flow
 * report, tasks with limits included (`GET /api/flow`).
 */
import { Hono } from 'hono'
import type { FlowReport, QueueInfo } from '../../engine/flow/report.js'
import { readScope, requirePermission, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { jsonBody } from '../json-body.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { limitsChange } from '../../engine/access/changes.js'
import { recordAction } from '../audit.js'

/** The CSV columns of a queue (lists become `a; b`, the rate `max/perMs`). */
const QUEUE_COLUMNS = ['name', 'concurrency', 'rate', 'paused', 'tasks', 'pending', 'running', 'startsInWindow', 'oldestPendingAt', 'nextDueAt'] as const

/** The CSV columns of a task with limits in the flow report. */
const TASK_FLOW_COLUMNS = ['task', 'queue', 'concurrency', 'rate', 'groupConcurrency', 'paused', 'pending', 'running', 'startsInWindow', 'groupCount', 'groups'] as const

/** A rate limit as one CSV cell: `100/60000` (starts per ms), or empty. */
const rateCell = (rate: { max: number; perMs: number } | null): string => (rate === null ? '' : `${rate.max}/${rate.perMs}`)

export function queueRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()

  routes.get('/queues', async (c) => {
    checkQuery(c)
    readScope(c)
    return respond(c, await engine.queues(), { name: 'queues', rows: (queues) => (queues as QueueInfo[]).map((q) => ({ ...q, rate: rateCell(q.rate) })), columns: QUEUE_COLUMNS })
  })

  // Changes a queue's limits on every worker (within a heartbeat) and stores them: the body is
  // the patch; `null` removes a limit; a bad key or value is a 400 naming it, changing nothing.
  routes.put('/queues/:name', async (c) => {
    checkQuery(c)
    requirePermission(c, 'settings:write')
    const name = c.req.param('name')
    const patch = await jsonBody(c)
    const before = (await engine.queues()).find((q) => q.name === name)
    const limits = await engine.updateQueue(name, patch)
    await recordAction(c, deps, limitsChange('queue', name, before, limits, patch))
    return c.json({ name, ...limits })
  })

  routes.get('/flow', async (c) => {
    checkQuery(c)
    readScope(c)
    const { flow } = await engine.stats()
    return respond(c, flow, {
      name: 'flow',
      rows: (report) =>
        (report as FlowReport).tasks.map((t) => ({ ...t, rate: rateCell(t.rate), groups: t.groups.map((g) => `${g.key}: ${g.pending} pending, ${g.running} running`) })),
      columns: TASK_FLOW_COLUMNS,
    })
  })

  return routes
}
