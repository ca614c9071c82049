/**
 * The runs list (`/admin/runs`): filters, status and progress updating live, a notice when new
 * matching runs arrive, bulk cancel / retry / delete, and CSV or JSON export.
 */
import { RUN_STATES, type RunPage } from '../../../store/types.js'
import { runRow } from '../../api/run-rows.js'
import { readScope } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import { positive, type AdminPage } from '../page.js'
import { filterFromParams, filterParams, type FilterParams } from '../run-filter.js'
import { Csrf, Duration, Icon, Pagination, StatusPill, Time } from '../ui.js'
import { formatCount } from '../shared/format.js'

export interface RunsData {
  readonly runs: RunPage
  readonly params: FilterParams
  /** Task keys, for the filter's choices. */
  readonly tasks: readonly string[]
}

export const runsPage: AdminPage<RunsData> = {
  async load(c, { engine }) {
    const scope = readScope(c)
    const params = filterParams(c)
    const page = positive(c.req.query('page'), 1)
    const pageSize = Math.min(100, positive(c.req.query('pageSize'), 25))
    const filter = filterFromParams(params, page, pageSize)
    const runs = await engine.listRuns(scope.all ? filter : { ...filter, createdBy: scope.id })
    return { runs, params, tasks: engine.list().map((t) => t.key) }
  },
  data: ({ runs }) => ({ value: runs, name: 'runs', rows: () => runs.data.map(runRow) }),
  view: ({ page, data }) => <RunsPage page={page} runs={data.runs} params={data.params} tasks={data.tasks} />,
}

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
          <p class="sub">{formatCount(runs.total)} matching</p>
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
