/**
 * The Queues page's form posts (the page without its script): pause, resume and new limits for
 * a queue or a task, for every worker on the store. A bad value comes back as the page (400)
 * with what was typed and the reason at its field, and nothing changes.
 */
import type { Context, Handler } from 'hono'
import { ValidationError, describeValue } from '../../../errors.js'
import { requirePermission, type ServerEnv } from '../../caller.js'
import { limitsChange } from '../../../engine/access/changes.js'
import { recordAction } from '../../audit.js'
import { checkCsrf } from '../csrf.js'
import { issuesByField, type FlowEdit } from '../flow-parts.js'
import { withNotice } from '../notices.js'
import { pageContext, render, type AdminDeps } from '../page.js'
import { QueuesPage, loadQueues } from '../pages/queues.js'
import { FLOW_FIELDS, flowPatch } from '../shared/flow-form.js'

export function queueActions(deps: AdminDeps): Record<'queue' | 'task' | 'anotherTask', Handler<ServerEnv>> {
  const { engine } = deps
  const admin = `${deps.base}/admin`

  /** Reads the form, applies its patch with `update`, and answers with a notice or the page with the errors. */
  const apply = async (c: Context<ServerEnv>, kind: 'queue' | 'task', name: string | undefined, update: (name: string, patch: Record<string, unknown>) => Promise<unknown>) => {
    requirePermission(c, 'settings:write')
    const body = await c.req.parseBody()
    checkCsrf(c, body)
    const values: Record<string, string> = {}
    for (const field of [...FLOW_FIELDS, 'task']) if (typeof body[field] === 'string') values[field] = body[field]
    const key = name ?? values.task ?? ''
    const patch = flowPatch(values)
    try {
      if (name === undefined && !engine.list().some((t) => t.key === key)) {
        throw new ValidationError('invalid form', [{ key: 'task', expected: 'a registered task', received: describeValue(key), message: `task: expected a registered task, got ${describeValue(key)}` }])
      }
      const flow = (await engine.stats()).flow
      const before = kind === 'queue' ? flow.queues.find((q) => q.name === key) : flow.tasks.find((t) => t.task === key)
      const after = (await update(key, patch)) as object
      await recordAction(c, deps, limitsChange(kind, key, before, after, patch))
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      // Show what was typed, with the reasons, and change nothing.
      const edit: FlowEdit = { target: `${kind}:${name ?? ''}`, values: values, issues: issuesByField(error.fields), message: error.message }
      return render(c, <QueuesPage page={pageContext(c, deps)} data={await loadQueues(c, engine)} edit={edit} />, 400)
    }
    const what = `${kind === 'queue' ? 'Queue' : 'Task'} "${key}"`
    const code = patch.paused === true ? 'flow-paused' : patch.paused === false ? 'flow-resumed' : 'flow-saved'
    return c.redirect(withNotice(`${admin}/queues`, code, { name: what }), 303)
  }

  return {
    queue: (c) => apply(c, 'queue', c.req.param('name') ?? '', (name, patch) => engine.updateQueue(name, patch)),
    task: (c) => apply(c, 'task', c.req.param('key') ?? '', (key, patch) => engine.updateTask(key, patch)),
    anotherTask: (c) => apply(c, 'task', undefined, (key, patch) => engine.updateTask(key, patch)),
  }
}
