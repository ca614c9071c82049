/**
 * The runs list's table: a row per run with its status, progress (active runs only, coloured by
 * status), parent and pool, queue, attempt, created and due times, how long it took, and its
 * error; the Created and Due headers sort the list. Columns marked `opt` give way on narrow
 * screens so the status stays in view.
 */
import type { Run, RunSort } from '../../store/types.js'
import type { PageContext } from './layout.js'
import { RowProgress, argsSummary } from './runs-table.js'
import { Duration, StatusPill, Time } from './ui.js'

/** The label runs get when neither the enqueue nor the task named them. */
const DEFAULT_LABEL = 'ad-hoc'

/** A sortable header: a link to the list in this order, or the other way round when it already is. */
function SortHeader({ label, column, sort, href, cls }: { label: string; column: 'created' | 'due'; sort: RunSort; href: (sort: RunSort) => string; cls?: string }) {
  const ascending = sort === column
  const active = ascending || sort === `-${column}`
  // Created reads newest first by default, Due soonest first.
  const next: RunSort = active ? (ascending ? `-${column}` : column) : column === 'created' ? '-created' : 'due'
  return (
    <th class={cls} aria-sort={active ? (ascending ? 'ascending' : 'descending') : undefined}>
      <a class="sort" href={href(next)} data-sort={next}>
        {label} {active ? (ascending ? '▲' : '▼') : ''}
      </a>
    </th>
  )
}

/** The runs list's table. `href(sort)` is the list in another order (page 1). */
export function RunsList({ runs, page, sort, href }: { runs: readonly Run[]; page: PageContext; sort: RunSort; href: (sort: RunSort) => string }) {
  return (
    <div class="table-wrap">
      <table id="runs-table" class="wide runs-list">
        <thead>
          <tr>
            <th>
              <input type="checkbox" id="select-all" aria-label="select all runs on this page" />
            </th>
            <th>Task / label</th>
            <th>Status</th>
            <th class="opt">Progress</th>
            <th class="opt">Parent / pool</th>
            <th class="opt">Queue</th>
            <th class="num opt">Attempt</th>
            <SortHeader label="Created" column="created" sort={sort} href={href} cls="opt" />
            <SortHeader label="Due" column="due" sort={sort} href={href} cls="opt" />
            <th class="num">Took</th>
            <th class="opt">Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr data-run-id={run.id} data-started={run.startedAt?.toISOString()}>
              <td>
                <input type="checkbox" name="id" value={run.id} aria-label={`select run ${run.id}`} />
              </td>
              <td>
                <a href={`${page.admin}/runs/${run.id}`}>{run.task}</a>{' '}
                {run.label === DEFAULT_LABEL ? <span class="mono muted small">{argsSummary(run.args)}</span> : <span class="muted">{run.label}</span>}
                <div class="faint mono run-id">{run.id}</div>
              </td>
              <td data-cell="status">
                <StatusPill status={run.status} />
              </td>
              <td class="opt" data-cell="progress">
                <RowProgress run={run} />
              </td>
              <td class="opt small">
                <ParentCell run={run} page={page} />
              </td>
              <td class="opt">{run.queue}</td>
              <td class="num opt" data-cell="attempt">
                {run.attempt}/{run.maxAttempts + run.attemptBase}
              </td>
              <td class="nowrap opt">
                <Time date={run.createdAt} now={page.now} />
              </td>
              <td class="nowrap opt" data-cell="due">
                {run.status === 'pending' ? <Time date={run.runAt} now={page.now} /> : <span class="faint">—</span>}
              </td>
              <td class="num" data-cell="took">
                <Duration from={run.startedAt} to={run.finishedAt} />
              </td>
              <td class="truncate muted opt" title={run.error?.message} data-cell="error">
                {run.error?.message ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** Where a run comes from: the run that made it (through a pool), and its pool's runs. */
function ParentCell({ run, page }: { run: Run; page: PageContext }) {
  if (run.parentId === null && run.poolId === null) return <span class="faint">—</span>
  return (
    <span class="nowrap">
      {run.parentId === null ? null : (
        <a href={`${page.admin}/runs/${run.parentId}`} title={`parent run ${run.parentId}`}>
          ↳ <span class="mono">{run.parentId.slice(-8)}</span>
        </a>
      )}{' '}
      {run.poolId === null ? null : (
        <a class="muted" href={`${page.admin}/runs?pool=${encodeURIComponent(run.poolId)}`} title={`every run of pool ${run.poolId}`}>
          pool <span class="mono">{run.poolId.slice(-6)}</span>
        </a>
      )}
    </span>
  )
}
