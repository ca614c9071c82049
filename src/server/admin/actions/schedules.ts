/**
 * What the schedule pages do: switch a schedule on or off for every process, and trigger it
 * now; back to the page the form came from, with a notice.
 */
import type { Handler } from 'hono'
import { ConflictError, ValidationError, describeValue } from '../../../errors.js'
import { requirePermission, type ServerEnv } from '../../caller.js'
import { recordAction } from '../../audit.js'
import { checkCsrf } from '../csrf.js'
import { backTo, withNotice } from '../notices.js'
import type { AdminDeps } from '../page.js'

export function scheduleActions(deps: AdminDeps): Record<'toggle' | 'trigger', Handler<ServerEnv>> {
  const { engine } = deps
  const admin = `${deps.base}/admin`
  return {
    async toggle(c) {
      requirePermission(c, 'schedules:write')
      const body = await c.req.parseBody()
      checkCsrf(c, body)
      const enabled = body.enabled === 'true' ? true : body.enabled === 'false' ? false : undefined
      if (enabled === undefined) throw new ValidationError(`enabled: expected "true" or "false", got ${describeValue(body.enabled)}`)
      const before = await engine.getSchedule(c.req.param('id') ?? '')
      const schedule = await engine.toggleSchedule(before.id, enabled)
      await recordAction(c, deps, { action: 'schedule.toggle', target: before.id, before: { enabled: before.enabled }, after: { enabled: schedule.enabled } })
      return c.redirect(withNotice(backTo(body, admin, `${admin}/schedules`), enabled ? 'schedule-on' : 'schedule-off', { name: schedule.name }), 303)
    },

    async trigger(c) {
      const who = requirePermission(c, 'schedules:write')
      const body = await c.req.parseBody()
      checkCsrf(c, body)
      try {
        const run = await engine.triggerSchedule(c.req.param('id') ?? '', { createdBy: who.id })
        await recordAction(c, deps, { action: 'schedule.trigger', target: c.req.param('id') ?? '', details: { run: run.id, task: run.task } })
        return c.redirect(withNotice(`${admin}/runs/${run.id}`, 'triggered'), 303)
      } catch (error) {
        if (error instanceof ConflictError) return c.redirect(withNotice(backTo(body, admin, `${admin}/schedules`), 'conflict', { message: error.message }), 303)
        throw error
      }
    },
  }
}
