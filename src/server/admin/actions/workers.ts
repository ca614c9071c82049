/**
 * What the Workers page does: quiet, resume or stop a worker on any machine sharing the store;
 * back to the page with a notice (a dead, unknown or stopping worker: the reason, nothing changed).
 */
import type { Handler } from 'hono'
import { ConflictError, NotFoundError } from '../../../errors.js'
import { checkWorkerCommand } from '../../../engine/durable/worker-commands.js'
import { requirePermission, type ServerEnv } from '../../caller.js'
import { recordAction } from '../../audit.js'
import { checkCsrf } from '../csrf.js'
import { withNotice } from '../notices.js'
import type { AdminDeps } from '../page.js'

export function workerActions(deps: AdminDeps): Record<'command', Handler<ServerEnv>> {
  const { engine } = deps
  const workers = `${deps.base}/admin/workers`
  return {
    async command(c) {
      const who = requirePermission(c, 'workers:write')
      const body = await c.req.parseBody()
      checkCsrf(c, body)
      const type = checkWorkerCommand(c.req.param('command'))
      const id = c.req.param('id') ?? ''
      try {
        await engine.commandWorker(id, type, { by: who.id })
        await recordAction(c, deps, { action: `worker.${type}`, target: id })
      } catch (error) {
        if (error instanceof ConflictError || error instanceof NotFoundError) return c.redirect(withNotice(workers, 'conflict', { message: error.message }), 303)
        throw error
      }
      return c.redirect(withNotice(workers, `worker-${type}`, { name: id }), 303)
    },
  }
}
