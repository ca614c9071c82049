/**
 * Pools: one pool's aggregate status over its tree, with the runs the caller may read.
 */
import { Hono } from 'hono'
import { mayRead, readScope, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { notFound } from '../http-errors.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { RUN_COLUMNS, runRow } from './run-rows.js'

export function poolRoutes({ engine }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()

  routes.get('/pools/:id', async (c) => {
    checkQuery(c)
    const scope = readScope(c)
    const report = await engine.getPool(c.req.param('id'))
    if (report === undefined) throw notFound(`unknown pool "${c.req.param('id')}"`)
    const runs = report.runs.filter((r) => mayRead(scope, r))
    return respond(c, { ...report, runs }, { name: `pool-${report.pool.id}`, rows: () => runs.map(runRow), columns: RUN_COLUMNS })
  })

  return routes
}
