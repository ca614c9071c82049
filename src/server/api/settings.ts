/**
 * Runtime settings: read them (with `?describe=true`, their descriptions), change them, and
 * the log backends to choose from.
 */
import { Hono } from 'hono'
import { requirePermission, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { jsonBody } from '../json-body.js'
import { QueryReader, checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { settingsChange } from '../../engine/access/changes.js'
import { recordAction } from '../audit.js'

export function settingsRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()

  routes.get('/settings', async (c) => {
    requirePermission(c, 'settings:read')
    const query = new QueryReader(c)
    const wantDescribed = query.bool('describe') ?? false
    query.done()
    return respond(c, wantDescribed ? await engine.settings.describe() : await engine.settings.get(), { name: 'settings' })
  })

  routes.put('/settings', async (c) => {
    checkQuery(c)
    requirePermission(c, 'settings:write')
    const patch = await jsonBody(c)
    const before = await engine.settings.get()
    const after = await engine.settings.update(patch)
    await recordAction(c, deps, settingsChange(before, after))
    return c.json(after)
  })

  routes.get('/settings/log-backends', (c) => {
    checkQuery(c)
    requirePermission(c, 'settings:read')
    return respond(c, engine.logBackends(), { name: 'log-backends' })
  })

  return routes
}
