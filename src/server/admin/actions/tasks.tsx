/**
 * What the task form does: run now (the result page; the run is stored), start live (the live page with a start
 * ticket), enqueue (to the new run's page); a link to a run only asks (`confirm`); and removing
 * a task from this server. A form with bad values comes back as a 400 with each problem at its
 * field.
 */
import type { Handler } from 'hono'
import type { EnqueueOptions } from '../../../engine/durable/enqueue.js'
import type { FieldIssue } from '../../../errors.js'
import type { AnyTask } from '../../../task/define.js'
import { requireEnqueue, requirePermission, type ServerEnv } from '../../caller.js'
import { issueStartTicket } from '../../task-socket/tickets.js'
import { recordAction } from '../../audit.js'
import { checkCsrf } from '../csrf.js'
import { OWN, parseForm, splitForm } from '../form.js'
import { pageContext, render, type AdminContext, type AdminDeps } from '../page.js'
import { TaskPage, recentRunsOf, taskOf } from '../pages/task.js'
import { ConfirmRunPage } from '../pages/task-confirm.js'
import { LivePage } from '../pages/task-live.js'
import { RemoveTaskPage } from '../pages/task-remove.js'
import { ResultPage } from '../pages/task-result.js'

/** Query parameters of a link to a run that are not the task's arguments. */
const LINK_PARAMS = ['async', 'label', 'category', 'format', 'access_token']

export function taskActions(deps: AdminDeps): Record<'run' | 'start' | 'confirm' | 'enqueue' | 'askRemove' | 'remove', Handler<ServerEnv>> {
  const { engine } = deps
  const admin = `${deps.base}/admin`

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

  return {
    // Run now: executed in this process and stored as it goes (in-process, who started it), so
    // it shows in the runs list, and the result page links to the stored run.
    async run(c) {
      const who = requirePermission(c, 'tasks:run')
      const task = taskOf(engine, c.req.param('key'))
      const form = await readTaskForm(c, task)
      if (form instanceof Response) return form
      const label = form.own[OWN.label]?.trim()
      const result = await engine.run(task, form.args, {
        timeoutMs: Math.min(task.timeoutMs ?? deps.syncRunTimeoutMs, deps.syncRunTimeoutMs),
        signal: c.req.raw.signal,
        record: true,
        createdBy: who.id,
        startedFrom: 'admin',
        ...(label === undefined || label === '' ? {} : { label }),
      })
      await recordAction(c, deps, { action: 'run.sync', target: result.id, details: { task: task.key, args: result.args, status: result.status } })
      return render(c, <ResultPage page={pageContext(c, deps)} task={task} result={result} />)
    },

    // The live view: the posted (CSRF-checked, confirmed) form earns a one-time start ticket,
    // which the page's socket redeems. Rendered in answer to the POST, so no GET starts anything.
    async start(c) {
      requirePermission(c, 'tasks:run')
      const task = taskOf(engine, c.req.param('key'))
      const form = await readTaskForm(c, task)
      if (form instanceof Response) return form
      const label = form.own[OWN.label]?.trim()
      const ticket = issueStartTicket(engine, task.key, form.args, label === '' ? undefined : label)
      return render(c, <LivePage page={pageContext(c, deps)} task={task} ticket={ticket} args={form.args} label={label ?? ''} />)
    },

    // A link to a run (sync, or live with ?async=true) only shows what would run: starting needs the POST.
    confirm(c) {
      requirePermission(c, 'tasks:run')
      const task = taskOf(engine, c.req.param('key'))
      const query = new URL(c.req.url).searchParams
      const live = query.get('async') === 'true'
      const label = query.get('label') ?? ''
      const args = new URLSearchParams()
      for (const [name, value] of query) if (!LINK_PARAMS.includes(name)) args.append(name, value)
      const parsed = parseForm(task, Object.fromEntries([...new Set(args.keys())].map((k) => [k, args.getAll(k).length === 1 ? args.get(k)! : args.getAll(k)])))
      const error = 'issues' in parsed ? [...parsed.issues.values()].map((i) => i.message).join('; ') : undefined
      return render(c, <ConfirmRunPage page={pageContext(c, deps)} task={task} args={'args' in parsed ? parsed.args : undefined} error={error} live={live} label={label} />)
    },

    async enqueue(c) {
      const who = requireEnqueue(c)
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
      await recordAction(c, deps, { action: 'run.enqueue', target: run.id, details: { task: task.key, args: run.args, options } })
      return c.redirect(`${admin}/runs/${run.id}?notice=enqueued`, 303)
    },

    // Removing a task from this server changes what it serves: an administrator's change.
    askRemove(c) {
      requirePermission(c, 'settings:write')
      return render(c, <RemoveTaskPage page={pageContext(c, deps)} task={taskOf(engine, c.req.param('key'))} />)
    },

    async remove(c) {
      requirePermission(c, 'settings:write')
      checkCsrf(c, await c.req.parseBody())
      const task = taskOf(engine, c.req.param('key'))
      engine.remove(task.key)
      await recordAction(c, deps, { action: 'task.remove', target: task.key })
      return c.redirect(`${admin}/task?notice=task-removed&key=${encodeURIComponent(task.key)}`, 303)
    },
  }
}
