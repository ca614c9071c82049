/**
 * Pools, the caller's own runs (for a header menu), and live workers.
 */
import { Hono } from 'hono'
import { ACTIVE_STATES } from '../../store/types.js'
import { checkQuery, identity, readScope, requirePermission, type RouteDeps, type ServerEnv } from '../context.js'
import { respond } from '../formats.js'
import { notFound } from '../http-errors.js'
import { RUN_COLUMNS, runRow } from './runs.js'

/** The CSV columns of a worker (lists become `a; b`). */
const WORKER_COLUMNS = ['id', 'host', 'pid', 'concurrency', 'busy', 'queues', 'tasks', 'startedAt', 'heartbeatAt', 'running', 'observer'] as const

export function systemRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()

  routes.get('/pools/:id', async (c) => {
    checkQuery(c)
    const scope = readScope(c)
    const report = await engine.getPool(c.req.param('id'))
    if (report === undefined) throw notFound(`unknown pool "${c.req.param('id')}"`)
    const runs = scope.all ? report.runs : report.runs.filter((r) => r.createdBy === scope.id)
    return respond(c, { ...report, runs }, { name: `pool-${report.pool.id}`, rows: () => runs.map(runRow), columns: RUN_COLUMNS })
  })

  routes.get('/me/runs', async (c) => {
    checkQuery(c)
    const me = identity(c)
    readScope(c)
    const [active, recent] = await Promise.all([
      engine.listRuns({ createdBy: me.id, status: [...ACTIVE_STATES], pageSize: 20 }),
      engine.listRuns({ createdBy: me.id, pageSize: 10 }),
    ])
    // As rows, each run once: the recent ones include active ones.
    const activeIds = new Set(active.data.map((r) => r.id))
    const rows = [...active.data, ...recent.data.filter((r) => !activeIds.has(r.id))].map(runRow)
    return respond(c, { user: me.id, active: active.data, activeTotal: active.total, recent: recent.data }, { name: 'my-runs', rows: () => rows, columns: RUN_COLUMNS })
  })

  routes.get('/workers', async (c) => {
    checkQuery(c)
    requirePermission(c, 'workers:read')
    return respond(c, await engine.workers(), { name: 'workers', columns: WORKER_COLUMNS })
  })

  return routes
}
