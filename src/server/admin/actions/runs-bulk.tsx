/**
 * Bulk actions on every run matching the runs list's filter: a preview page with the count and
 * a sample (`POST /runs/bulk/preview`), the confirmed start of a bulk job (`POST
 * /runs/bulk/start`, then its page), and stopping one (`POST /runs/bulk/:id/cancel`). The filter
 * travels in the URL and is read by the API's rules; an empty filter must be confirmed as every
 * run.
 */
import type { Handler } from 'hono'
import { BULK_ACTIONS, type BulkAction, type RunFilter } from '../../../store/types.js'
import { identity, mayRead, readScope, requirePermission, type ServerContext, type ServerEnv } from '../../caller.js'
import { HttpError, notFound } from '../../http-errors.js'
import { recordAction } from '../../audit.js'
import { checkCsrf } from '../csrf.js'
import { pageContext, render, type AdminDeps } from '../page.js'
import { BulkFilterConfirmPage } from '../pages/bulk-confirm.js'
import { filterParams, parseFilterParams } from '../run-filter.js'

export function runBulkActions(deps: AdminDeps): Record<'preview' | 'start' | 'cancel', Handler<ServerEnv>> {
  const { engine } = deps
  const admin = `${deps.base}/admin`

  /** The action and filter of a bulk form, checked; the caller's own runs only when it reads only those. */
  const read = async (c: ServerContext): Promise<{ action: BulkAction; filter: RunFilter; body: Record<string, unknown> }> => {
    const body = await c.req.parseBody()
    checkCsrf(c, body)
    const action = body.action as BulkAction
    if (!BULK_ACTIONS.includes(action)) throw new HttpError('ERR_VALIDATION', `action: expected cancel, retry or delete, got ${JSON.stringify(typeof body.action === 'string' ? body.action : '')}`)
    requirePermission(c, `runs:${action}`)
    const { filter, issues } = parseFilterParams(filterParams(c))
    if (issues.length > 0) throw new HttpError('ERR_VALIDATION', `invalid filter: ${issues.map((i) => i.message).join('; ')}`, issues)
    const scope = readScope(c)
    return { action, filter: scope.all ? filter : { ...filter, createdBy: scope.id }, body }
  }

  return {
    async preview(c) {
      const { action, filter } = await read(c)
      const preview = await engine.bulk.preview(action, filter)
      return render(c, <BulkFilterConfirmPage page={pageContext(c, deps)} action={action} count={preview.count} sample={preview.sample} params={filterParams(c)} />)
    },

    async start(c) {
      const { action, filter, body } = await read(c)
      if (Object.keys(filterParams(c)).length === 0 && body['te:every-run'] !== 'yes') {
        throw new HttpError('ERR_VALIDATION', 'te:every-run: no filter given, so this would act on every run; confirm with te:every-run=yes')
      }
      const job = await engine.bulk.start(action, filter, identity(c).id)
      await recordAction(c, deps, { action: `bulk.${action}`, target: job.id, details: { filter: filterParams(c), count: job.total } })
      return c.redirect(`${admin}/runs/bulk/${job.id}`, 303)
    },

    async cancel(c) {
      checkCsrf(c, await c.req.parseBody())
      const scope = readScope(c)
      const id = c.req.param('id') ?? ''
      const job = await engine.bulk.get(id)
      if (job === undefined || !mayRead(scope, job)) throw notFound(`unknown bulk job "${id}"`)
      requirePermission(c, `runs:${job.action}`)
      const after = await engine.bulk.cancel(id)
      await recordAction(c, deps, { action: 'bulk.stop', target: id, before: { state: job.state, done: job.done }, after: { state: after.state, done: after.done, skipped: after.skipped } })
      return c.redirect(`${admin}/runs/bulk/${id}`, 303)
    },
  }
}
