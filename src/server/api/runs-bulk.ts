/**
 * Bulk actions on every run matching a filter: `POST /runs/bulk` previews (`dryRun`) or starts a
 * bulk job, `GET /runs/bulk` lists jobs, `GET /runs/bulk/:id` reads one (poll it for progress),
 * `POST /runs/bulk/:id/cancel` stops one after its current batch.
 *
 * The filter takes the keys of `GET /api/runs` (paging and sorting aside), read by the same
 * rules: unknown keys and bad values are one 400 naming each as `filter.<key>`. `filter` is
 * required: `{}` means every run the caller may see, and must be said so.
 */
import type { Hono } from 'hono'
import { describeValue, type FieldIssue } from '../../errors.js'
import { BULK_ACTIONS, type BulkAction, type BulkJob, type RunFilter } from '../../store/types.js'
import { identity, mayRead, readScope, requirePermission, type ServerContext, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { HttpError, notFound } from '../http-errors.js'
import { IssueList, jsonBody } from '../json-body.js'
import { QueryReader, checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { recordAction } from '../audit.js'
import { readRunFilter } from './run-filter-query.js'

/** Keys of a bulk request's body. */
const BODY_KEYS = ['action', 'filter', 'dryRun'] as const

/** The CSV columns of bulk jobs. */
export const BULK_COLUMNS = ['id', 'action', 'state', 'total', 'done', 'skipped', 'createdBy', 'createdAt', 'finishedAt', 'error'] as const

/** Adds the bulk routes to the runs router (before `/runs/:id`, which would take `bulk` for an id). */
export function addBulkRoutes(routes: Hono<ServerEnv>, deps: RouteDeps): void {
  const { engine } = deps
  routes.post('/runs/bulk', async (c) => {
    checkQuery(c)
    const body = await jsonBody(c)
    const issues = new IssueList()
    issues.unknownKeys(body, BODY_KEYS, '', 'property')
    const action = body.action as BulkAction
    if (!BULK_ACTIONS.includes(action)) issues.bad('action', BULK_ACTIONS.join(', '), body.action)
    // Each action needs its own permission (runs:cancel, runs:retry, runs:delete); a bad action is a 400 first.
    const who = BULK_ACTIONS.includes(action) ? requirePermission(c, `runs:${action}`) : identity(c)
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') issues.bad('dryRun', 'true or false', body.dryRun)
    if (body.filter === undefined) issues.bad('filter', 'an object of GET /api/runs filters ({} to act on every run, said explicitly)', undefined)
    issues.throwIfAny('invalid bulk request')
    const filter = bodyFilter(c, body.filter)
    if (body.dryRun === true) {
      const preview = await engine.bulk.preview(action, filter)
      return c.json({ dryRun: true, action, filter: body.filter, count: preview.count, sample: preview.sample })
    }
    const job = await engine.bulk.start(action, filter, who.id)
    await recordAction(c, deps, { action: `bulk.${action}`, target: job.id, details: { filter: body.filter, count: job.total } })
    return c.json({ id: job.id, count: job.total, job }, 202)
  })

  routes.get('/runs/bulk', async (c) => {
    const query = new QueryReader(c)
    const limit = query.int('limit', 1, 100) ?? 20
    query.done()
    const scope = readScope(c)
    const jobs = (await engine.bulk.list(limit)).filter((job) => mayRead(scope, job))
    return respond(c, jobs, { name: 'bulk-jobs', columns: BULK_COLUMNS })
  })

  routes.get('/runs/bulk/:id', async (c) => {
    checkQuery(c)
    const job = await visibleJob(c, engine.bulk.get.bind(engine.bulk))
    return respond(c, job, { name: `bulk-${job.id}` })
  })

  routes.post('/runs/bulk/:id/cancel', async (c) => {
    checkQuery(c)
    const job = await visibleJob(c, engine.bulk.get.bind(engine.bulk))
    requirePermission(c, `runs:${job.action}`)
    const after = await engine.bulk.cancel(job.id)
    await recordAction(c, deps, { action: 'bulk.stop', target: job.id, before: { state: job.state, done: job.done }, after: { state: after.state, done: after.done, skipped: after.skipped } })
    return c.json(after)
  })
}

/** The job in the path, if the caller may see it (its own, or every job with `runs:read`). */
async function visibleJob(c: ServerContext, get: (id: string) => Promise<BulkJob | undefined>): Promise<BulkJob> {
  const scope = readScope(c)
  const id = c.req.param('id') ?? ''
  const job = await get(id)
  if (job === undefined || !mayRead(scope, job)) throw notFound(`unknown bulk job "${id}"`)
  return job
}

/**
 * A body's `filter` read like the query of `GET /api/runs` (each value a string, or a list of
 * strings for `status`), its problems keyed `filter.<key>`. A caller who reads only its own runs
 * acts only on them.
 */
export function bodyFilter(c: ServerContext, value: unknown): RunFilter {
  const fail = (issues: FieldIssue[]): never => {
    throw new HttpError('ERR_VALIDATION', `invalid filter: ${issues.map((i) => i.message).join('; ')}`, issues)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail([{ key: 'filter', expected: 'an object', received: describeValue(value), message: `filter: expected an object, got ${describeValue(value)}` }])
  }
  const params = new URLSearchParams()
  const bad: FieldIssue[] = []
  for (const [key, v] of Object.entries(value)) {
    const values = Array.isArray(v) ? (v as unknown[]) : [v]
    if (values.length === 0 || values.some((item) => typeof item !== 'string')) {
      bad.push({ key: `filter.${key}`, expected: 'a string (or a list of strings)', received: describeValue(v), message: `filter.${key}: expected a string (or a list of strings), got ${describeValue(v)}` })
    } else for (const item of values as string[]) params.append(key, item)
  }
  if (bad.length > 0) fail(bad)
  const query = new QueryReader(params)
  const filter = readRunFilter(query)
  try {
    query.done()
  } catch (error) {
    if (!(error instanceof HttpError) || error.fields === undefined) throw error
    fail(error.fields.map((issue) => ({ ...issue, key: `filter.${issue.key}`, message: `filter.${issue.message}` })))
  }
  const scope = readScope(c)
  return scope.all ? filter : { ...filter, createdBy: scope.id }
}
