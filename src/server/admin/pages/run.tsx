/**
 * One run (`/admin/runs/:id`): progress, timeline, details, a live log tail with follow,
 * arguments, result or error, attempts (each compared with the one before, or any two), artifacts,
 * the pool tree; cancel, retry, edit & retry, delete.
 */
import type { PoolReport } from '../../../engine/engine.js'
import type { Artifact, Run } from '../../../store/types.js'
import { withFinalLine } from '../../../engine/execute/final-line.js'
import type { LogEntry } from '../../../task/context.js'
import { mayRead, readScope } from '../../caller.js'
import { notFound } from '../../http-errors.js'
import { prefillQuery } from '../form.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { AttemptsCompare, CancelCard, PoolProgress, RunClockLine, RunLog, deliberateEnd, inProcessOrigin } from '../run-parts.js'
import { diffHref } from './run-diff.js'
import { PoolView } from './pool-view.js'
import { loadPoolForest, type PoolForest } from '../pool-tree.js'
import { Timeline, type TimelineAction } from '../run-timeline.js'
import { RunsTable } from '../runs-table.js'
import { RunResultSection } from '../run-result.js'
import { formatDuration } from '../shared/format.js'
import { Csrf, ErrorCard, Icon, JsonView, ProgressBar, StatusPill, Time } from '../ui.js'
import { UnservedRunNotice } from '../unserved-notice.js'
import type { UnservedRun } from '../../../engine/durable/unserved.js'

/** Everything about one run. */
export interface RunDetail {
  readonly run: Run
  readonly logs: readonly LogEntry[]
  readonly artifacts: readonly Artifact[]
  readonly parent: Run | undefined
  readonly pool: PoolReport | undefined
  readonly children: readonly PoolReport[]
  /** The pools the run opened, every level below them (bounded), for the tree and the timeline. */
  readonly forest: PoolForest
  readonly taskKnown: boolean
  /** Who did what to the run, from the audit trail (who started, cancelled, retried it), newest first: no address, agent or values, which need `audit:read`. */
  readonly actions: readonly TimelineAction[]
  /** Why a pending run waits for nobody (no live worker serves its task on its queue). */
  readonly unserved: UnservedRun | undefined
}

export const runPage: AdminPage<RunDetail> = {
  async load(c, { engine }) {
    const scope = readScope(c)
    const run = await engine.getRun(c.req.param('id') ?? '')
    if (run === undefined || !mayRead(scope, run)) throw notFound(`unknown run "${c.req.param('id')}"`)
    const [logs, artifacts, parent, pool, opened, audit, unserved] = await Promise.all([
      engine.getLogs(run.id, { limit: 10_000 }),
      engine.listArtifacts(run.id),
      run.parentId === null ? undefined : engine.getRun(run.parentId),
      run.poolId === null ? undefined : engine.getPool(run.poolId),
      (async () => (await engine.store()).poolsOfRun(run.id))(),
      engine.audit.list({ target: run.id, action: 'run.', limit: 50 }),
      engine.unservedRun(run),
    ])
    const children = (await Promise.all(opened.map((p) => engine.getPool(p.id)))).filter((p) => p !== undefined)
    const forest = await loadPoolForest(await engine.store(), opened, scope, Date.now())
    // A finished run's log ends with how it ended and how long its handler took (derived, not stored).
    return { run, logs: withFinalLine(run, logs, 0, 10_000), artifacts, parent, pool, children, forest, taskKnown: engine.get(run.task) !== undefined, actions: audit.entries.map(({ at, action, actor, tokenName }) => ({ at, action, actor, tokenName })), unserved }
  },
  data: (detail) => ({ value: detail, name: `run-${detail.run.id}`, rows: () => detail.logs }),
  view: ({ page, data }) => <RunPage page={page} detail={data} />,
}

export function RunPage({ page, detail }: { page: PageContext; detail: RunDetail }) {
  const { run } = detail
  const active = run.status === 'pending' || run.status === 'running' || run.status === 'waiting'
  const origin = inProcessOrigin(run)
  return (
    <Layout page={page} title={`${run.task} · ${run.status}`} nav="runs">
      <div class="page-head" id="run-page" data-run-id={run.id} data-status={run.status}>
        <div>
          <h1>
            <a href={`${page.admin}/task/${encodeURIComponent(run.task)}`}>{run.task}</a> <span data-cell="status"><StatusPill status={run.status} /></span>
          </h1>
          <p class="sub">
            <span class="mono">{run.id}</span> · {run.label} · {origin === null ? `queue ${run.queue}` : <span id="run-in-process">ran in-process, {origin}</span>}
            {run.cancelRequestedAt !== null && active ? <span class="badge badge-danger">cancel requested</span> : null}
          </p>
        </div>
        <div class="actions">
          {active && page.may('runs:cancel') ? (
            <form method="post" action={`${page.admin}/runs/${run.id}/cancel`} class="inline" data-confirm="Cancel this run?">
              <Csrf token={page.csrf} />
              <button type="submit">
                <Icon name="stop" /> Cancel
              </button>
            </form>
          ) : null}
          {/* An in-process run is not retried on a worker: Edit & retry runs its task again. */}
          {(run.status === 'failed' || run.status === 'cancelled') && !run.inProcess && page.may('runs:retry') ? (
            <form method="post" action={`${page.admin}/runs/${run.id}/retry`} class="inline">
              <Csrf token={page.csrf} />
              <button type="submit" class="primary">
                <Icon name="refresh" /> Retry
              </button>
            </form>
          ) : null}
          {detail.taskKnown && page.may('tasks:run') ? (
            <a class="button" href={`${page.admin}/task/${encodeURIComponent(run.task)}?${prefillQuery(run.args)}`}>
              Edit &amp; retry
            </a>
          ) : null}
          {page.may('runs:delete') ? (
            <form method="post" action={`${page.admin}/runs/${run.id}/delete`} class="inline" data-confirm="Delete this run? A running run is cancelled first.">
              <Csrf token={page.csrf} />
              <button type="submit" class="danger">
                <Icon name="trash" /> Delete
              </button>
            </form>
          ) : null}
        </div>
      </div>
      <UnservedRunNotice run={run} unserved={detail.unserved} page={page} />
      {deliberateEnd(run) ? <CancelCard run={run} /> : run.error === null ? null : <ErrorCard error={run.error} />}
      <div class="grid grid-2">
        <section class="panel">
          <h2>Progress</h2>
          <ProgressBar progress={run.progress} id="run-progress" />
          {run.progress === null && detail.children.length > 0 ? <PoolProgress pools={detail.children} /> : null}
          {run.progress === null && detail.children.length === 0 ? (
            <p class="faint" data-no-progress="">
              {active ? 'No progress reported yet.' : 'No progress was reported.'}
            </p>
          ) : null}
          <RunClockLine run={run} now={page.now} />
          <h3>Timeline</h3>
          <Timeline run={run} pools={detail.children} actions={detail.actions} now={page.now} />
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
            <dt>{origin === null ? 'Worker' : 'Executed by'}</dt>
            <dd class="mono">{run.workerId ?? <span class="faint">—</span>}</dd>
            {origin === null ? null : (
              <>
                <dt>Executed</dt>
                <dd id="run-origin">In-process (not on a worker), {origin}</dd>
              </>
            )}
            {run.scheduleId === null ? null : (
              <>
                <dt>Schedule</dt>
                <dd>
                  <a href={`${page.admin}/schedules/${encodeURIComponent(run.scheduleId)}`}>{run.scheduleId}</a>
                  {run.fireKey === null ? (
                    <span class="faint"> ("Run now"{run.createdBy === null ? '' : ` by ${run.createdBy}`})</span>
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
            {run.groupKey === null ? null : (
              <>
                <dt>Group</dt>
                <dd class="mono">{run.groupKey}</dd>
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
        <RunLog run={run} logs={detail.logs} follow={active} />
      </section>
      <div class="grid grid-2">
        <section class="panel">
          <h2>Arguments</h2>
          <JsonView value={run.args} id="run-args" />
        </section>
        <section class="panel">
          <h2>Result</h2>
          <RunResultSection run={run} active={active} />
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
                  {run.attempts.length > 1 ? <th>Compare</th> : null}
                </tr>
              </thead>
              <tbody>
                {run.attempts.map((a, i) => (
                  <tr data-attempt={String(a.number)}>
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
                          {a.error.stack === undefined || a.outcome === 'cancelled' ? null : <pre class="stack">{a.error.stack}</pre>}
                        </details>
                      )}
                    </td>
                    {run.attempts.length > 1 ? (
                      <td class="nowrap">
                        {i === 0 ? (
                          <span class="faint">—</span>
                        ) : (
                          <a href={diffHref(page.admin, `${run.id}:${run.attempts[i - 1]!.number}`, `${run.id}:${a.number}`)} data-compare-previous={String(a.number)}>
                            with #{run.attempts[i - 1]!.number}
                          </a>
                        )}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <AttemptsCompare run={run} page={page} />
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
          <PoolView run={run} forest={detail.forest} page={page} />
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
