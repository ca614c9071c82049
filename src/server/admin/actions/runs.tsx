/**
 * What the runs pages do: export every matching run (CSV or JSON), bulk cancel / retry /
 * delete (confirmed in the page, or on a page of its own without the script), compare two
 * ticked runs (on to the diff page), and cancel,
 * retry or delete one run. Conflicts (a run no longer in a state that allows it) come back as a
 * notice, not an error page.
 */
import type { Context, Handler } from 'hono'
import { ConflictError, TaskEngineError } from '../../../errors.js'
import type { Run } from '../../../store/types.js'
import { runRow } from '../../api/run-rows.js'
import { runChange } from '../../../engine/access/changes.js'
import { recordAction } from '../../audit.js'
import { identity, mayRead, readScope, requirePermission, type ServerEnv } from '../../caller.js'
import { askedFormat, respond } from '../../formats.js'
import { HttpError, notFound } from '../../http-errors.js'
import { checkCsrf } from '../csrf.js'
import { safeNext, withNotice } from '../notices.js'
import { pageContext, render, type AdminDeps } from '../page.js'
import { BulkConfirmPage } from '../pages/bulk-confirm.js'
import { diffHref } from '../pages/run-diff.js'
import { filterParams, parseFilterParams } from '../run-filter.js'

/** The most runs an export holds. */
const EXPORT_LIMIT = 100_000
/** The most runs one bulk action changes. */
const BULK_LIMIT = 500

export function runActions(deps: AdminDeps): Record<'export' | 'bulk' | 'compare' | 'cancel' | 'retry' | 'delete', Handler<ServerEnv>> {
  const { engine } = deps
  const admin = `${deps.base}/admin`

  /** Cancel, retry or delete the run in the path, back to its page (or the list) with a notice. */
  const steer =
    (action: 'cancel' | 'retry' | 'delete'): Handler<ServerEnv> =>
    async (c) => {
      requirePermission(c, `runs:${action}`)
      checkCsrf(c, await c.req.parseBody())
      const scope = readScope(c)
      const id = c.req.param('id') ?? ''
      const run = await engine.getRun(id)
      if (run === undefined || !mayRead(scope, run)) throw notFound(`unknown run "${id}"`)
      try {
        await recordAction(c, deps, runChange(`run.${action}`, run, await steerRun(c, action, run)))
      } catch (error) {
        if (error instanceof ConflictError) return c.redirect(withNotice(`${admin}/runs/${id}`, 'conflict', { message: error.message }), 303)
        throw error
      }
      return c.redirect(action === 'delete' ? withNotice(`${admin}/runs`, 'deleted') : withNotice(`${admin}/runs/${id}`, action === 'cancel' ? 'cancelled' : 'retried'), 303)
    }

  /** Applies one action to one run as the caller. */
  const steerRun = (c: Context<ServerEnv>, action: 'cancel' | 'retry' | 'delete', run: Run): Promise<Run> =>
    action === 'cancel' ? engine.cancel(run.id, `cancelled by ${identity(c).id}`, { by: identity(c).id }) : action === 'retry' ? engine.retry(run.id) : engine.delete(run.id)

  return {
    async export(c) {
      const scope = readScope(c)
      const params = filterParams(c)
      const all: Run[] = []
      // Every matching run, newest first, up to 100,000: a thousand at a time, each page starting
      // after the last run of the one before (no offset to skip, no count to repeat).
      const parsed = parseFilterParams(params)
      if (parsed.issues.length > 0) throw new HttpError('ERR_VALIDATION', `invalid filter: ${parsed.issues.map((i) => i.message).join('; ')}`, parsed.issues)
      const base = { ...parsed.filter, page: 1, pageSize: 1000 }
      while (all.length < EXPORT_LIMIT) {
        const filter = { ...base, count: false, ...(all.length > 0 ? { before: all[all.length - 1]!.id } : {}) }
        const batch = await engine.listRuns(scope.all ? filter : { ...filter, createdBy: scope.id })
        all.push(...batch.data)
        if (batch.data.length < 1000) break
      }
      return respond(c, all, { name: 'runs', format: askedFormat(c)?.value.toLowerCase() === 'json' ? 'json' : 'csv', download: true, rows: (d) => (d as Run[]).map(runRow) })
    },

    async bulk(c) {
      const body = await c.req.parseBody({ all: true })
      checkCsrf(c, body)
      const action = typeof body.action === 'string' ? body.action : ''
      const ids = (Array.isArray(body.id) ? body.id : body.id === undefined ? [] : [body.id]).filter((v): v is string => typeof v === 'string')
      const returnTo = safeNext(typeof body['te:return'] === 'string' ? body['te:return'] : undefined, `${admin}/runs`)
      if (!['cancel', 'retry', 'delete'].includes(action)) throw new HttpError('ERR_VALIDATION', `action: expected cancel, retry or delete, got "${action}"`)
      requirePermission(c, `runs:${action as 'cancel'}`)
      if (ids.length === 0) return c.redirect(withNotice(returnTo, 'none-selected'), 303)
      const scope = readScope(c)
      const runs = (await Promise.all(ids.slice(0, BULK_LIMIT).map((id) => engine.getRun(id)))).filter((r): r is Run => r !== undefined && mayRead(scope, r))
      if (body['te:confirm'] !== 'yes') return render(c, <BulkConfirmPage page={pageContext(c, deps)} action={action} runs={runs} returnTo={returnTo} />)
      let done = 0
      let skipped = 0
      for (const run of runs) {
        try {
          await recordAction(c, deps, runChange(`run.${action}`, run, await steerRun(c, action as 'cancel', run), { selected: runs.length }))
          done++
        } catch (error) {
          if (error instanceof ConflictError || (error instanceof TaskEngineError && error.code === 'ERR_NOT_FOUND')) skipped++
          else throw error
        }
      }
      return c.redirect(withNotice(returnTo, 'bulk', { action, done: String(done), skipped: String(skipped) }), 303)
    },

    /**
     * The runs list's Compare button (the bulk form, posted without the script too): exactly two
     * ticked runs go on to their diff page; any other number goes back with a notice. Reading
     * only, so the caller needs to read runs, not to change them.
     */
    async compare(c) {
      readScope(c)
      const body = await c.req.parseBody({ all: true })
      checkCsrf(c, body)
      const ids = (Array.isArray(body.id) ? body.id : body.id === undefined ? [] : [body.id]).filter((v): v is string => typeof v === 'string')
      const returnTo = safeNext(typeof body['te:return'] === 'string' ? body['te:return'] : undefined, `${admin}/runs`)
      if (ids.length !== 2) return c.redirect(withNotice(returnTo, 'compare-two', { done: String(ids.length) }), 303)
      // Ids are UUIDv7s, in creation order: the older run is A, so the newer one's changes read as added.
      const [older, newer] = [...ids].sort()
      return c.redirect(diffHref(admin, older!, newer!), 303)
    },

    cancel: steer('cancel'),
    retry: steer('retry'),
    delete: steer('delete'),
  }
}
