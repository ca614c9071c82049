/**
 * Cron schedules: list them with their state, switch one for every process, trigger one now,
 * and a schedule's history of runs.
 */
import { Hono } from 'hono'
import { ValidationError, describeValue } from '../../errors.js'
import type { ScheduleInfo } from '../../engine/schedules/scheduler.js'
import { unknownKeyIssues } from '../../options.js'
import { RUN_STATES, type Run, type RunState } from '../../store/types.js'
import { readScope, requirePermission, scheduleForCaller, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { jsonBody } from '../json-body.js'
import { QueryReader, checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { recordAction } from '../audit.js'
import { RUN_COLUMNS, runRow } from './run-rows.js'

/** The one property of a toggle's body. */
const TOGGLE_BODY_KEYS = ['enabled']

export function scheduleRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()

  routes.get('/schedules', async (c) => {
    checkQuery(c)
    requirePermission(c, 'schedules:read')
    const schedules = (await engine.schedules()).map((s) => scheduleForCaller(c, s))
    return respond(c, schedules, { name: 'schedules', rows: (list) => (list as ScheduleInfo[]).map(scheduleRow), columns: SCHEDULE_COLUMNS })
  })

  routes.get('/schedules/:id', async (c) => {
    checkQuery(c)
    requirePermission(c, 'schedules:read')
    const schedule = scheduleForCaller(c, await engine.getSchedule(c.req.param('id')))
    return respond(c, schedule, { name: `schedule-${schedule.id}` })
  })

  routes.post('/schedules/:id/toggle', async (c) => {
    checkQuery(c)
    requirePermission(c, 'schedules:write')
    const body = await jsonBody(c)
    const unknown = unknownKeyIssues(body, TOGGLE_BODY_KEYS, '', 'property')
    if (unknown.length > 0) throw new ValidationError('the body is {"enabled": true|false}', unknown)
    if (typeof body.enabled !== 'boolean') throw new ValidationError(`enabled: expected true or false, got ${describeValue(body.enabled)}`)
    const before = await engine.getSchedule(c.req.param('id'))
    const after = await engine.toggleSchedule(before.id, body.enabled)
    await recordAction(c, deps, { action: 'schedule.toggle', target: before.id, before: { enabled: before.enabled }, after: { enabled: after.enabled } })
    return c.json(scheduleForCaller(c, after))
  })

  routes.post('/schedules/:id/trigger', async (c) => {
    checkQuery(c)
    const who = requirePermission(c, 'schedules:write')
    const body = await jsonBody(c)
    if (Object.keys(body).length > 0) throw new ValidationError('trigger takes no body: the run uses the schedule\'s arguments and options')
    const run = await engine.triggerSchedule(c.req.param('id'), { createdBy: who.id })
    await recordAction(c, deps, { action: 'schedule.trigger', target: c.req.param('id'), details: { run: run.id, task: run.task } })
    return c.json(run, 201)
  })

  routes.get('/schedules/:id/runs', async (c) => {
    requirePermission(c, 'schedules:read')
    const scope = readScope(c)
    const query = new QueryReader(c)
    const page = query.int('page', 1, 1_000_000) ?? 1
    const pageSize = query.int('pageSize', 1, 100) ?? 20
    const status = query.list<RunState>('status', RUN_STATES)
    query.done()
    const history = await engine.scheduleRuns(c.req.param('id'), { page, pageSize, ...(status === undefined ? {} : { status }), ...(scope.all ? {} : { createdBy: scope.id }) })
    return respond(c, history, { name: `schedule-${c.req.param('id')}-runs`, rows: (p) => (p as { data: Run[] }).data.map(runRow), columns: RUN_COLUMNS })
  })

  return routes
}

const SCHEDULE_COLUMNS = ['id', 'name', 'cron', 'timezone', 'task', 'enabled', 'nextRunAt', 'lastTickAt', 'lastRunId', 'lastRunStatus'] as const

/** A schedule as one flat row (CSV). */
function scheduleRow(s: ScheduleInfo): Record<(typeof SCHEDULE_COLUMNS)[number], unknown> {
  return {
    id: s.id,
    name: s.name,
    cron: s.cron,
    timezone: s.timezone,
    task: s.task,
    enabled: s.enabled,
    nextRunAt: s.nextRunAt?.toISOString() ?? '',
    lastTickAt: s.lastTickAt?.toISOString() ?? '',
    lastRunId: s.lastRun?.id ?? '',
    lastRunStatus: s.lastRun?.status ?? '',
  }
}
