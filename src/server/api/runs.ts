/**
 * Runs are executions: enqueue, list, read (one run, its log lines, its artifacts), steer
 * (cancel, retry, delete), and the caller's own active and recent runs (the header menu).
 */
import { Hono } from 'hono'
import { answeredByExisting, checkEnqueueOptions, type EnqueueOptions } from '../../engine/durable/enqueue.js'
import { ConflictError, ValidationError, describeValue } from '../../errors.js'
import { parseTaskArgs } from '../../task/validate.js'
import { isMediaType } from '../../engine/media-type.js'
import { ACTIVE_STATES, RUN_SORTS, type Run, type RunFilter, type RunSort } from '../../store/types.js'
import { withFinalLine } from '../../engine/execute/final-line.js'
import { identity, mayRead, readScope, requireEnqueue, requirePermission, runScope, type ServerContext, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { notFound } from '../http-errors.js'
import { IssueList, jsonBody, splitBody } from '../json-body.js'
import { QueryReader, checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { runChange } from '../../engine/access/changes.js'
import { recordAction } from '../audit.js'
import { RUN_COLUMNS, runRow } from './run-rows.js'
import { addBulkRoutes } from './runs-bulk.js'
import { addDiffRoute } from './runs-diff.js'
import { readRunFilter } from './run-filter-query.js'

/** Enqueue options a client may set (pool, parent and schedule wiring stay internal). */
const CLIENT_OPTIONS = ['label', 'queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'timeoutMs', 'uniqueKey', 'requestId', 'notAfter', 'category', 'tags', 'groupKey', 'debounce', 'throttle'] as const

export function runRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()
  addBulkRoutes(routes, deps)
  addDiffRoute(routes, deps)

  routes.post('/runs', async (c) => {
    checkQuery(c)
    const who = requireEnqueue(c)
    const body = await jsonBody(c)
    const issues = new IssueList()
    const key = body.task
    const task = typeof key === 'string' && key !== '' ? engine.get(key) : undefined
    if (typeof key !== 'string' || key === '') issues.bad('task', 'a task key', key)
    else if (task === undefined) throw notFound(`unknown task "${key}"`)
    const { args, options } = splitBody(body, issues, ['task', 'args', 'options'])
    const enqueue = enqueueOptions(options, issues)
    if (task !== undefined) issues.collect(() => parseTaskArgs(task, args))
    issues.throwIfAny('invalid request')
    const run = await engine.enqueue(task!, args, { ...enqueue, createdBy: who.id })
    if (enqueue.debounce === undefined && answeredByExisting(run)) {
      // An existing run answered (its requestId, uniqueKey or throttle key): shown only to a
      // caller who may read it, else the request is refused without a word about that run.
      const scope = runScope(c)
      if (scope === null || !mayRead(scope, run)) throw new ConflictError('this request names a run that already exists (its requestId, uniqueKey or throttle key is taken)')
      return c.json(run, 200)
    }
    await recordAction(c, deps, { action: 'run.enqueue', target: run.id, details: { task: run.task, args: run.args, options: enqueue } })
    return c.json(run, 201)
  })

  routes.get('/runs', async (c) => {
    const filter = runFilter(c)
    const page = await engine.listRuns(filter)
    return respond(c, page, { name: 'runs', rows: (p) => (p as { data: Run[] }).data.map(runRow), columns: RUN_COLUMNS })
  })

  routes.get('/runs/:id', async (c) => {
    checkQuery(c)
    const run = await visibleRun(c, deps)
    // A pending run no live worker serves says so (since when, the last worker seen, when it fails).
    const unserved = (await engine.unservedRun(run)) ?? null
    return respond(c, { ...run, unserved }, { name: `run-${run.id}` })
  })

  routes.get('/runs/:id/logs', async (c) => {
    const run = await visibleRun(c, deps)
    const query = new QueryReader(c)
    const after = query.int('after', 0, Number.MAX_SAFE_INTEGER) ?? 0
    const limit = query.int('limit', 1, 10_000) ?? 1000
    query.done()
    // A finished run's log ends with how it ended and how long its handler took (derived, not stored).
    const logs = withFinalLine(run, await engine.getLogs(run.id, { after, limit }), after, limit)
    return respond(c, { runId: run.id, after, logs, next: logs.at(-1)?.seq ?? after }, { name: `logs-${run.id}`, rows: (d) => (d as { logs: unknown[] }).logs, columns: LOG_COLUMNS })
  })

  routes.get('/runs/:id/artifacts', async (c) => {
    checkQuery(c)
    const run = await visibleRun(c, deps)
    return respond(c, await engine.listArtifacts(run.id), { name: `artifacts-${run.id}`, columns: ARTIFACT_COLUMNS })
  })

  routes.get('/runs/:id/artifacts/:name', async (c) => {
    // The bytes as stored: no format to choose, always a download.
    checkQuery(c, [])
    const run = await visibleRun(c, deps)
    const name = c.req.param('name')
    const artifact = await engine.getArtifact(run.id, name)
    if (artifact === undefined) throw notFound(`run ${run.id} has no artifact "${name}"`)
    return c.body(new Uint8Array(artifact.data), 200, {
      // Checked when stored; one stored before that check could break the header, so it goes out as bytes.
      'content-type': isMediaType(artifact.contentType) ? artifact.contentType : 'application/octet-stream',
      'content-length': String(artifact.size),
      // Always a download: an artifact is whatever a handler stored and must never render as a page of ours.
      'content-disposition': `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    })
  })

  routes.post('/runs/:id/cancel', async (c) => {
    checkQuery(c)
    requirePermission(c, 'runs:cancel')
    const body = await jsonBody(c)
    const reason = body.reason
    if (reason !== undefined && (typeof reason !== 'string' || reason === '')) throw new ValidationError(`reason: expected a non-empty string, got ${describeValue(reason)}`)
    const run = await visibleRun(c, deps)
    const after = await engine.cancel(run.id, reason ?? `cancelled by ${identity(c).id}`, { by: identity(c).id })
    await recordAction(c, deps, runChange('run.cancel', run, after, { reason: reason ?? null }))
    return c.json(after)
  })

  routes.post('/runs/:id/retry', async (c) => {
    checkQuery(c)
    requirePermission(c, 'runs:retry')
    const run = await visibleRun(c, deps)
    const after = await engine.retry(run.id)
    await recordAction(c, deps, runChange('run.retry', run, after))
    return c.json(after)
  })

  routes.delete('/runs/:id', async (c) => {
    checkQuery(c)
    requirePermission(c, 'runs:delete')
    const run = await visibleRun(c, deps)
    const after = await engine.delete(run.id)
    await recordAction(c, deps, runChange('run.delete', run, after))
    return c.json(after)
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

  return routes
}

/** The run named in the path, if the caller may see it (404 otherwise: others' runs do not exist for them). */
export async function visibleRun(c: ServerContext, deps: RouteDeps): Promise<Run> {
  const scope = readScope(c)
  const id = c.req.param('id') ?? ''
  const run = await deps.engine.getRun(id)
  if (run === undefined || !mayRead(scope, run)) throw notFound(`unknown run "${id}"`)
  return run
}

/** The list filter from the query: page, pageSize (1–100), sort (`-created`, `created`, `due`, `-due`, `finished`, `-finished`), and the filters of {@link readRunFilter}. */
export function runFilter(c: ServerContext): RunFilter {
  const scope = readScope(c)
  const query = new QueryReader(c)
  const filter: { -readonly [K in keyof RunFilter]: RunFilter[K] } = {
    page: query.int('page', 1, 1_000_000) ?? 1,
    pageSize: query.int('pageSize', 1, 100) ?? 20,
  }
  Object.assign(filter, readRunFilter(query))
  const sort = query.oneOf<RunSort>('sort', RUN_SORTS)
  if (sort !== undefined) filter.sort = sort
  const before = query.string('before')
  if (before !== undefined) filter.before = before
  const countLimit = query.int('countLimit', 1, Number.MAX_SAFE_INTEGER)
  if (countLimit !== undefined) filter.countLimit = countLimit
  const scanLimit = query.int('scanLimit', 1, Number.MAX_SAFE_INTEGER)
  if (scanLimit !== undefined) filter.scanLimit = scanLimit
  query.done()
  if (!scope.all) filter.createdBy = scope.id
  return filter
}

/**
 * The enqueue options of a request: times given as ISO 8601 text become Dates; unknown keys
 * and bad values are recorded in `issues` (keys `options.<name>`), together with whatever the
 * engine's own check of the options finds.
 */
function enqueueOptions(options: Record<string, unknown>, issues: IssueList): EnqueueOptions {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (!(CLIENT_OPTIONS as readonly string[]).includes(key)) issues.unknown('options.', key, value, CLIENT_OPTIONS, 'option')
    else if (key === 'runAt' || key === 'notAfter') {
      const date = typeof value === 'string' ? new Date(value) : typeof value === 'number' ? new Date(value) : undefined
      if (date === undefined || Number.isNaN(date.getTime())) issues.bad(`options.${key}`, 'an ISO 8601 time or epoch ms', value)
      else out[key] = date
    } else out[key] = value
  }
  issues.collect(() => checkEnqueueOptions(out), 'options.')
  return out
}

/** The CSV columns of log lines. */
const LOG_COLUMNS = ['seq', 'time', 'level', 'message'] as const
/** The CSV columns of artifacts. */
const ARTIFACT_COLUMNS = ['runId', 'name', 'contentType', 'size', 'createdAt'] as const
