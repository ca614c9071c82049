/**
 * The admin UI at `/admin`, every URL in one map: server-rendered pages (hono/jsx), usable
 * without JavaScript; the client script adds live updates. Each page is a loader plus a view
 * (`pages/`), and its data also answers `?format=json|csv|xml|yaml|debug` (or an Accept header
 * asking for one of them). State changes are POSTs with a CSRF token (`actions/`); GETs never
 * change state.
 */
import { Hono } from 'hono'
import type { ServerEnv } from '../caller.js'
import { queueActions } from './actions/queues.js'
import { runActions } from './actions/runs.js'
import { runBulkActions } from './actions/runs-bulk.js'
import { scheduleActions } from './actions/schedules.js'
import { settingsActions } from './actions/settings.js'
import { auditPage } from './pages/audit.js'
import { userActions } from './actions/users.js'
import { usersPage } from './pages/users.js'
import { signInActions } from './actions/sign-in.js'
import { taskActions } from './actions/tasks.js'
import { workerActions } from './actions/workers.js'
import { serveModule, serveStylesheet } from './assets.js'
import { adminErrorHandler, adminNotFound } from './error-page.js'
import { showPage, type AdminDeps } from './page.js'
import { overviewPage } from './pages/overview.js'
import { queuesPage } from './pages/queues.js'
import { runPage } from './pages/run.js'
import { poolViewFragment } from './pages/pool-view.js'
import { embedRoutes } from './pages/embed.js'
import { runDiffPage } from './pages/run-diff.js'
import { bulkJobPage } from './pages/bulk-job.js'
import { runsPage } from './pages/runs.js'
import { schedulePage } from './pages/schedule.js'
import { schedulesPage } from './pages/schedules.js'
import { settingsPage } from './pages/settings.js'
import { taskPage } from './pages/task.js'
import { tasksPage } from './pages/tasks.js'
import { workersPage } from './pages/workers.js'

export type { AdminDeps } from './page.js'

/** Pages may run scripts and styles from this server only: no inline code at all. */
export const ADMIN_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/** Builds the admin routes (mounted at `/admin` under the base path). */
export function adminRoutes(deps: AdminDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()
  const signIn = signInActions(deps)
  const tasks = taskActions(deps)
  const runs = runActions(deps)
  const bulk = runBulkActions(deps)
  const schedules = scheduleActions(deps)
  const settings = settingsActions(deps)
  const flow = queueActions(deps)
  const workers = workerActions(deps)
  const users = userActions(deps)
  const embed = embedRoutes(deps, ADMIN_CSP, deps.frameAncestors ?? [])

  // Errors as pages in the layout (JSON for clients that ask for data): error-page.tsx.
  routes.onError(adminErrorHandler(deps))

  routes.use('*', async (c, next) => {
    await next()
    if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) {
      // The embeds set their own (framable by the allowed origins); every other page is unframeable.
      if (!c.res.headers.has('content-security-policy')) c.res.headers.set('content-security-policy', ADMIN_CSP)
      // With no-referrer, browsers send `Origin: null` on a page's own form posts, which the
      // origin check must refuse; same-origin still sends nothing to other sites.
      c.res.headers.set('referrer-policy', 'same-origin')
    }
  })

  routes.get('/assets/:file', serveStylesheet)
  routes.get('/assets/:dir/:file', serveModule)
  routes.get('/login', signIn.page)
  routes.post('/login', signIn.signIn)
  routes.post('/logout', signIn.signOut)

  routes.get('/', showPage(overviewPage, deps))

  routes.get('/task', showPage(tasksPage, deps))
  routes.get('/task/:key', showPage(taskPage, deps))
  routes.post('/task/:key/run', tasks.run)
  routes.post('/task/:key/start', tasks.start)
  routes.get('/task/:key/run', tasks.confirm)
  routes.post('/task/:key/enqueue', tasks.enqueue)
  routes.get('/task/:key/remove', tasks.askRemove)
  routes.post('/task/:key/remove', tasks.remove)

  routes.get('/runs', showPage(runsPage, deps))
  // Before /runs/:id, which would take "export" for a run id.
  routes.get('/runs/export', runs.export)
  routes.post('/runs/bulk', runs.bulk)
  routes.get('/runs/diff', showPage(runDiffPage, deps))
  routes.post('/runs/compare', runs.compare)
  routes.post('/runs/bulk/preview', bulk.preview)
  routes.post('/runs/bulk/start', bulk.start)
  routes.get('/runs/bulk/:id', showPage(bulkJobPage, deps))
  routes.post('/runs/bulk/:id/cancel', bulk.cancel)
  routes.get('/runs/:id', showPage(runPage, deps))
  routes.get('/runs/:id/pools', poolViewFragment(deps))
  routes.post('/runs/:id/cancel', runs.cancel)
  routes.post('/runs/:id/retry', runs.retry)
  routes.post('/runs/:id/delete', runs.delete)

  routes.get('/embed/runs/:id', embed.run)
  routes.get('/embed/runs/:id/pool', embed.pool)

  routes.get('/workers', showPage(workersPage, deps))
  routes.post('/workers/:id/:command', workers.command)

  routes.get('/queues', showPage(queuesPage, deps))
  routes.post('/flow/queue/:name', flow.queue)
  routes.post('/flow/task/:key', flow.task)
  routes.post('/flow/task', flow.anotherTask)

  routes.get('/schedules', showPage(schedulesPage, deps))
  routes.get('/schedules/:id', showPage(schedulePage, deps))
  routes.post('/schedules/:id/toggle', schedules.toggle)
  routes.post('/schedules/:id/trigger', schedules.trigger)

  routes.get('/settings', showPage(settingsPage, deps))
  routes.get('/audit', showPage(auditPage, deps))
  routes.get('/users', showPage(usersPage, deps))
  routes.post('/users', users.add)
  routes.post('/users/:name/role', users.role)
  routes.post('/users/:name/password', users.password)
  routes.post('/users/:name/disable', users.disable)
  routes.post('/users/:name/enable', users.enable)
  routes.post('/users/:name/sessions/end', users.endSessions)
  routes.post('/users/:name/tokens', users.createToken)
  routes.post('/users/:name/tokens/:token/revoke', users.revokeToken)
  routes.post('/settings', settings.save)

  // Last: any other path under /admin is a 404 page with the way back.
  routes.all('*', adminNotFound)

  return routes
}
