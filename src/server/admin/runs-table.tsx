/**
 * A compact table of runs, on the task page, a schedule's history and the pools of a run.
 */
import type { Run } from '../../store/types.js'
import type { PageContext } from './layout.js'
import { StatusPill, Time, TookCell } from './ui.js'

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

/** A run's progress bar: only while it may still move; finished runs show none. */
export function RowProgress({ run }: { run: Run }) {
  const percent = run.progress?.percent
  if (percent === undefined || (run.status !== 'running' && run.status !== 'waiting' && run.status !== 'pending')) return <span class="faint">—</span>
  return <progress class={`bar-${run.status}`} max="100" value={String(Math.round(percent))} />
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
                <RowProgress run={run} />
              </td>
              <td>
                <Time date={run.createdAt} now={page.now} />
              </td>
              <TookCell run={run} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
