/**
 * The runs list (`/admin/runs`): filters, status and progress updating live, a notice when new
 * matching runs arrive, bulk cancel / retry / delete, Compare for two ticked runs, and CSV or
 * JSON export.
 */
import type { FieldIssue } from '../../../errors.js'
import { RUN_STATES, type RunPage, type RunSort } from '../../../store/types.js'
import { runRow } from '../../api/run-rows.js'
import { readScope } from '../../caller.js'
import { HttpError } from '../../http-errors.js'
import { Layout, type PageContext } from '../layout.js'
import { positive, wantsData, type AdminPage } from '../page.js'
import { filterParams, parseFilterParams, sortParam, type FilterParams } from '../run-filter.js'
import { RunsList } from '../runs-list.js'
import { Csrf, Icon, Pagination } from '../ui.js'
import { formatCount } from '../shared/format.js'
import { UnservedNotice, unservedShown } from '../unserved-notice.js'
import type { UnservedTask } from '../../../engine/durable/unserved.js'

export interface RunsData {
  readonly runs: RunPage
  readonly params: FilterParams
  /** Task keys, for the filter's choices. */
  readonly tasks: readonly string[]
  readonly sort: RunSort
  /** What is wrong with the URL's filter (then no run is listed). */
  readonly issues: readonly FieldIssue[]
  /** Tasks with pending runs no live worker serves, of those the filter lists. */
  readonly unserved: readonly UnservedTask[]
  /** A text search examines a slice of runs (see {@link SEARCH_SCAN}): below which run it started, if not at the newest. */
  readonly before?: string
  /** Whether the list is a search over a slice of the runs. */
  readonly sliced: boolean
}

/**
 * Matching runs the list counts at most (or one past its page, if more): counting a million reads every
 * one of them (a few hundred milliseconds), where a page of the newest reads its own rows only.
 */
const COUNT_LIMIT = 10_000

/** Runs per page unless the URL says (`pageSize`, at most 100). */
const PAGE_SIZE = 25

/**
 * Runs a text search examines per page load: no index serves a search inside arguments, so a
 * search reads rows, and a million take longer than a page may (~0.5 s here). It reads this
 * many of the newest (~0.1 s); a link goes on with the next slice, older.
 */
export const SEARCH_SCAN = 200_000

export const runsPage: AdminPage<RunsData> = {
  async load(c, { engine }) {
    const scope = readScope(c)
    const params = filterParams(c)
    const page = positive(c.req.query('page'), 1)
    const pageSize = Math.min(100, positive(c.req.query('pageSize'), PAGE_SIZE))
    const parsed = parseFilterParams(params)
    const { sort, issue } = sortParam(c.req.query('sort'))
    const issues = issue === undefined ? parsed.issues : [...parsed.issues, issue]
    const tasks = engine.list().map((t) => t.key)
    if (issues.length > 0) {
      // Data answers as the API does; the page shows what is wrong and lists nothing.
      if (wantsData(c)) throw new HttpError('ERR_VALIDATION', `invalid filter: ${issues.map((i) => i.message).join('; ')}`, issues)
      return { runs: { data: [], total: 0, page: 1, pageSize }, params, tasks, sort, issues, unserved: [], sliced: false }
    }
    // A search in the default order reads a slice (other orders read every run to sort them anyway).
    const sliced = parsed.filter.search !== undefined && sort === '-created'
    const before = sliced ? c.req.query('before') || undefined : undefined
    const filter = {
      ...parsed.filter,
      page,
      pageSize,
      countLimit: Math.max(COUNT_LIMIT, page * pageSize + 1),
      ...(sort === '-created' ? {} : { sort }),
      ...(sliced ? { scanLimit: SEARCH_SCAN } : {}),
      ...(before === undefined ? {} : { before }),
    }
    // The unserved check reads pending runs: only when the list may show some.
    const statuses = filter.status === undefined ? undefined : ([] as string[]).concat(filter.status)
    const mayShowPending = statuses === undefined || statuses.includes('pending')
    const [runs, unserved] = await Promise.all([engine.listRuns(scope.all ? filter : { ...filter, createdBy: scope.id }), mayShowPending ? engine.unserved() : []])
    return { runs, params, tasks, sort, issues, unserved: unservedShown(unserved, params), sliced, ...(before === undefined ? {} : { before }) }
  },
  data: ({ runs }) => ({ value: runs, name: 'runs', rows: () => runs.data.map(runRow) }),
  view: ({ page, data }) => <RunsPage page={page} data={data} />,
}

export function RunsPage({ page, data }: { page: PageContext; data: RunsData }) {
  const { runs, params, tasks, sort, issues, sliced, before } = data
  // A page size from the URL stays on the page and sort links.
  const sortQuery: Record<string, string> = { ...(runs.pageSize === PAGE_SIZE ? {} : { pageSize: String(runs.pageSize) }), ...(sort === '-created' ? {} : { sort }) }
  // Pages of a slice stay in it; the filter form and the sort links start from the newest again.
  const sliceQuery: Record<string, string> = before === undefined ? {} : { before }
  // The search read a slice and not every run: counts are the slice's.
  const partial = sliced && (before !== undefined || runs.scanBefore !== undefined)
  const query = (extra: Record<string, string>): string => {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries({ ...params, ...sortQuery, ...extra })) if (v !== '') q.set(k, v)
    return q.toString()
  }
  const filterQuery = new URLSearchParams(params).toString()
  const exportQuery = query({})
  const invalid = new Set(issues.map((i) => i.key))
  const statusKnown = params.status === undefined || (RUN_STATES as readonly string[]).includes(params.status)
  return (
    <Layout page={page} title="Runs" nav="runs">
      <div class="page-head">
        <div>
          <h1>Runs</h1>
          <p class="sub">
            {issues.length > 0
              ? 'filter not applied'
              : `${formatCount(runs.total)}${runs.totalCapped === true ? '+' : ''} matching${sliced ? sliceWords(before, runs.scanBefore, ' in ') : ''}`}
          </p>
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
      {issues.length > 0 ? (
        <div class="notice notice-bad" role="alert" id="filter-error">
          <strong>This filter cannot be applied</strong>, so no run is listed:
          <ul>
            {issues.map((issue) => (
              <li>{issue.message}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <UnservedNotice unserved={data.unserved} page={page} />
      <form method="get" class="filters runs-filters panel" role="search">
        <div class="field grow">
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
          <select id="f-status" name="status" aria-invalid={invalid.has('status') ? 'true' : undefined}>
            <option value="">any</option>
            {statusKnown ? null : (
              <option value={params.status} selected>
                {params.status} (not a status)
              </option>
            )}
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
        <div class="field time">
          <label for="f-from">From (UTC)</label>
          <input type="datetime-local" id="f-from" name="from" value={params.from ?? ''} aria-invalid={invalid.has('from') ? 'true' : undefined} />
        </div>
        <div class="field time">
          <label for="f-to">To (UTC)</label>
          <input type="datetime-local" id="f-to" name="to" value={params.to ?? ''} aria-invalid={invalid.has('to') ? 'true' : undefined} />
        </div>
        {sort === '-created' ? null : <input type="hidden" name="sort" value={sort} />}
        {params.createdBy === undefined ? null : <input type="hidden" name="createdBy" value={params.createdBy} />}
        {params.pool === undefined ? null : <input type="hidden" name="pool" value={params.pool} />}
        <div class="filter-buttons">
          <button type="submit" class="primary">
            Filter
          </button>
          <a class="button" href={`${page.admin}/runs`}>
            Clear
          </a>
        </div>
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
          {page.may('runs:cancel') ? (
            <button type="submit" name="action" value="cancel" class="small" data-confirm="Cancel the selected runs?">
              <Icon name="stop" /> Cancel
            </button>
          ) : null}
          {page.may('runs:retry') ? (
            <button type="submit" name="action" value="retry" class="small" data-confirm="Retry the selected runs?">
              <Icon name="refresh" /> Retry
            </button>
          ) : null}
          {page.may('runs:delete') ? (
            <button type="submit" name="action" value="delete" class="small danger" data-confirm="Delete the selected runs? Running ones are cancelled first.">
              <Icon name="trash" /> Delete
            </button>
          ) : null}
          <button type="submit" name="action" value="compare" class="small" id="compare-selected" formaction={`${page.admin}/runs/compare`} title="Compare two ticked runs side by side">
            <Icon name="columns" /> Compare
          </button>
          {issues.length > 0 || runs.total === 0 || !(['cancel', 'retry', 'delete'] as const).some((action) => page.may(`runs:${action}`)) ? null : (
            <span class="bulk-all" id="bulk-all">
              {partial ? (
                <span class="muted" title="Every run the search matches, not only those in the runs searched so far">
                  or all matching, in every run:
                </span>
              ) : (
                <span class="muted">
                  or all <strong>{`${formatCount(runs.total)}${runs.totalCapped === true ? '+' : ''}`}</strong> matching:
                </span>
              )}
              {(['cancel', 'retry', 'delete'] as const).filter((action) => page.may(`runs:${action}`)).map((action) => (
                <button type="submit" name="action" value={action} class={action === 'delete' ? 'small danger' : 'small'} formaction={`${page.admin}/runs/bulk/preview${filterQuery === '' ? '' : `?${filterQuery}`}`} formnovalidate data-bulk-all={action}>
                  {action[0]!.toUpperCase() + action.slice(1)} all…
                </button>
              ))}
            </span>
          )}
        </div>
        {runs.data.length === 0 ? (
          <p class="empty">{issues.length > 0 ? 'Fix the filter to list runs.' : 'No runs match.'}</p>
        ) : (
          <RunsList runs={runs.data} page={page} sort={sort} href={(next) => `${page.admin}/runs?${query({ sort: next === '-created' ? '' : next })}`} />
        )}
        <Pagination page={runs.page} pageSize={runs.pageSize} total={runs.total} capped={runs.totalCapped === true} href={(p) => `${page.admin}/runs?${query({ ...sliceQuery, page: String(p) })}`} />
        {partial ? (
          <p class="scan-more" id="scan-more">
            <span class="muted">Searched{sliceWords(before, runs.scanBefore, ' ')}.</span>{' '}
            {runs.scanBefore === undefined ? null : <a href={`${page.admin}/runs?${query({ before: runs.scanBefore })}`}>Search older runs</a>}
            {before === undefined ? null : (
              <>
                {' '}
                <a href={`${page.admin}/runs?${query({})}`}>Back to the newest</a>
              </>
            )}
          </p>
        ) : null}
      </form>
    </Layout>
  )
}

/** Which runs a search's slice holds, after `lead` (empty when it holds every run). */
function sliceWords(before: string | undefined, scanBefore: string | undefined, lead: string): string {
  if (before === undefined) return scanBefore === undefined ? '' : `${lead}the newest ${formatCount(SEARCH_SCAN)} runs`
  return scanBefore === undefined ? `${lead}the older runs, down to the oldest` : `${lead}the next ${formatCount(SEARCH_SCAN)} older runs`
}

/**
 * Where the script counts runs matching the page's filter that were created after the page was
 * rendered (the "new runs arrived" banner): the same filter, from the page's time on, as JSON.
 */
function newRunsSource(page: PageContext, params: FilterParams): string {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (k !== 'from') query.set(k, v)
  const from = parseFilterParams(params).filter.from
  const since = new Date(Math.max(page.now, from?.getTime() ?? 0))
  query.set('from', since.toISOString())
  query.set('pageSize', '100')
  query.set('format', 'json')
  return `${page.admin}/runs?${query.toString()}`
}
