/**
 * Task pages: the registry by category, one task with its form and recent runs, the result of
 * a synchronous run, the live view of a started run, and the confirmations that keep GETs safe.
 */
import type { FieldIssue } from '../../../errors.js'
import type { Run } from '../../../store/types.js'
import type { RunResult } from '../../../task/context.js'
import type { AnyTask } from '../../../task/define.js'
import type { TaskCategory } from '../../../task/registry.js'
import { TaskForm, type FormValues } from '../form.js'
import { Layout, type PageContext } from '../layout.js'
import { Csrf, ErrorCard, Icon, JsonView, LogTerminal, ProgressBar, StatusPill, Time, formatDuration } from '../ui.js'

function TaskBadges({ task }: { task: AnyTask }) {
  return (
    <>
      {task.dangerous === undefined ? null : (
        <span class="badge badge-danger" title={task.dangerous}>
          dangerous
        </span>
      )}
      {task.expensive ? <span class="badge badge-expensive">expensive</span> : null}
    </>
  )
}

export function TasksPage({ page, categories, query }: { page: PageContext; categories: readonly TaskCategory[]; query: string }) {
  const q = query.trim().toLowerCase()
  const match = (t: AnyTask): boolean => q === '' || [t.key, t.title, t.description, t.category, ...t.tags].some((s) => s.toLowerCase().includes(q))
  const total = categories.reduce((n, c) => n + c.tasks.length, 0)
  return (
    <Layout page={page} title="Tasks" nav="tasks">
      <div class="page-head">
        <div>
          <h1>Tasks</h1>
          <p class="sub">{total} registered</p>
        </div>
        <form method="get" class="filters" role="search">
          <div class="field">
            <label for="task-search">Search</label>
            <input type="search" id="task-search" name="q" value={query} placeholder="key, title, tag…" data-filter-cards=".task-card" data-key="/" />
          </div>
        </form>
      </div>
      <div class="task-groups">
        {categories.map((category) => {
          const shown = category.tasks.filter(match)
          if (shown.length === 0) return null
          return (
            <section>
              <h2>{category.name}</h2>
              <div class="task-grid">
                {shown.map((task) => (
                  <a class="task-card" href={`${page.admin}/task/${encodeURIComponent(task.key)}`} data-search={[task.key, task.title, task.description, task.category, ...task.tags].join(' ').toLowerCase()}>
                    <div class="title">
                      <span class="task-icon">
                        <Icon name={task.icon} />
                      </span>
                      {task.title}
                    </div>
                    <div class="key">{task.key}</div>
                    {task.description === '' ? null : <div class="desc">{task.description}</div>}
                    <div>
                      <TaskBadges task={task} />
                      {task.tags.map((tag) => (
                        <span class="tag">{tag}</span>
                      ))}
                    </div>
                  </a>
                ))}
              </div>
            </section>
          )
        })}
        {total === 0 ? <p class="empty">No tasks registered.</p> : null}
      </div>
    </Layout>
  )
}

export function TaskPage({
  page,
  task,
  values,
  issues,
  own,
  recent,
}: {
  page: PageContext
  task: AnyTask
  values: FormValues
  issues: ReadonlyMap<string, FieldIssue>
  own: Readonly<Record<string, string>>
  recent: readonly Run[]
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
              <span class="tag">{tag}</span>
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
          {issues.size > 0 ? (
            <div class="notice notice-bad" role="alert">
              Some values are invalid; see the fields below.
            </div>
          ) : null}
          <TaskForm task={task} admin={page.admin} csrf={page.csrf} values={values} issues={issues} own={own} />
        </section>
        <section class="panel">
          <h2>Recent runs</h2>
          <RunsTable runs={recent} page={page} showTask={false} />
        </section>
      </div>
    </Layout>
  )
}

/** A compact table of runs (task page, pools). */
export function RunsTable({ runs, page, showTask }: { runs: readonly Run[]; page: PageContext; showTask: boolean }) {
  if (runs.length === 0) return <p class="empty">No runs yet.</p>
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Run</th>
            {showTask ? <th>Task</th> : null}
            <th>Status</th>
            <th>Progress</th>
            <th>Created</th>
            <th class="num">Took</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr data-run-id={run.id}>
              <td class="mono">
                <a href={`${page.admin}/runs/${run.id}`}>{run.label}</a> <span class="faint">{run.id.slice(-8)}</span>
              </td>
              {showTask ? <td>{run.task}</td> : null}
              <td data-cell="status">
                <StatusPill status={run.status} />
              </td>
              <td data-cell="progress">
                {run.progress?.percent === undefined ? <span class="faint">—</span> : <progress max="100" value={String(Math.round(run.progress.percent))} />}
              </td>
              <td>
                <Time date={run.createdAt} now={page.now} />
              </td>
              <td class="num">{run.startedAt !== null && run.finishedAt !== null ? formatDuration(run.finishedAt.getTime() - run.startedAt.getTime()) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

export function ResultPage({ page, task, result }: { page: PageContext; task: AnyTask; result: RunResult }) {
  return (
    <Layout page={page} title={`${task.title}: ${result.status}`} nav="tasks">
      <div class="page-head">
        <div>
          <h1>
            <a href={`${page.admin}/task/${encodeURIComponent(task.key)}`}>{task.title}</a> <StatusPill status={result.status} />
          </h1>
          <p class="sub">
            Run <span class="mono">{result.id}</span> · label {result.label} · {formatDuration(result.durationMs)}
          </p>
        </div>
        <div class="actions">
          <a class="button" href={`${page.admin}/task/${encodeURIComponent(task.key)}?${prefillQuery(result.args)}`}>
            <Icon name="refresh" /> Edit &amp; run again
          </a>
        </div>
      </div>
      {result.error === undefined ? null : <ErrorCard error={result.error} />}
      <div class="grid grid-2">
        <section class="panel">
          <h2>Result</h2>
          <JsonView value={result.data ?? null} id="result-data" />
        </section>
        <section class="panel">
          <h2>Details</h2>
          <dl class="kv">
            <dt>Status</dt>
            <dd>
              <StatusPill status={result.status} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time date={result.startedAt} now={page.now} /> <span class="faint">{result.startedAt.toISOString()}</span>
            </dd>
            <dt>Duration</dt>
            <dd>{formatDuration(result.durationMs)}</dd>
            <dt>Tags</dt>
            <dd>{result.tags.length === 0 ? <span class="faint">none</span> : result.tags.map((t) => <span class="tag">{t}</span>)}</dd>
            <dt>Progress</dt>
            <dd>{result.progress === undefined ? <span class="faint">none reported</span> : <ProgressBar progress={result.progress} />}</dd>
          </dl>
          <h3>Arguments</h3>
          <JsonView value={result.args} id="result-args" />
        </section>
      </div>
      <section class="panel">
        <h2>Log</h2>
        <LogTerminal logs={result.logs} id="result-log" />
        {result.droppedLogs > 0 ? <p class="faint">{result.droppedLogs} earlier lines were dropped.</p> : null}
      </section>
    </Layout>
  )
}

/** The live view: the client script starts the run over WebSocket and streams it here. */
export function LivePage({ page, task, query }: { page: PageContext; task: AnyTask; query: string }) {
  const socket = `${page.admin}/task/${encodeURIComponent(task.key)}/start?${query}`
  return (
    <Layout page={page} title={`${task.title} (live)`} nav="tasks">
      <div class="page-head">
        <div>
          <h1>
            <a href={`${page.admin}/task/${encodeURIComponent(task.key)}`}>{task.title}</a>{' '}
            <span class="status status-running" id="live-status" data-status="running">
              starting
            </span>
          </h1>
          <p class="sub">Live: log lines and progress arrive as the run writes them. Leaving this page cancels the run.</p>
        </div>
      </div>
      <noscript>
        <div class="notice notice-warn">
          The live view needs JavaScript.{' '}
          <a href={`${page.admin}/task/${encodeURIComponent(task.key)}/run?${query}`}>Run it without streaming instead.</a>
        </div>
      </noscript>
      <section class="panel" id="live-run" data-socket={socket}>
        <ProgressBar progress={undefined} id="live-progress" />
        <h3>Log</h3>
        <LogTerminal logs={[]} id="live-log" follow />
        <div id="live-result" hidden>
          <h3>Result</h3>
          <div id="live-error" class="error-card" hidden>
            <span class="message" />
          </div>
          <pre class="json" id="live-data" />
        </div>
      </section>
    </Layout>
  )
}

/** GET /admin/task/:key/run?<args>: shows what would run and asks for a POST (GET never changes state). */
export function ConfirmRunPage({ page, task, args, error }: { page: PageContext; task: AnyTask; args: Readonly<Record<string, unknown>> | undefined; error: string | undefined }) {
  return (
    <Layout page={page} title={`Run ${task.title}?`} nav="tasks">
      <h1>Run {task.title}?</h1>
      {error === undefined ? null : <div class="notice notice-bad">{error}</div>}
      <section class="panel">
        <p>These arguments came with the link. Running changes state, so it needs a click:</p>
        {args === undefined ? null : <JsonView value={args} id="confirm-args" />}
        {args === undefined ? null : (
          <form method="post" action={`${page.admin}/task/${encodeURIComponent(task.key)}/run`} data-dangerous={task.dangerous ?? undefined}>
            <Csrf token={page.csrf} />
            {Object.entries(args).map(([key, value]) =>
              (Array.isArray(value) ? value : [value]).map((v) => <input type="hidden" name={key} value={v instanceof Date ? v.toISOString() : String(v as string)} />),
            )}
            {task.dangerous === undefined ? null : (
              <div class="danger-box">
                <strong>Dangerous:</strong> {task.dangerous}
                <label class="checkbox-label">
                  <input type="checkbox" name="te:confirm" value="yes" /> I understand; run it anyway
                </label>
              </div>
            )}
            <div class="actions">
              <button type="submit" class="primary">
                <Icon name="play" /> Run
              </button>
              <a class="button" href={`${page.admin}/task/${encodeURIComponent(task.key)}`}>
                Edit first
              </a>
            </div>
          </form>
        )}
      </section>
    </Layout>
  )
}

export function RemoveTaskPage({ page, task }: { page: PageContext; task: AnyTask }) {
  return (
    <Layout page={page} title={`Remove ${task.title}?`} nav="tasks">
      <h1>Remove {task.title}?</h1>
      <section class="panel">
        <p>
          The task <span class="mono">{task.key}</span> will be removed from this server's registry until the process restarts (tasks registered in code come back then). Its stored runs stay;
          pending ones are not executed by this process while the task is gone.
        </p>
        <form method="post" action={`${page.admin}/task/${encodeURIComponent(task.key)}/remove`} class="actions">
          <Csrf token={page.csrf} />
          <button type="submit" class="danger">
            <Icon name="trash" /> Remove task
          </button>
          <a class="button" href={`${page.admin}/task/${encodeURIComponent(task.key)}`}>
            Keep it
          </a>
        </form>
      </section>
    </Layout>
  )
}

/** `a.<key>=value` query parameters that prefill a task form (no clash with `format`). */
export function prefillQuery(args: Readonly<Record<string, unknown>>): string {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(args)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null || v === undefined) continue
      query.append(`a.${key}`, v instanceof Date ? v.toISOString() : String(v as string))
    }
  }
  return query.toString()
}
