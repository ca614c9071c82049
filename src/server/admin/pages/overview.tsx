/**
 * Overview (`/admin`): counts by status, throughput and failures over the last hour, day or week
 * (`?range=1h|24h|7d`, from the store's per-minute rollups), every queue with depth and oldest
 * pending age (idle ones too), workers with busy/total slots, the latest failures by the time
 * they failed; it refreshes in place as runs finish.
 */
import type { Engine, EngineStats } from '../../../engine/engine.js'
import { parseHistoryRange, type History, type HistoryRange } from '../../../engine/history/history.js'
import { RUN_STATES, type Run, type ThroughputBucket, type WorkerInfo } from '../../../store/types.js'
import { readScope } from '../../caller.js'
import { HistoryChart, RangeSwitch, RANGE_TITLES } from '../history-chart.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { formatCount, formatDuration, formatPercent, plural } from '../shared/format.js'
import { StatusPill, Time } from '../ui.js'
import { WorkerStateBadge } from '../worker-parts.js'
import { UnservedNotice } from '../unserved-notice.js'
import type { UnservedTask } from '../../../engine/durable/unserved.js'

export interface OverviewData {
  readonly stats: EngineStats
  /** The range shown. */
  readonly range: HistoryRange
  /** Finished runs per bar over the range. */
  readonly throughput: readonly ThroughputBucket[]
  readonly history: History
  readonly workers: readonly WorkerInfo[]
  /** The latest failed runs, by the time they failed. */
  readonly recentFailures: readonly Run[]
  /** Tasks with pending runs no live worker serves. */
  readonly unserved: readonly UnservedTask[]
}

/** The overview's data over `range`; `ownRunsOf` limits the recent failures to one creator's runs (callers allowed only their own). */
export async function loadOverview(engine: Engine, ownRunsOf?: string, range: HistoryRange = '1h'): Promise<OverviewData> {
  const store = await engine.store()
  const [stats, history, workers, recentFailures, unserved] = await Promise.all([engine.stats(), engine.history({ range }), engine.workers(), store.recentlyFinished('failed', 10, ownRunsOf), engine.unserved()])
  return { stats, range, throughput: history.buckets, history, workers: workers.filter((w) => w.concurrency > 0), recentFailures, unserved }
}

export const overviewPage: AdminPage<OverviewData> = {
  load(c, { engine }) {
    const scope = readScope(c)
    return loadOverview(engine, scope.all ? undefined : scope.id, parseHistoryRange(c.req.query('range')))
  },
  data: (data) => ({ value: data, name: 'overview', rows: () => data.throughput }),
  view: ({ page, data }) => <OverviewPage page={page} data={data} />,
}

export function OverviewPage({ page, data }: { page: PageContext; data: OverviewData }) {
  const { succeeded, failed, cancelled } = data.history
  const finished = succeeded + failed + cancelled
  const rangeText = RANGE_TITLES[data.range].toLowerCase()
  return (
    <Layout page={page} title="Overview" nav="overview">
      <div class="page-head">
        <div>
          <h1>Overview</h1>
          <p class="sub" data-live-region="summary">
            {plural(finished, 'run')} finished in the {rangeText}, {formatCount(failed)} failed
            {data.history.failureRate === null ? '' : ` (${formatPercent(data.history.failureRate)})`}.
          </p>
        </div>
      </div>
      <UnservedNotice unserved={data.unserved} page={page} live />
      <div class="cards" data-live-region="cards">
        {RUN_STATES.map((status) => (
          <a class="card" href={`${page.admin}/runs?status=${status}`}>
            <div class="num" data-stat={status} title={`${formatCount(data.stats.statuses[status])} ${status}`}>
              {formatCount(data.stats.statuses[status])}
            </div>
            <div class="what">
              <StatusPill status={status} />
            </div>
          </a>
        ))}
      </div>
      <section class="panel" data-live-region="chart">
        <div class="split">
          <h2>{RANGE_TITLES[data.range]}</h2>
          <RangeSwitch current={data.range} href={(range) => `${page.admin}?range=${range}`} />
        </div>
        <HistoryChart history={data.history} />
      </section>
      <div class="grid grid-2">
        <section class="panel" data-live-region="queues">
          <h2>Queues</h2>
          {data.stats.flow.queues.length === 0 ? (
            <p class="empty">No queues yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Queue</th>
                    <th class="num">Pending</th>
                    <th class="num">Running</th>
                    <th>Oldest due</th>
                  </tr>
                </thead>
                <tbody>
                  {data.stats.flow.queues.map((q) => (
                    <tr data-queue={q.name} class={q.pending + q.running === 0 ? 'idle' : undefined}>
                      <td>
                        <a href={`${page.admin}/runs?queue=${encodeURIComponent(q.name)}&status=pending`}>{q.name}</a>
                        {q.paused ? <span class="badge">paused</span> : null}
                      </td>
                      <td class="num">{formatCount(q.pending)}</td>
                      <td class="num">{formatCount(q.running)}</td>
                      <td class="nowrap">
                        <QueueDue oldest={q.oldestPendingAt} next={q.nextDueAt} now={page.now} idle={q.pending + q.running === 0} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section class="panel" data-live-region="workers">
          <h2>Workers</h2>
          {data.workers.length === 0 ? (
            <p class="empty">No live workers. Start one with <code>taskengine worker</code> or <code>taskengine serve</code>.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Worker</th>
                    <th class="num">Busy / slots</th>
                    <th>Heartbeat</th>
                  </tr>
                </thead>
                <tbody>
                  {data.workers.map((w) => (
                    <tr>
                      <td>
                        <span class="mono">{w.id}</span> <WorkerStateBadge worker={w} />
                      </td>
                      <td class="num">
                        {formatCount(w.busy)} / {formatCount(w.concurrency)}
                      </td>
                      <td>
                        <Time date={w.heartbeatAt} now={page.now} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section class="panel" data-live-region="failures">
          <h2>Recent failures</h2>
          {data.recentFailures.length === 0 ? (
            <p class="empty">No failed runs.</p>
          ) : (
            <div class="table-wrap">
              <table class="fit">
                <tbody>
                  {data.recentFailures.map((run) => (
                    <tr data-failed-run={run.id}>
                      <td class="what">
                        <a href={`${page.admin}/runs/${run.id}`} title={run.task}>{run.task}</a>
                      </td>
                      <td class="truncate muted" title={run.error?.message ?? ''}>{run.error?.message ?? ''}</td>
                      <td class="nowrap when">
                        <Time date={run.finishedAt} now={page.now} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </Layout>
  )
}

/** "waiting 3 min" for a queue with runs due; "next due in 5 min" when they are all due later; "idle" without runs. */
function QueueDue({ oldest, next, now, idle }: { oldest: Date | null; next: Date | null; now: number; idle: boolean }) {
  if (oldest !== null) return <span title={oldest.toISOString()}>waiting {formatDuration(now - oldest.getTime())}</span>
  if (next === null) return <span class="faint">{idle ? 'idle' : '—'}</span>
  return (
    <span class="muted" title={next.toISOString()}>
      next due in {formatDuration(Math.max(0, next.getTime() - now))}
    </span>
  )
}
