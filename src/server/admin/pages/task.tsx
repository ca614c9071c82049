/**
 * One task (`/admin/task/:key`): a form built from its fields, with errors shown at each field
 * and the run options (Run, Start, Enqueue), and the task's recent runs. `?a.<field>=value`
 * prefills the form (edit & retry).
 */
import type { Engine } from '../../../engine/engine.js'
import type { FieldIssue } from '../../../errors.js'
import type { Run } from '../../../store/types.js'
import type { AnyTask } from '../../../task/define.js'
import { taskInfo } from '../../../task/describe.js'
import { requirePermission, runScope, type ServerContext } from '../../caller.js'
import { notFound } from '../../http-errors.js'
import { runRow } from '../../api/run-rows.js'
import { TaskForm, formValues, formWideIssues, prefillValues, type FormValues } from '../form.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { RunsTable } from '../runs-table.js'
import { Icon, TaskBadges } from '../ui.js'
import { loadTaskHistory, TaskMetrics } from '../task-metrics.js'
import type { History } from '../../../engine/history/history.js'

export interface TaskData {
  readonly task: AnyTask
  readonly recent: readonly Run[]
  /** The form's values: the task's defaults, or the arguments the URL prefills. */
  readonly values: FormValues
  readonly history?: History
}

export const taskPage: AdminPage<TaskData> = {
  async load(c, { engine }) {
    requirePermission(c, 'tasks:read')
    const task = taskOf(engine, c.req.param('key'))
    const recent = await recentRunsOf(c, engine, task.key)
    return { task, recent, values: prefillValues(task, new URL(c.req.url).searchParams) ?? formValues(task, undefined), history: await loadTaskHistory(c, engine, task.key) }
  },
  data: ({ task, recent }) => ({ value: { task: taskInfo(task), recentRuns: recent }, name: `task-${task.key}`, rows: () => recent.map(runRow) }),
  view: ({ page, data }) => <TaskPage page={page} task={data.task} values={data.values} issues={new Map()} own={{}} recent={data.recent} history={data.history} />,
}

/** The task named in the path (404 otherwise). */
export function taskOf(engine: Engine, key: string | undefined): AnyTask {
  const task = engine.get(key ?? '')
  if (task === undefined) throw notFound(`unknown task "${key ?? ''}"`)
  return task
}

/** A task's ten newest runs that the caller may read (none without a run-read permission); not counted: the page shows no total. */
export async function recentRunsOf(c: ServerContext, engine: Engine, task: string): Promise<readonly Run[]> {
  const scope = runScope(c)
  if (scope === null) return []
  return (await engine.listRuns({ task, pageSize: 10, count: false, ...(scope.all ? {} : { createdBy: scope.id }) })).data
}

export function TaskPage({
  page,
  task,
  values,
  issues,
  own,
  recent,
  history,
}: {
  page: PageContext
  task: AnyTask
  values: FormValues
  issues: ReadonlyMap<string, FieldIssue>
  own: Readonly<Record<string, string>>
  recent: readonly Run[]
  history?: History | undefined
}) {
  return (
    <Layout page={page} title={task.title} nav="tasks">
      <div class="page-head">
        <div>
          <h1>
            <span class="task-icon">
              <Icon name={task.icon} />
            </span>
            {task.title} <TaskBadges task={task} />
          </h1>
          <p class="sub">
            <span class="mono">{task.key}</span> · {task.category}
            {task.tags.map((tag) => (
              <>
                {' '}
                <span class="tag">{tag}</span>
              </>
            ))}
          </p>
          {task.description === '' ? null : <p>{task.description}</p>}
        </div>
        <div class="actions">
          <a class="button" href={`${page.admin}/runs?task=${encodeURIComponent(task.key)}`}>
            <Icon name="list" /> All runs
          </a>
          <a class="button" href={`${page.admin}/task/${encodeURIComponent(task.key)}/remove`}>
            <Icon name="trash" /> Remove
          </a>
        </div>
      </div>
      <div class="grid grid-2">
        <section class="panel">
          <h2>Run it</h2>
          {issues.size > 0 ? <FormIssues task={task} issues={issues} /> : null}
          <TaskForm task={task} admin={page.admin} csrf={page.csrf} values={values} issues={issues} own={own} canRun={page.may('tasks:run')} />
        </section>
        <section class="panel">
          <h2>Recent runs</h2>
          <RunsTable runs={recent} page={page} showTask={false} />
        </section>
      </div>
      {history === undefined ? null : <TaskMetrics page={page} task={task.key} history={history} />}
    </Layout>
  )
}

/**
 * Above the form: that something is wrong, and every problem no field can show (the task's rules
 * about the arguments as a whole); the others are shown beside their fields.
 */
function FormIssues({ task, issues }: { task: AnyTask; issues: ReadonlyMap<string, FieldIssue> }) {
  const wide = formWideIssues(task, issues)
  return (
    <div class="notice notice-bad" role="alert" id="form-issues">
      {wide.length === issues.size ? 'The values are invalid.' : 'Some values are invalid; see the fields below.'}
      {wide.length === 0 ? null : (
        <ul>
          {wide.map((issue) => (
            <li data-issue={issue.key}>{issue.message}</li>
          ))}
        </ul>
      )}
    </div>
  )
}
