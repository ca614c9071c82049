/**
 * Runs: the filterable list with bulk actions and export; one run with everything about it;
 * workers; bulk-action confirmation.
 */
import type { PoolReport } from '../../../engine/engine.js'
import { RUN_STATES, type Artifact, type Run, type RunFilter, type RunPage, type WorkerInfo } from '../../../store/types.js'
import type { LogEntry } from '../../../task/context.js'
import { Layout, type PageContext } from '../layout.js'
import { Csrf, Duration, ErrorCard, Icon, JsonView, LogTerminal, Pagination, ProgressBar, StatusPill, Time, formatDuration } from '../ui.js'
import { RunsTable, prefillQuery } from './tasks.js'

/** Filter values as they appear in the URL. */
export type FilterParams = Readonly<Record<string, string>>

export const FILTER_PARAMS = ['task', 'status', 'queue', 'label', 'tag', 'createdBy', 'search', 'from', 'to', 'pool'] as const

export function RunsPage({ page, runs, params, tasks }: { page: PageContext; runs: RunPage; params: FilterParams; tasks: readonly string[] }) {
  const query = (extra: Record<string, string>): string => {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries({ ...params, ...extra })) if (v !== '') q.set(k, v)
    return q.toString()
  }
  const exportQuery = query({})
  return (
    <Layout page={page} title="Runs" nav="runs">
      <div class="page-head">
        <div>
          <h1>Runs</h1>
          <p class="sub">{runs.total} matching</p>
        </div>
        <div class="actions">
          <a class="button" href={`${page.admin}/runs/export?${exportQuery}${exportQuery === '' ? '' : '&'}format=csv`}>
            <Icon name="download" /> CSV
          </a>
          <a class="button" href={`${page.admin}/runs/export?${exportQuery}${exportQuery === '' ? '' : '&'}format=json`}>
            <Icon name="download" /> JSON
          </a>
        </div>
      </div>
      <form method="get" class="filters panel" role="search">
        <div class="field">
          <label for="q">Search</label>
          <input type="search" id="q" name="search" value={params.search ?? ''} placeholder="id, task, label, args" data-key="/" />
        </div>
        <div class="field">
          <label for="f-task">Task</label>
          <select id="f-task" name="task">
            <option value="">any</option>
            {tasks.map((t) => (
              <option value={t} selected={params.task === t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">any</option>
            {RUN_STATES.map((s) => (
              <option value={s} selected={params.status === s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-queue">Queue</label>
          <input type="text" id="f-queue" name="queue" value={params.queue ?? ''} />
        </div>
        <div class="field">
          <label for="f-label">Label</label>
          <input type="text" id="f-label" name="label" value={params.label ?? ''} />
        </div>
        <div class="field">
          <label for="f-tag">Tag</label>
          <input type="text" id="f-tag" name="tag" value={params.tag ?? ''} />
        </div>
        <div class="field">
          <label for="f-from">From (UTC)</label>
          <input type="datetime-local" id="f-from" name="from" value={params.from ?? ''} />
        </div>
        <div class="field">
          <label for="f-to">To (UTC)</label>
          <input type="datetime-local" id="f-to" name="to" value={params.to ?? ''} />
        </div>
        {params.createdBy === undefined ? null : <input type="hidden" name="createdBy" value={params.createdBy} />}
        {params.pool === undefined ? null : <input type="hidden" name="pool" value={params.pool} />}
        <button type="submit" class="primary">
          Filter
        </button>
        <a class="button" href={`${page.admin}/runs`}>
          Clear
        </a>
      </form>
      <div class="notice new-runs" id="new-runs" data-count="0" data-src={newRunsSource(page, params)} data-filter={JSON.stringify(params)}>
        <span data-part="text">New runs arrived.</span> <a href={`${page.admin}/runs?${query({ page: '1' })}`}>Show them</a>
      </div>
      <form method="post" action={`${page.admin}/runs/bulk`} class="panel" id="bulk-form" data-live-runs="">
        <Csrf token={page.csrf} />
        <input type="hidden" name="te:return" value={`${page.admin}/runs?${query({})}`} />
        <div class="bulk-bar">
          <span class="selected-count" id="selected-count">
            0 selected
          </span>
          <button type="submit" name="action" value="cancel" class="small" data-confirm="Cancel the selected runs?">
            <Icon name="stop" /> Cancel
          </button>
          <button type="submit" name="action" value="retry" class="small" data-confirm="Retry the selected runs?">
            <Icon name="refresh" /> Retry
          </button>
          <button type="submit" name="action" value="delete" class="small danger" data-confirm="Delete the selected runs? Running ones are cancelled first.">
            <Icon name="trash" /> Delete
          </button>
        </div>
        {runs.data.length === 0 ? (
          <p class="empty">No runs match.</p>
        ) : (
          <div class="table-wrap">
            <table id="runs-table" class="wide">
              <thead>
                <tr>
                  <th>
                    <input type="checkbox" id="select-all" aria-label="select all runs on this page" />
                  </th>
                  <th>Task / label</th>
                  <th>Status</th>
                  <th>Progress</th>
                  <th>Queue</th>
                  <th class="num">Attempt</th>
                  <th>Created</th>
                  <th class="num">Took</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.map((run) => (
                  <tr data-run-id={run.id}>
                    <td>
                      <input type="checkbox" name="id" value={run.id} aria-label={`select run ${run.id}`} />
                    </td>
                    <td>
                      <a href={`${page.admin}/runs/${run.id}`}>{run.task}</a> <span class="muted">{run.label}</span>
                      <div class="faint mono">{run.id}</div>
                    </td>
                    <td data-cell="status">
                      <StatusPill status={run.status} />
                    </td>
                    <td data-cell="progress">{run.progress?.percent === undefined ? <span class="faint">—</span> : <progress max="100" value={String(Math.round(run.progress.percent))} />}</td>
                    <td>{run.queue}</td>
                    <td class="num" data-cell="attempt">
                      {run.attempt}/{run.maxAttempts + run.attemptBase}
                    </td>
                    <td class="nowrap">
                      <Time date={run.createdAt} now={page.now} />
                    </td>
                    <td class="num" data-cell="took">
                      <Duration from={run.startedAt} to={run.finishedAt} />
                    </td>
                    <td class="truncate muted" title={run.error?.message} data-cell="error">
                      {run.error?.message ?? ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination page={runs.page} pageSize={runs.pageSize} total={runs.total} href={(p) => `${page.admin}/runs?${query({ page: String(p) })}`} />
      </form>
    </Layout>
  )
}

/**
 * Where the script counts runs matching the page's filter that were created after the page was
 * rendered (the "new runs arrived" banner): the same filter, from the page's time on, as JSON.
 */
function newRunsSource(page: PageContext, params: FilterParams): string {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (k !== 'from') query.set(k, v)
  const from = filterFromParams(params, 1, 1).from
  const since = new Date(Math.max(page.now, from?.getTime() ?? 0))
  query.set('from', since.toISOString())
  query.set('pageSize', '100')
  query.set('format', 'json')
  return `${page.admin}/runs?${query.toString()}`
}

/** Everything about one run. */
export interface RunDetail {
  readonly run: Run
  readonly logs: readonly LogEntry[]
  readonly artifacts: readonly Artifact[]
  readonly parent: Run | undefined
  readonly pool: PoolReport | undefined
  readonly children: readonly PoolReport[]
  readonly taskKnown: boolean
}

export function RunPage({ page, detail }: { page: PageContext; detail: RunDetail }) {
  const { run } = detail
  const active = run.status === 'pending' || run.status === 'running' || run.status === 'waiting'
  return (
    <Layout page={page} title={`${run.task} · ${run.status}`} nav="runs">
      <div class="page-head" id="run-page" data-run-id={run.id} data-status={run.status}>
        <div>
          <h1>
            <a href={`${page.admin}/task/${encodeURIComponent(run.task)}`}>{run.task}</a> <span data-cell="status"><StatusPill status={run.status} /></span>
          </h1>
          <p class="sub">
            <span class="mono">{run.id}</span> · {run.label} · queue {run.queue}
            {run.cancelRequestedAt !== null && active ? <span class="badge badge-danger">cancel requested</span> : null}
          </p>
        </div>
        <div class="actions">
          {active ? (
            <form method="post" action={`${page.admin}/runs/${run.id}/cancel`} class="inline" data-confirm="Cancel this run?">
              <Csrf token={page.csrf} />
              <button type="submit">
                <Icon name="stop" /> Cancel
              </button>
            </form>
          ) : null}
          {run.status === 'failed' || run.status === 'cancelled' ? (
            <form method="post" action={`${page.admin}/runs/${run.id}/retry`} class="inline">
              <Csrf token={page.csrf} />
              <button type="submit" class="primary">
                <Icon name="refresh" /> Retry
              </button>
            </form>
          ) : null}
          {detail.taskKnown ? (
            <a class="button" href={`${page.admin}/task/${encodeURIComponent(run.task)}?${prefillQuery(run.args)}`}>
              Edit &amp; retry
            </a>
          ) : null}
          <form method="post" action={`${page.admin}/runs/${run.id}/delete`} class="inline" data-confirm="Delete this run? A running run is cancelled first.">
            <Csrf token={page.csrf} />
            <button type="submit" class="danger">
              <Icon name="trash" /> Delete
            </button>
          </form>
        </div>
      </div>
      {run.error === null ? null : <ErrorCard error={run.error} />}
      <div class="grid grid-2">
        <section class="panel">
          <h2>Progress</h2>
          <ProgressBar progress={run.progress} id="run-progress" />
          {run.progress === null ? (
            <p class="faint" data-no-progress="">
              {active ? 'No progress reported yet.' : 'No progress was reported.'}
            </p>
          ) : null}
          <h3>Timeline</h3>
          <Timeline run={run} pools={detail.children} now={page.now} />
        </section>
        <section class="panel">
          <h2>Details</h2>
          <dl class="kv">
            <dt>Attempt</dt>
            <dd>
              {run.attempt} of {run.maxAttempts + run.attemptBase}
            </dd>
            <dt>Priority</dt>
            <dd>{run.priority}</dd>
            <dt>Created by</dt>
            <dd>{run.createdBy ?? <span class="faint">—</span>}</dd>
            <dt>Category</dt>
            <dd>{run.category}</dd>
            <dt>Tags</dt>
            <dd>{run.tags.length === 0 ? <span class="faint">none</span> : run.tags.map((t) => <span class="tag">{t}</span>)}</dd>
            <dt>Time limit</dt>
            <dd>{run.timeoutMs === null ? <span class="faint">none</span> : formatDuration(run.timeoutMs)}</dd>
            <dt>Worker</dt>
            <dd class="mono">{run.workerId ?? <span class="faint">—</span>}</dd>
            {run.scheduleId === null ? null : (
              <>
                <dt>Schedule</dt>
                <dd>
                  <a href={`${page.admin}/schedules/${encodeURIComponent(run.scheduleId)}`}>{run.scheduleId}</a>
                  {run.fireKey === null ? (
                    <span class="faint"> (triggered by hand)</span>
                  ) : (
                    <div class="mono small faint" title="fire key: one run per tick, whatever the number of processes">
                      {run.fireKey}
                    </div>
                  )}
                </dd>
              </>
            )}
            {run.uniqueKey === null ? null : (
              <>
                <dt>Unique key</dt>
                <dd class="mono">{run.uniqueKey}</dd>
              </>
            )}
            {run.notAfter === null ? null : (
              <>
                <dt>Expires</dt>
                <dd>
                  <Time date={run.notAfter} now={page.now} />
                </dd>
              </>
            )}
          </dl>
        </section>
      </div>
      <section class="panel">
        <h2>Log</h2>
        <LogTerminal logs={detail.logs} id="run-log" follow={active} finished={!active} />
      </section>
      <div class="grid grid-2">
        <section class="panel">
          <h2>Arguments</h2>
          <JsonView value={run.args} id="run-args" />
        </section>
        <section class="panel">
          <h2>Result</h2>
          {run.status === 'succeeded' ? <JsonView value={run.data} id="run-data" /> : <p class="empty">{active ? 'Not finished yet.' : 'No result.'}</p>}
        </section>
      </div>
      {run.attempts.length === 0 ? null : (
        <section class="panel">
          <h2>Attempts</h2>
          <div class="table-wrap">
            <table class="wide">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Outcome</th>
                  <th>Worker</th>
                  <th>Started</th>
                  <th class="num">Took</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {run.attempts.map((a) => (
                  <tr>
                    <td class="num">{a.number}</td>
                    <td>{a.outcome}</td>
                    <td class="mono truncate">{a.workerId ?? ''}</td>
                    <td>
                      <Time date={a.startedAt} now={page.now} />
                    </td>
                    <td class="num">{formatDuration(a.finishedAt.getTime() - a.startedAt.getTime())}</td>
                    <td>
                      {a.error === null ? (
                        <span class="faint">—</span>
                      ) : (
                        <details>
                          <summary>
                            <span class="mono">{a.error.code}</span> {a.error.message}
                          </summary>
                          {a.error.stack === undefined ? null : <pre class="stack">{a.error.stack}</pre>}
                        </details>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {detail.artifacts.length === 0 ? null : (
        <section class="panel">
          <h2>Artifacts</h2>
          <div class="table-wrap">
            <table>
              <tbody>
                {detail.artifacts.map((a) => (
                  <tr>
                    <td>
                      <a href={`${page.base}/api/runs/${run.id}/artifacts/${encodeURIComponent(a.name)}`} download={a.name}>
                        <Icon name="download" /> {a.name}
                      </a>
                    </td>
                    <td class="muted">{a.contentType}</td>
                    <td class="num">{a.size.toLocaleString('en-US')} bytes</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {detail.parent === undefined && detail.pool === undefined && detail.children.length === 0 ? null : (
        <section class="panel">
          <h2>Pool tree</h2>
          {detail.parent === undefined ? null : (
            <p>
              Parent run: <a href={`${page.admin}/runs/${detail.parent.id}`}>{detail.parent.task}</a> <StatusPill status={detail.parent.status} />
            </p>
          )}
          {detail.pool === undefined ? null : <PoolSummary title="In pool" report={detail.pool} page={page} />}
          {detail.children.map((child) => (
            <PoolSummary title="Opened pool" report={child} page={page} />
          ))}
        </section>
      )}
    </Layout>
  )
}

function PoolSummary({ title, report, page }: { title: string; report: PoolReport; page: PageContext }) {
  const s = report.status
  return (
    <div>
      <h3>
        {title} {report.pool.label ?? ''} <span class="faint mono">{report.pool.id.slice(-8)}</span>
      </h3>
      <ProgressBar progress={{ percent: s.progress, message: `${s.complete} of ${s.total} done · ${s.failed} failed · ${s.running + s.waiting} running${s.done ? ' · done' : ''}` }} />
      <RunsTable runs={report.runs.slice(0, 50)} page={page} showTask={false} describe />
      {report.runs.length > 50 ? <a href={`${page.admin}/runs?pool=${report.pool.id}`}>All {report.runs.length} runs of the pool →</a> : null}
    </div>
  )
}

/** What happened to the run, oldest first: from its attempts, its pools and its final state. */
function Timeline({ run, pools, now }: { run: Run; pools: readonly PoolReport[]; now: number }) {
  const items: { when: Date; text: string; kind: string }[] = [{ when: run.createdAt, text: 'created', kind: '' }]
  if (run.enqueuedAt.getTime() !== run.createdAt.getTime()) items.push({ when: run.enqueuedAt, text: 'pending again (retried)', kind: 'warn' })
  for (const a of run.attempts) {
    items.push({ when: a.startedAt, text: `attempt ${a.number} started`, kind: 'run' })
    items.push({ when: a.finishedAt, text: `attempt ${a.number}: ${a.outcome}${a.error === null ? '' : ` — ${a.error.message}`}`, kind: a.outcome === 'succeeded' ? 'ok' : a.outcome === 'failed' ? 'bad' : 'warn' })
  }
  const current = run.attempts.at(-1)?.number ?? 0
  if ((run.status === 'running' || run.status === 'waiting') && run.startedAt !== null && run.attempt > current) {
    items.push({ when: run.startedAt, text: `attempt ${run.attempt} started`, kind: 'run' })
  }
  // A run waits while a pool it opened has runs to finish, and resumes when the pool is done.
  for (const { pool, status } of pools) {
    const name = pool.label === null ? `pool ${pool.id.slice(-8)}` : `pool "${pool.label}"`
    items.push({ when: pool.createdAt, text: `opened ${name}`, kind: '' })
    if (run.status === 'waiting' && !status.done) {
      items.push({ when: pool.closedAt ?? pool.createdAt, text: `waiting on ${name}: ${status.complete} of ${status.total} done`, kind: 'wait' })
    } else if (status.done) {
      items.push({ when: new Date(pool.createdAt.getTime() + status.runtimeMs), text: `resumed: ${name} done (${status.succeeded} succeeded, ${status.failed} failed, ${status.cancelled} cancelled)`, kind: 'run' })
    }
  }
  if (run.status === 'pending' && run.runAt.getTime() > now) items.push({ when: run.runAt, text: 'due', kind: '' })
  if (run.cancelRequestedAt !== null) items.push({ when: run.cancelRequestedAt, text: `cancel requested${run.cancelReason === null ? '' : `: ${run.cancelReason}`}`, kind: 'warn' })
  // The end, unless its last attempt already says it (a run cancelled or expired while pending has none).
  const last = run.attempts.at(-1)
  if ((run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled') && run.finishedAt !== null && last?.outcome !== run.status) {
    items.push({ when: run.finishedAt, text: `${run.status}${run.error === null ? '' : ` — ${run.error.message}`}`, kind: run.status === 'succeeded' ? 'ok' : run.status === 'failed' ? 'bad' : 'warn' })
  }
  items.sort((a, b) => a.when.getTime() - b.when.getTime())
  return (
    <ol class="timeline" id="run-timeline">
      {items.map((item) => (
        <li class={item.kind}>
          <div>{item.text}</div>
          <div class="when">
            <Time date={item.when} now={now} /> · {item.when.toISOString().replace('T', ' ').slice(0, 23)} UTC
          </div>
        </li>
      ))}
    </ol>
  )
}

export function WorkersPage({ page, workers }: { page: PageContext; workers: readonly WorkerInfo[] }) {
  return (
    <Layout page={page} title="Workers" nav="workers">
      <div class="page-head">
        <div>
          <h1>Workers</h1>
          <p class="sub">Processes that heartbeat into the store, on any machine: workers that execute runs, and servers that serve live views.</p>
        </div>
      </div>
      <section class="panel" data-live-region="workers" data-live-every="10000">
        {workers.length === 0 ? (
          <p class="empty">No live processes.</p>
        ) : (
          <div class="table-wrap">
            <table class="wide">
              <thead>
                <tr>
                  <th>Process</th>
                  <th>Role</th>
                  <th>Host</th>
                  <th class="num">PID</th>
                  <th class="num">Busy / slots</th>
                  <th>Queues</th>
                  <th>Heartbeat</th>
                  <th>Started</th>
                  <th>Running now</th>
                </tr>
              </thead>
              <tbody>
                {workers.map((w) => (
                  <tr>
                    <td class="mono">{w.id}</td>
                    <td>{w.concurrency === 0 ? 'server' : w.observer ? 'worker + server' : 'worker'}</td>
                    <td>{w.host}</td>
                    <td class="num">{w.pid}</td>
                    <td class="num">{w.concurrency === 0 ? <span class="faint">—</span> : `${w.busy} / ${w.concurrency}`}</td>
                    <td>{w.queues === null ? <span class="faint">all</span> : w.queues.join(', ')}</td>
                    <td>
                      <Time date={w.heartbeatAt} now={page.now} />
                    </td>
                    <td>
                      <Time date={w.startedAt} now={page.now} />
                    </td>
                    <td>
                      {w.running.length === 0 ? (
                        <span class="faint">idle</span>
                      ) : (
                        w.running.slice(0, 10).map((id) => (
                          <a class="mono tag" href={`${page.admin}/runs/${id}`}>
                            {id.slice(-8)}
                          </a>
                        ))
                      )}
                      {w.running.length > 10 ? <span class="faint">+{w.running.length - 10}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Layout>
  )
}

/** Without JavaScript, bulk actions ask here before they act. */
export function BulkConfirmPage({ page, action, runs, returnTo }: { page: PageContext; action: string; runs: readonly Run[]; returnTo: string }) {
  return (
    <Layout page={page} title={`${action} ${runs.length} runs?`} nav="runs">
      <h1>
        {action[0]!.toUpperCase() + action.slice(1)} {runs.length} runs?
      </h1>
      <section class="panel">
        <form method="post" action={`${page.admin}/runs/bulk`}>
          <Csrf token={page.csrf} />
          <input type="hidden" name="action" value={action} />
          <input type="hidden" name="te:confirm" value="yes" />
          <input type="hidden" name="te:return" value={returnTo} />
          <ul>
            {runs.map((run) => (
              <li>
                <input type="hidden" name="id" value={run.id} />
                {run.task} <span class="mono faint">{run.id}</span> <StatusPill status={run.status} />
              </li>
            ))}
          </ul>
          <div class="actions">
            <button type="submit" class={action === 'delete' ? 'danger' : 'primary'}>
              Yes, {action}
            </button>
            <a class="button" href={returnTo}>
              Back
            </a>
          </div>
        </form>
      </section>
    </Layout>
  )
}

export function LoginPage({ admin, next, failed }: { admin: string; next: string; failed: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Sign in · taskengine</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={`${admin}/assets/app.css`} />
      </head>
      <body>
        <main class="login">
          <section class="panel">
            <h1>
              <Icon name="bolt" /> taskengine
            </h1>
            <p class="muted">This server requires its access token.</p>
            {failed ? <div class="notice notice-bad">That token is not valid.</div> : null}
            <form method="post" action={`${admin}/login`}>
              <input type="hidden" name="next" value={next} />
              <div class="field">
                <label for="token">Token</label>
                <input type="password" id="token" name="token" autocomplete="current-password" required />
              </div>
              <button type="submit" class="primary">
                Sign in
              </button>
            </form>
          </section>
        </main>
      </body>
    </html>
  )
}

/** The run list filter from URL parameters (the same names as the API). */
export function filterFromParams(params: FilterParams, page: number, pageSize: number): RunFilter {
  const filter: { -readonly [K in keyof RunFilter]: RunFilter[K] } = { page, pageSize }
  if (params.task !== undefined) filter.task = params.task
  if (params.status !== undefined && (RUN_STATES as readonly string[]).includes(params.status)) filter.status = params.status as Run['status']
  if (params.queue !== undefined) filter.queue = params.queue
  if (params.label !== undefined) filter.label = params.label
  if (params.tag !== undefined) filter.tag = params.tag
  if (params.createdBy !== undefined) filter.createdBy = params.createdBy
  if (params.search !== undefined) filter.search = params.search
  if (params.pool !== undefined) filter.poolId = params.pool
  for (const key of ['from', 'to'] as const) {
    const text = params[key]
    if (text === undefined) continue
    const date = new Date(/T\d\d:\d\d$/.test(text) ? `${text}Z` : text)
    if (!Number.isNaN(date.getTime())) filter[key] = date
  }
  return filter
}
