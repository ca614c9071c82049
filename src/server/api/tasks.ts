/**
 * Tasks are definitions: list them, describe one (enough to build a form), run one now, change
 * its limits across workers live (`PUT /api/tasks/:key`).
 */
import { Hono } from 'hono'
import { taskInfo } from '../../task/describe.js'
import { parseTaskArgs } from '../../task/validate.js'
import { requirePermission, type ServerEnv } from '../caller.js'
import { plain, respond } from '../formats.js'
import { notFound } from '../http-errors.js'
import { IssueList, jsonBody, splitBody } from '../json-body.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { limitsChange } from '../../engine/access/changes.js'
import { recordAction } from '../audit.js'

export function taskRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()

  routes.get('/tasks', (c) => {
    checkQuery(c)
    requirePermission(c, 'tasks:read')
    return respond(c, engine.list().map(taskInfo), { name: 'tasks', rows: (tasks) => (tasks as ReturnType<typeof taskInfo>[]).map(taskRow), columns: TASK_COLUMNS })
  })

  routes.get('/tasks/:key', (c) => {
    checkQuery(c)
    requirePermission(c, 'tasks:read')
    const task = engine.get(c.req.param('key'))
    if (task === undefined) throw notFound(`unknown task "${c.req.param('key')}"`)
    return respond(c, taskInfo(task), { name: `task-${task.key}` })
  })

  routes.post('/tasks/:key/run', async (c) => {
    checkQuery(c)
    requirePermission(c, 'tasks:run')
    const task = engine.get(c.req.param('key'))
    if (task === undefined) throw notFound(`unknown task "${c.req.param('key')}"`)
    const body = await jsonBody(c)
    const issues = new IssueList()
    const { args, options } = splitBody(body, issues, ['args', 'options'])
    issues.unknownKeys(options, SYNC_OPTIONS, 'options.', 'option')
    const label = options.label
    if (label !== undefined && (typeof label !== 'string' || label === '')) issues.bad('options.label', 'a non-empty string', label)
    const asked = options.timeoutMs
    if (asked !== undefined && (typeof asked !== 'number' || !Number.isFinite(asked) || asked <= 0)) issues.bad('options.timeoutMs', 'a positive number of milliseconds', asked)
    issues.collect(() => parseTaskArgs(task, args))
    issues.throwIfAny('invalid request')
    // A synchronous run over HTTP never outlives the server's limit, nor the client's connection.
    const timeoutMs = Math.min((asked as number | undefined) ?? task.timeoutMs ?? deps.syncRunTimeoutMs, deps.syncRunTimeoutMs)
    const result = await engine.run(task, args, {
      timeoutMs,
      signal: c.req.raw.signal,
      ...(label === undefined ? {} : { label: label as string }),
    })
    await recordAction(c, deps, { action: 'run.sync', target: result.id, details: { task: task.key, args: result.args, status: result.status } })
    // Data a handler returns may hold bigints: JSON has none, they go as decimal strings.
    return c.json(plain(result))
  })

  // Changes the task's limits on every worker (within a heartbeat) and stores them: the body is
  // the patch (concurrency, rate, groupConcurrency, paused); `null` removes a limit.
  routes.put('/tasks/:key', async (c) => {
    checkQuery(c)
    requirePermission(c, 'settings:write')
    const key = c.req.param('key')
    const patch = await jsonBody(c)
    const before = (await engine.stats()).flow.tasks.find((t) => t.task === key)
    const limits = await engine.updateTask(key, patch)
    await recordAction(c, deps, limitsChange('task', key, before, limits, patch))
    return c.json({ task: key, ...limits })
  })

  return routes
}

/** Options of a synchronous run over HTTP. */
const SYNC_OPTIONS = ['label', 'timeoutMs'] as const

const TASK_COLUMNS = ['key', 'title', 'category', 'description', 'tags', 'dangerous', 'expensive', 'queue', 'fields'] as const

function taskRow(task: ReturnType<typeof taskInfo>): Record<(typeof TASK_COLUMNS)[number], unknown> {
  return {
    key: task.key,
    title: task.title,
    category: task.category,
    description: task.description,
    tags: task.tags,
    dangerous: task.dangerous,
    expensive: task.expensive,
    queue: task.queue,
    fields: task.fields.map((f) => `${f.key}:${f.type}${f.required ? '*' : ''}`),
  }
}
