/**
 * Tasks are definitions: list them, describe one (enough to build a form), run one now.
 */
import { Hono } from 'hono'
import { ValidationError, describeValue } from '../../errors.js'
import { taskInfo } from '../../task/describe.js'
import { jsonBody, requirePermission, type RouteDeps, type ServerEnv } from '../context.js'
import { respond } from '../formats.js'
import { notFound } from '../http-errors.js'

export function taskRoutes(deps: RouteDeps): Hono<ServerEnv> {
  const { engine } = deps
  const routes = new Hono<ServerEnv>()

  routes.get('/tasks', (c) => {
    requirePermission(c, 'tasks:read')
    return respond(c, engine.list().map(taskInfo), { name: 'tasks', rows: (tasks) => (tasks as ReturnType<typeof taskInfo>[]).map(taskRow) })
  })

  routes.get('/tasks/:key', (c) => {
    requirePermission(c, 'tasks:read')
    const task = engine.get(c.req.param('key'))
    if (task === undefined) throw notFound(`unknown task "${c.req.param('key')}"`)
    return respond(c, taskInfo(task), { name: `task-${task.key}` })
  })

  routes.post('/tasks/:key/run', async (c) => {
    requirePermission(c, 'tasks:run')
    const task = engine.get(c.req.param('key'))
    if (task === undefined) throw notFound(`unknown task "${c.req.param('key')}"`)
    const body = await jsonBody(c)
    const { args, options } = splitBody(body)
    const label = options.label
    if (label !== undefined && (typeof label !== 'string' || label === '')) throw new ValidationError(`options.label: expected a non-empty string, got ${describeValue(label)}`)
    const asked = options.timeoutMs
    if (asked !== undefined && (typeof asked !== 'number' || !Number.isFinite(asked) || asked <= 0)) {
      throw new ValidationError(`options.timeoutMs: expected a positive number of milliseconds, got ${describeValue(asked)}`)
    }
    // A synchronous run over HTTP never outlives the server's limit, nor the client's connection.
    const timeoutMs = Math.min(asked ?? task.timeoutMs ?? deps.syncRunTimeoutMs, deps.syncRunTimeoutMs)
    const result = await engine.run(task, args, {
      timeoutMs,
      signal: c.req.raw.signal,
      ...(label === undefined ? {} : { label }),
    })
    return c.json(result)
  })

  return routes
}

/** `{ args, options }` from a body; unknown top-level keys are an error. */
export function splitBody(body: Record<string, unknown>): { args: Record<string, unknown>; options: Record<string, unknown> } {
  for (const key of Object.keys(body)) {
    if (key !== 'args' && key !== 'options' && key !== 'task') throw new ValidationError(`body: unknown property "${key}" (expected args and options)`)
  }
  const args = body.args ?? {}
  const options = body.options ?? {}
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new ValidationError(`args: expected an object of field values, got ${describeValue(args)}`)
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ValidationError(`options: expected an object, got ${describeValue(options)}`)
  return { args: args as Record<string, unknown>, options: options as Record<string, unknown> }
}

function taskRow(task: ReturnType<typeof taskInfo>): Record<string, unknown> {
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
