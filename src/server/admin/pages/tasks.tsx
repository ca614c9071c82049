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
import { Csrf, ErrorCard, Icon, JsonShell, JsonView, LogTerminal, ProgressBar, StatusPill, Time, formatDuration } from '../ui.js'

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

/** `name=world, count=3`: a run's arguments in one short line (a pool's runs differ by them). */
export function argsSummary(args: Readonly<Record<string, unknown>>, max = 60): string {
  const short = (value: unknown): string => {
    const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
    return text.length > 24 ? `${text.slice(0, 23)}…` : text
  }
  const text = Object.entries(args)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${short(v)}`)
    .join(', ')
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/**
 * A compact table of runs (task page, schedule history, pools). `describe` names each run by
 * its task and arguments (a pool's runs share one label), with the label only when it says more.
 */
export function RunsTable({ runs, page, showTask, describe = false }: { runs: readonly Run[]; page: PageContext; showTask: boolean; describe?: boolean }) {
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
              {describe ? (
                <td>
                  <a href={`${page.admin}/runs/${run.id}`}>{run.task}</a> <span class="mono muted small">{argsSummary(run.args)}</span>
                  {run.label === 'ad-hoc' ? null : <span class="tag">{run.label}</span>} <span class="faint mono small">{run.id.slice(-8)}</span>
                </td>
              ) : (
                <td class="mono">
                  <a href={`${page.admin}/runs/${run.id}`}>{run.label}</a> <span class="faint">{run.id.slice(-8)}</span>
                </td>
              )}
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
              <td class="num" data-cell="took">
                {run.startedAt !== null && run.finishedAt !== null ? formatDuration(run.finishedAt.getTime() - run.startedAt.getTime()) : ''}
              </td>
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
          {result.data === undefined && result.status !== 'succeeded' ? <p class="empty">No result: the run {result.status}.</p> : <JsonView value={result.data ?? null} id="result-data" />}
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
        <LogTerminal logs={result.logs} id="result-log" finished />
        {result.droppedLogs > 0 ? <p class="faint">{result.droppedLogs} earlier lines were dropped.</p> : null}
      </section>
    </Layout>
  )
}

/** Hidden inputs that post `args` back as a task form (the same parser reads them). */
function ArgsInputs({ args }: { args: Readonly<Record<string, unknown>> }) {
  return (
    <>
      {Object.entries(args).map(([key, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => (v === undefined || v === null ? null : <input type="hidden" name={key} value={v instanceof Date ? v.toISOString() : String(v as string)} />)),
      )}
    </>
  )
}

/**
 * The live view, in answer to the posted form: the client script opens the start socket with
 * the one-time `ticket` the POST earned, and streams the run here.
 */
export function LivePage({ page, task, ticket, args, label }: { page: PageContext; task: AnyTask; ticket: string; args: Readonly<Record<string, unknown>>; label: string }) {
  const base = `${page.admin}/task/${encodeURIComponent(task.key)}`
  return (
    <Layout page={page} title={`${task.title} (live)`} nav="tasks">
      <div class="page-head">
        <div>
          <h1>
            <a href={base}>{task.title}</a>{' '}
            <span class="status status-running" id="live-status" data-status="running">
              starting
            </span>
          </h1>
          <p class="sub" id="live-sub">Live: log lines and progress arrive as the run writes them. The run executes in this server process: leaving this page cancels it.</p>
        </div>
        <div class="actions" id="live-actions" hidden>
          <a class="button primary" href={`${base}?${prefillQuery(args)}`}>
            <Icon name="refresh" /> Edit &amp; run again
          </a>
        </div>
      </div>
      <noscript>
        <div class="notice notice-warn">
          The live view needs JavaScript.
          <form method="post" action={`${base}/run`} class="inline">
            <Csrf token={page.csrf} />
            <ArgsInputs args={args} />
            {label === '' ? null : <input type="hidden" name="te:label" value={label} />}
            {task.dangerous === undefined ? null : <input type="hidden" name="te:confirm" value="yes" />}{' '}
            <button type="submit" class="small">
              Run it without streaming instead
            </button>
          </form>
        </div>
      </noscript>
      <div id="live-interrupted" class="notice notice-bad" role="alert" hidden>
        <strong>Connection lost: the run was interrupted.</strong> A run started here executes in the server process and is cancelled when this page loses its connection (the server
        restarted, or the network dropped); it was not stored. <a href={`${page.admin}/runs?task=${encodeURIComponent(task.key)}`}>See the task's stored runs</a> ·{' '}
        <a href={`${base}?${prefillQuery(args)}`}>start it again</a> (or enqueue it, to get a durable run that survives restarts).
      </div>
      <div id="live-result" hidden>
        <div id="live-error" class="error-card" role="alert" hidden>
          <div class="split">
            <span class="message" data-part="message" />
            <span class="badge badge-danger mono" data-part="code" />
          </div>
          <details class="stack" data-part="stack" hidden>
            <summary>
              Stack trace (<span data-part="name" />)
            </summary>
            <pre class="stack" data-part="stack-text" />
          </details>
        </div>
        <div class="grid grid-2">
          <section class="panel">
            <h2>Result</h2>
            <JsonShell id="live-data" />
          </section>
          <section class="panel">
            <h2>Details</h2>
            <dl class="kv">
              <dt>Status</dt>
              <dd data-part="status" />
              <dt>Run</dt>
              <dd class="mono" data-part="id" />
              <dt>Label</dt>
              <dd data-part="label" />
              <dt>Started</dt>
              <dd data-part="started" />
              <dt>Duration</dt>
              <dd data-part="duration" />
              <dt>Tags</dt>
              <dd data-part="tags" />
            </dl>
            <h3>Arguments</h3>
            <JsonView value={args} id="live-args" />
          </section>
        </div>
      </div>
      <section class="panel" id="live-run" data-socket={`${base}/start?ticket=${encodeURIComponent(ticket)}`} data-task={task.key} data-runs={`${page.admin}/runs`}>
        <ProgressBar progress={undefined} id="live-progress" />
        <h3>Log</h3>
        <LogTerminal logs={[]} id="live-log" follow />
      </section>
    </Layout>
  )
}

/** GET /admin/task/:key/run?<args>: shows what would run and asks for a POST (a GET never changes state). */
export function ConfirmRunPage({
  page,
  task,
  args,
  error,
  live,
  label,
}: {
  page: PageContext
  task: AnyTask
  args: Readonly<Record<string, unknown>> | undefined
  error: string | undefined
  live: boolean
  label: string
}) {
  const base = `${page.admin}/task/${encodeURIComponent(task.key)}`
  return (
    <Layout page={page} title={`Run ${task.title}?`} nav="tasks">
      <h1>
        {live ? 'Start' : 'Run'} {task.title}? <TaskBadges task={task} />
      </h1>
      {error === undefined ? null : <div class="notice notice-bad">{error}</div>}
      <section class="panel" id="confirm-run">
        <p>These arguments came with the link. Running a task changes state, so it takes a click here{task.dangerous === undefined ? '' : ' and your confirmation'}:</p>
        {args === undefined ? null : <JsonView value={args} id="confirm-args" />}
        {label === '' ? null : (
          <p>
            Label: <span class="mono">{label}</span>
          </p>
        )}
        {args === undefined ? (
          <p>
            <a class="button" href={base}>
              Open the form
            </a>
          </p>
        ) : (
          <form method="post" action={`${base}/${live ? 'start' : 'run'}`} data-dangerous={task.dangerous ?? undefined}>
            <Csrf token={page.csrf} />
            <ArgsInputs args={args} />
            {label === '' ? null : <input type="hidden" name="te:label" value={label} />}
            {task.dangerous === undefined ? null : (
              <div class="danger-box">
                <strong>
                  <Icon name="alert" /> Dangerous:
                </strong>{' '}
                {task.dangerous}
                <label class="checkbox-label">
                  <input type="checkbox" name="te:confirm" value="yes" /> I understand; run it anyway
                </label>
              </div>
            )}
            <div class="actions">
              <button type="submit" class="primary">
                <Icon name={live ? 'timer' : 'play'} /> {live ? 'Start and watch live' : 'Run'}
              </button>
              <a class="button" href={`${base}?${prefillQuery(args)}`}>
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
