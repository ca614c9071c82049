/**
 * The admin UI at `/admin`: server-rendered pages (hono/jsx), usable without JavaScript; the
 * client script adds live updates. Every page is a data loader plus a view, and the data also
 * answers `?format=json|csv|xml|yaml|debug` (or an Accept header asking for one of them).
 * State changes are POSTs with a CSRF token; GETs never change state.
 */
import { Hono, type Context } from 'hono'
import { html } from 'hono/html'
import type { JSX } from 'hono/jsx/jsx-runtime'
import { getCookie, setCookie } from 'hono/cookie'
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Engine } from '../../engine/engine.js'
import type { EnqueueOptions } from '../../engine/durable/enqueue.js'
import { ConflictError, TaskEngineError, ValidationError, describeValue, type FieldIssue } from '../../errors.js'
import type { Run } from '../../store/types.js'
import type { AnyTask } from '../../task/define.js'
import { taskInfo } from '../../task/describe.js'
import type { AuthResolver } from '../auth.js'
import { identity, readScope, requirePermission, runScope, scheduleForCaller, type ServerEnv } from '../context.js'
import { respond } from '../formats.js'
import { HttpError, notFound } from '../http-errors.js'
import { runRow } from '../api/runs.js'
import { issueStartTicket } from '../task-start.js'
import { OWN, formValues, parseForm, splitForm } from './form.js'
import type { Notice, PageContext } from './layout.js'
import { OverviewPage, loadOverview } from './pages/overview.js'
import { BulkConfirmPage, FILTER_PARAMS, LoginPage, RunPage, RunsPage, WorkersPage, filterFromParams, type FilterParams, type RunDetail } from './pages/runs.js'
import { ConfirmRunPage, LivePage, RemoveTaskPage, ResultPage, TaskPage, TasksPage } from './pages/tasks.js'
import { SchedulePage, SchedulesPage, SettingsPage } from './pages/schedules.js'

const ASSETS = join(fileURLToPath(new URL('.', import.meta.url)), 'assets')
const ASSET_TYPES: Readonly<Record<string, string>> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' }
const CSRF_COOKIE = 'te_csrf'
/** Pages may run scripts and styles from this server only: no inline code at all. */
export const ADMIN_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

export interface AdminDeps {
  readonly engine: Engine
  /** The server's base path. */
  readonly base: string
  readonly auth: AuthResolver
  readonly syncRunTimeoutMs: number
}

type AdminContext = Context<ServerEnv>

/** Builds the admin routes (mounted at `/admin` under the base path). */
export function adminRoutes(deps: AdminDeps): Hono<ServerEnv> {
  const { engine } = deps
  const admin = `${deps.base}/admin`
  const routes = new Hono<ServerEnv>()

  routes.use('*', async (c, next) => {
    await next()
    if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) {
      c.res.headers.set('content-security-policy', ADMIN_CSP)
      // With no-referrer, browsers send `Origin: null` on a page's own form posts, which the
      // origin check must refuse; same-origin still sends nothing to other sites.
      c.res.headers.set('referrer-policy', 'same-origin')
    }
  })

  routes.get('/assets/:file', async (c) => {
    const file = c.req.param('file')
    const type = ASSET_TYPES[extname(file)]
    if (type === undefined || file.includes('/') || file.startsWith('.')) throw notFound(`no asset "${file}"`)
    try {
      return c.body(await readFile(join(ASSETS, file)), 200, { 'content-type': type, 'cache-control': 'no-cache' })
    } catch {
      throw notFound(`no asset "${file}"`)
    }
  })

  routes.get('/login', (c) => render(c, <LoginPage admin={admin} next={safeNext(c.req.query('next'), admin)} failed={false} />))
  routes.post('/login', async (c) => {
    const body = await c.req.parseBody()
    const token = typeof body.token === 'string' ? body.token : ''
    const next = safeNext(typeof body.next === 'string' ? body.next : undefined, admin)
    const probe = new Request(c.req.url, { headers: { authorization: `Bearer ${token}` } })
    if ((await deps.auth(probe)) === null) return render(c, <LoginPage admin={admin} next={next} failed />, 401)
    setCookie(c, 'taskengine_token', token, { httpOnly: true, sameSite: 'Strict', path: deps.base === '' ? '/' : deps.base, secure: new URL(c.req.url).protocol === 'https:' })
    return c.redirect(next, 303)
  })

  routes.get('/', async (c) => {
    const scope = readScope(c)
    const data = await loadOverview(engine, scope.all ? undefined : scope.id)
    if (wantsData(c)) return respond(c, data, { name: 'overview', rows: () => data.throughput })
    return render(c, <OverviewPage page={pageContext(c, deps)} data={data} />)
  })

  routes.get('/task', (c) => {
    requirePermission(c, 'tasks:read')
    if (wantsData(c)) return respond(c, engine.list().map(taskInfo), { name: 'tasks' })
    return render(c, <TasksPage page={pageContext(c, deps)} categories={engine.categories()} query={c.req.query('q') ?? ''} />)
  })

  routes.get('/task/:key', async (c) => {
    requirePermission(c, 'tasks:read')
    const task = taskOf(engine, c.req.param('key'))
    const recent = await recentRunsOf(c, engine, task.key)
    if (wantsData(c)) return respond(c, { task: taskInfo(task), recentRuns: recent }, { name: `task-${task.key}`, rows: () => recent.map(runRow) })
    // Prefilled values come as `a.<field>` (edit & retry), so a field named like an output option cannot clash.
    const prefill: Record<string, unknown> = {}
    for (const [name, value] of new URL(c.req.url).searchParams) if (name.startsWith('a.')) appendValue(prefill, name.slice(2), value)
    const values = Object.keys(prefill).length > 0 ? { ...formValues(task, undefined), ...toFormValues(prefill) } : formValues(task, undefined)
    return render(c, <TaskPage page={pageContext(c, deps)} task={task} values={values} issues={new Map()} own={{}} recent={recent} />)
  })

  /** Reads a posted task form; answers the form again (400) with the problems at their fields. */
  async function readTaskForm(c: AdminContext, task: AnyTask): Promise<{ args: Record<string, unknown>; own: Record<string, string> } | Response> {
    const body = await c.req.parseBody({ all: true })
    checkCsrf(c, body)
    const { values, own } = splitForm(body, task.fields)
    const parsed = parseForm(task, values)
    const issues = new Map<string, FieldIssue>('issues' in parsed ? parsed.issues : [])
    if (task.dangerous !== undefined && own[OWN.confirm] !== 'yes') {
      issues.set(OWN.confirm, { key: OWN.confirm, expected: 'confirmation', received: undefined, message: 'Tick the box to confirm this dangerous task.' })
    }
    if (issues.size > 0 || 'issues' in parsed) {
      const recent = await recentRunsOf(c, engine, task.key)
      return render(c, <TaskPage page={pageContext(c, deps)} task={task} values={values} issues={issues} own={own} recent={recent} />, 400)
    }
    return { args: parsed.args, own }
  }

  routes.post('/task/:key/run', async (c) => {
    requirePermission(c, 'tasks:run')
    const task = taskOf(engine, c.req.param('key'))
    const form = await readTaskForm(c, task)
    if (form instanceof Response) return form
    const label = form.own[OWN.label]?.trim()
    const result = await engine.run(task, form.args, {
      timeoutMs: Math.min(task.timeoutMs ?? deps.syncRunTimeoutMs, deps.syncRunTimeoutMs),
      signal: c.req.raw.signal,
      ...(label === undefined || label === '' ? {} : { label }),
    })
    return render(c, <ResultPage page={pageContext(c, deps)} task={task} result={result} />)
  })

  // The live view: the posted (CSRF-checked, confirmed) form earns a one-time start ticket,
  // which the page's socket redeems. Rendered in answer to the POST, so no GET starts anything.
  routes.post('/task/:key/start', async (c) => {
    requirePermission(c, 'tasks:run')
    const task = taskOf(engine, c.req.param('key'))
    const form = await readTaskForm(c, task)
    if (form instanceof Response) return form
    const label = form.own[OWN.label]?.trim()
    const ticket = issueStartTicket(engine, task.key, form.args, label === '' ? undefined : label)
    return render(c, <LivePage page={pageContext(c, deps)} task={task} ticket={ticket} args={form.args} label={label ?? ''} />)
  })

  // A link to a run (sync, or live with ?async=true) only shows what would run: starting needs the POST.
  routes.get('/task/:key/run', (c) => {
    requirePermission(c, 'tasks:run')
    const task = taskOf(engine, c.req.param('key'))
    const query = new URL(c.req.url).searchParams
    const live = query.get('async') === 'true'
    const label = query.get('label') ?? ''
    const args = new URLSearchParams()
    for (const [name, value] of query) if (!['async', 'label', 'category', 'format', 'access_token'].includes(name)) args.append(name, value)
    const parsed = parseForm(task, Object.fromEntries([...new Set(args.keys())].map((k) => [k, args.getAll(k).length === 1 ? args.get(k)! : args.getAll(k)])))
    const error = 'issues' in parsed ? [...parsed.issues.values()].map((i) => i.message).join('; ') : undefined
    return render(c, <ConfirmRunPage page={pageContext(c, deps)} task={task} args={'args' in parsed ? parsed.args : undefined} error={error} live={live} label={label} />)
  })

  routes.post('/task/:key/enqueue', async (c) => {
    const who = requirePermission(c, 'runs:write')
    const task = taskOf(engine, c.req.param('key'))
    const form = await readTaskForm(c, task)
    if (form instanceof Response) return form
    const options: { -readonly [K in keyof EnqueueOptions]: EnqueueOptions[K] } = { createdBy: who.id }
    const own = form.own
    if ((own[OWN.label] ?? '').trim() !== '') options.label = own[OWN.label]!.trim()
    if ((own[OWN.queue] ?? '').trim() !== '') options.queue = own[OWN.queue]!.trim()
    if ((own[OWN.priority] ?? '') !== '') options.priority = Number(own[OWN.priority])
    if ((own[OWN.delay] ?? '') !== '') options.delayMs = Number(own[OWN.delay]) * 1000
    if ((own[OWN.maxAttempts] ?? '') !== '') options.maxAttempts = Number(own[OWN.maxAttempts])
    const run = await engine.enqueue(task, form.args, options)
    return c.redirect(`${admin}/runs/${run.id}?notice=enqueued`, 303)
  })

  routes.get('/task/:key/remove', (c) => {
    requirePermission(c, 'tasks:run')
    return render(c, <RemoveTaskPage page={pageContext(c, deps)} task={taskOf(engine, c.req.param('key'))} />)
  })
  routes.post('/task/:key/remove', async (c) => {
    requirePermission(c, 'tasks:run')
    checkCsrf(c, await c.req.parseBody())
    const task = taskOf(engine, c.req.param('key'))
    engine.remove(task.key)
    return c.redirect(`${admin}/task?notice=task-removed&key=${encodeURIComponent(task.key)}`, 303)
  })

  routes.get('/runs', async (c) => {
    const scope = readScope(c)
    const params = filterParams(c)
    const page = positive(c.req.query('page'), 1)
    const pageSize = Math.min(100, positive(c.req.query('pageSize'), 25))
    const filter = filterFromParams(params, page, pageSize)
    const runs = await engine.listRuns(scope.all ? filter : { ...filter, createdBy: scope.id })
    if (wantsData(c)) return respond(c, runs, { name: 'runs', rows: (p) => (p as { data: Run[] }).data.map(runRow) })
    return render(c, <RunsPage page={pageContext(c, deps)} runs={runs} params={params} tasks={engine.list().map((t) => t.key)} />)
  })

  routes.get('/runs/export', async (c) => {
    const scope = readScope(c)
    const params = filterParams(c)
    const all: Run[] = []
    // Every matching run, newest first, up to 100,000: a thousand at a time, each page starting
    // after the last run of the one before (no offset to skip, no count to repeat).
    const base = filterFromParams(params, 1, 1000)
    while (all.length < 100_000) {
      const filter = { ...base, count: false, ...(all.length > 0 ? { before: all[all.length - 1]!.id } : {}) }
      const batch = await engine.listRuns(scope.all ? filter : { ...filter, createdBy: scope.id })
      all.push(...batch.data)
      if (batch.data.length < 1000) break
    }
    return respond(c, all, { name: 'runs', format: c.req.query('format') === 'json' ? 'json' : 'csv', download: true, rows: (d) => (d as Run[]).map(runRow) })
  })

  routes.post('/runs/bulk', async (c) => {
    requirePermission(c, 'runs:write')
    const body = await c.req.parseBody({ all: true })
    checkCsrf(c, body)
    const action = typeof body.action === 'string' ? body.action : ''
    const ids = (Array.isArray(body.id) ? body.id : body.id === undefined ? [] : [body.id]).filter((v): v is string => typeof v === 'string')
    const returnTo = safeNext(typeof body['te:return'] === 'string' ? body['te:return'] : undefined, `${admin}/runs`)
    if (!['cancel', 'retry', 'delete'].includes(action)) throw new HttpError(400, 'ERR_VALIDATION', `action: expected cancel, retry or delete, got "${action}"`)
    if (ids.length === 0) return c.redirect(withNotice(returnTo, 'none-selected'), 303)
    const scope = readScope(c)
    const runs = (await Promise.all(ids.slice(0, 500).map((id) => engine.getRun(id)))).filter((r): r is Run => r !== undefined && (scope.all || r.createdBy === scope.id))
    if (body['te:confirm'] !== 'yes') return render(c, <BulkConfirmPage page={pageContext(c, deps)} action={action} runs={runs} returnTo={returnTo} />)
    let done = 0
    let skipped = 0
    for (const run of runs) {
      try {
        if (action === 'cancel') await engine.cancel(run.id, `cancelled by ${identity(c).id}`)
        else if (action === 'retry') await engine.retry(run.id)
        else await engine.delete(run.id)
        done++
      } catch (error) {
        if (error instanceof ConflictError || (error instanceof TaskEngineError && error.code === 'ERR_NOT_FOUND')) skipped++
        else throw error
      }
    }
    return c.redirect(withNotice(returnTo, 'bulk', { action, done: String(done), skipped: String(skipped) }), 303)
  })

  routes.get('/runs/:id', async (c) => {
    const scope = readScope(c)
    const run = await engine.getRun(c.req.param('id'))
    if (run === undefined || (!scope.all && run.createdBy !== scope.id)) throw notFound(`unknown run "${c.req.param('id')}"`)
    const [logs, artifacts, parent, pool, opened] = await Promise.all([
      engine.getLogs(run.id, { limit: 10_000 }),
      engine.listArtifacts(run.id),
      run.parentId === null ? undefined : engine.getRun(run.parentId),
      run.poolId === null ? undefined : engine.getPool(run.poolId),
      (async () => (await engine.store()).poolsOfRun(run.id))(),
    ])
    const children = (await Promise.all(opened.map((p) => engine.getPool(p.id)))).filter((p) => p !== undefined)
    const detail: RunDetail = { run, logs, artifacts, parent, pool, children, taskKnown: engine.get(run.task) !== undefined }
    if (wantsData(c)) return respond(c, detail, { name: `run-${run.id}`, rows: () => logs })
    return render(c, <RunPage page={pageContext(c, deps)} detail={detail} />)
  })

  for (const action of ['cancel', 'retry', 'delete'] as const) {
    routes.post(`/runs/:id/${action}`, async (c) => {
      requirePermission(c, 'runs:write')
      checkCsrf(c, await c.req.parseBody())
      const scope = readScope(c)
      const id = c.req.param('id') ?? ''
      const run = await engine.getRun(id)
      if (run === undefined || (!scope.all && run.createdBy !== scope.id)) throw notFound(`unknown run "${id}"`)
      try {
        if (action === 'cancel') await engine.cancel(id, `cancelled by ${identity(c).id}`)
        else if (action === 'retry') await engine.retry(id)
        else await engine.delete(id)
      } catch (error) {
        if (error instanceof ConflictError) return c.redirect(withNotice(`${admin}/runs/${id}`, 'conflict', { message: error.message }), 303)
        throw error
      }
      return c.redirect(action === 'delete' ? withNotice(`${admin}/runs`, 'deleted') : withNotice(`${admin}/runs/${id}`, action === 'cancel' ? 'cancelled' : 'retried'), 303)
    })
  }

  routes.get('/workers', async (c) => {
    requirePermission(c, 'workers:read')
    const workers = await engine.workers()
    if (wantsData(c)) return respond(c, workers, { name: 'workers' })
    return render(c, <WorkersPage page={pageContext(c, deps)} workers={workers} />)
  })

  routes.get('/schedules', async (c) => {
    requirePermission(c, 'schedules:read')
    const schedules = (await engine.schedules()).map((s) => scheduleForCaller(c, s))
    if (wantsData(c)) return respond(c, schedules, { name: 'schedules' })
    return render(c, <SchedulesPage page={pageContext(c, deps)} schedules={schedules} />)
  })

  routes.get('/schedules/:id', async (c) => {
    requirePermission(c, 'schedules:read')
    const schedule = scheduleForCaller(c, await engine.getSchedule(c.req.param('id')))
    // The history shows the runs the caller may read: all, its own, or none.
    const scope = runScope(c)
    const filter = { page: positive(c.req.query('page'), 1), pageSize: 20, ...(scope === null || scope.all ? {} : { createdBy: scope.id }) }
    const runs = scope === null ? { data: [], total: 0, page: 1, pageSize: 20 } : await engine.scheduleRuns(schedule.id, filter)
    if (wantsData(c)) return respond(c, { schedule, runs }, { name: `schedule-${schedule.id}`, rows: () => runs.data.map(runRow) })
    return render(c, <SchedulePage page={pageContext(c, deps)} schedule={schedule} runs={runs} />)
  })

  routes.post('/schedules/:id/toggle', async (c) => {
    requirePermission(c, 'schedules:write')
    const body = await c.req.parseBody()
    checkCsrf(c, body)
    const enabled = body.enabled === 'true' ? true : body.enabled === 'false' ? false : undefined
    if (enabled === undefined) throw new ValidationError(`enabled: expected "true" or "false", got ${describeValue(body.enabled)}`)
    const schedule = await engine.toggleSchedule(c.req.param('id'), enabled)
    return c.redirect(withNotice(backTo(body, admin, `${admin}/schedules`), enabled ? 'schedule-on' : 'schedule-off', { name: schedule.name }), 303)
  })

  routes.post('/schedules/:id/trigger', async (c) => {
    const who = requirePermission(c, 'schedules:write')
    const body = await c.req.parseBody()
    checkCsrf(c, body)
    try {
      const run = await engine.triggerSchedule(c.req.param('id'), { createdBy: who.id })
      return c.redirect(withNotice(`${admin}/runs/${run.id}`, 'triggered'), 303)
    } catch (error) {
      if (error instanceof ConflictError) return c.redirect(withNotice(backTo(body, admin, `${admin}/schedules`), 'conflict', { message: error.message }), 303)
      throw error
    }
  })

  routes.get('/settings', async (c) => {
    requirePermission(c, 'settings:read')
    const settings = await engine.settings.describe()
    if (wantsData(c)) return respond(c, settings, { name: 'settings' })
    return render(c, <SettingsPage page={pageContext(c, deps)} settings={settings} backends={engine.logBackends()} />)
  })

  routes.post('/settings', async (c) => {
    requirePermission(c, 'settings:write')
    const body = await c.req.parseBody()
    checkCsrf(c, body)
    const described = await engine.settings.describe()
    const patch: Record<string, unknown> = {}
    for (const setting of described) {
      const raw = body[setting.key]
      if (typeof raw !== 'string') continue
      const text = raw.trim()
      if (setting.type === 'choice') patch[setting.key] = text
      else if (text === '') patch[setting.key] = setting.nullable === true ? null : text
      else patch[setting.key] = /^-?\d+$/.test(text) ? Number(text) : text
    }
    try {
      await engine.settings.update(patch)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      // Show what was typed, with the reason, and change nothing.
      const typed = described.map((s) => (s.key in patch ? { ...s, value: patch[s.key] as never } : s))
      const issues = new Map(error.fields.map((f) => [f.key, f]))
      return render(c, <SettingsPage page={pageContext(c, deps)} settings={typed} backends={engine.logBackends()} errors={error.message} issues={issues} />, 400)
    }
    return c.redirect(withNotice(`${admin}/settings`, 'settings-saved'), 303)
  })

  return routes
}

/** Answers with a page: the doctype, then the document (standards mode). */
function render(c: AdminContext, view: JSX.Element, status: 200 | 400 | 401 = 200): Response | Promise<Response> {
  return c.html(html`<!DOCTYPE html>${view}`, status)
}

/** Whether the client asked for data rather than a page. */
function wantsData(c: AdminContext): boolean {
  if (c.req.query('format') !== undefined) return true
  const first = (c.req.header('accept') ?? '').split(',')[0]?.split(';')[0]?.trim().toLowerCase() ?? ''
  return /^(application\/json|text\/csv|(application|text)\/(xml|(x-)?yaml)|text\/plain)$/.test(first)
}

function pageContext(c: AdminContext, deps: AdminDeps): PageContext {
  return { admin: `${deps.base}/admin`, base: deps.base, csrf: csrfToken(c, deps), user: identity(c).id, now: Date.now(), notice: noticeOf(c) }
}

/** The session's CSRF token (double submit: an HttpOnly cookie, repeated in every form). */
function csrfToken(c: AdminContext, deps: AdminDeps): string {
  const existing = getCookie(c, CSRF_COOKIE)
  if (existing !== undefined && /^[0-9a-f-]{36}$/.test(existing)) return existing
  const token = randomUUID()
  setCookie(c, CSRF_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: deps.base === '' ? '/' : deps.base, secure: new URL(c.req.url).protocol === 'https:' })
  return token
}

/**
 * Refuses a state change whose form token does not match the cookie. (The Origin of every
 * write, forms included, was checked before: see `guardHosts`.)
 */
function checkCsrf(c: AdminContext, body: Readonly<Record<string, unknown>>): void {
  const cookie = getCookie(c, CSRF_COOKIE)
  const raw = body[OWN.csrf]
  const sent = Array.isArray(raw) ? (raw[0] as unknown) : raw
  if (cookie === undefined || typeof sent !== 'string' || sent !== cookie) throw new HttpError(403, 'ERR_FORBIDDEN', 'missing or stale form token: reload the page and try again')
}

const NOTICES: Readonly<Record<string, (q: URLSearchParams) => Notice>> = {
  enqueued: () => ({ kind: 'ok', text: 'Run enqueued.' }),
  cancelled: () => ({ kind: 'ok', text: 'Cancel requested: a pending run is cancelled at once, a running one when its handler stops.' }),
  retried: () => ({ kind: 'ok', text: 'Run retried: pending again with a fresh attempt budget.' }),
  deleted: () => ({ kind: 'ok', text: 'Run deleted.' }),
  conflict: (q) => ({ kind: 'warn', text: q.get('message') ?? 'That change is not possible in the run\'s current state.' }),
  'schedule-on': (q) => ({ kind: 'ok', text: `Schedule "${q.get('name') ?? ''}" enabled for every process.` }),
  'schedule-off': (q) => ({ kind: 'ok', text: `Schedule "${q.get('name') ?? ''}" disabled for every process: no more ticks until it is enabled.` }),
  triggered: () => ({ kind: 'ok', text: 'Schedule triggered: this run was enqueued now.' }),
  'settings-saved': () => ({ kind: 'ok', text: 'Settings saved. Every process on the store uses them from now on.' }),
  'task-removed': (q) => ({ kind: 'ok', text: `Task "${q.get('key') ?? ''}" removed from this server.` }),
  'none-selected': () => ({ kind: 'warn', text: 'Select runs first.' }),
  bulk: (q) => ({ kind: q.get('skipped') === '0' ? 'ok' : 'warn', text: `${q.get('action') ?? ''}: ${q.get('done') ?? 0} done, ${q.get('skipped') ?? 0} skipped (not in a state that allows it).` }),
}

function noticeOf(c: AdminContext): Notice | undefined {
  const url = new URL(c.req.url)
  const code = url.searchParams.get('notice')
  return code === null ? undefined : NOTICES[code]?.(url.searchParams)
}

function withNotice(path: string, code: string, extra: Record<string, string> = {}): string {
  const url = new URL(path, 'http://x')
  url.searchParams.set('notice', code)
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v)
  return `${url.pathname}${url.search}`
}

/** Parameters a notice adds to the page it sends you back to (dropped before adding a new one). */
const NOTICE_PARAMS = ['notice', 'name', 'message', 'key', 'action', 'done', 'skipped']

/**
 * Where a form wants to go back to: its `back` field, when that is a path of the admin UI
 * (so no redirect leaves it), else `fallback`. A field rather than the Referer header, which
 * the server's own `referrer-policy: no-referrer` keeps browsers from sending.
 */
function backTo(body: Readonly<Record<string, unknown>>, admin: string, fallback: string): string {
  const back = body.back
  if (typeof back !== 'string' || !back.startsWith('/') || back.startsWith('//') || back.includes('\\')) return fallback
  let url: URL
  try {
    url = new URL(back, 'http://x')
  } catch {
    return fallback
  }
  if (url.host !== 'x' || !(url.pathname === admin || url.pathname.startsWith(`${admin}/`))) return fallback
  for (const name of NOTICE_PARAMS) url.searchParams.delete(name)
  return `${url.pathname}${url.search}`
}

/** Only same-site paths under the admin UI; anything else goes to the admin home. */
function safeNext(next: string | undefined, admin: string): string {
  if (next === undefined || !next.startsWith('/') || next.startsWith('//') || !next.startsWith(admin === '' ? '/' : admin)) return admin === '' ? '/' : admin
  return next
}

function taskOf(engine: Engine, key: string | undefined): AnyTask {
  const task = engine.get(key ?? '')
  if (task === undefined) throw notFound(`unknown task "${key ?? ''}"`)
  return task
}

function filterParams(c: AdminContext): FilterParams {
  const out: Record<string, string> = {}
  for (const name of FILTER_PARAMS) {
    const value = c.req.query(name)
    if (value !== undefined && value !== '') out[name] = value
  }
  return out
}

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text)
  return text !== undefined && Number.isSafeInteger(n) && n >= 1 ? n : fallback
}

function appendValue(target: Record<string, unknown>, key: string, value: string): void {
  const previous = target[key]
  target[key] = previous === undefined ? value : Array.isArray(previous) ? [...(previous as string[]), value] : [previous, value]
}

function toFormValues(values: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(values)) {
    if (Array.isArray(v)) out[k] = v.map(String)
    else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) out[k] = v.slice(0, 16)
    else out[k] = String(v)
  }
  return out
}

/** A task's ten newest runs that the caller may read (none without a run-read permission). */
async function recentRunsOf(c: Context<ServerEnv>, engine: Engine, task: string): Promise<readonly Run[]> {
  const scope = runScope(c)
  if (scope === null) return []
  return (await engine.listRuns({ task, pageSize: 10, ...(scope.all ? {} : { createdBy: scope.id }) })).data
}
