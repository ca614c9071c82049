/**
 * Overview: counts by status, throughput and failures over the last hour, queues with depth and
 * oldest pending age, workers with busy/total slots, recent failures.
 */
import type { Engine } from '../../../engine/engine.js'
import { RUN_STATES, type Run, type StoreStats, type ThroughputBucket, type WorkerInfo } from '../../../store/types.js'
import { Layout, type PageContext } from '../layout.js'
import { StatusPill, Time, formatDuration } from '../ui.js'

export interface OverviewData {
  readonly stats: StoreStats
  readonly throughput: readonly ThroughputBucket[]
  readonly workers: readonly WorkerInfo[]
  readonly recentFailures: readonly Run[]
}

export async function loadOverview(engine: Engine): Promise<OverviewData> {
  const [stats, throughput, workers, failures] = await Promise.all([engine.stats(), engine.throughput(3_600_000, 60_000), engine.workers(), engine.listRuns({ status: 'failed', pageSize: 10 })])
  return { stats, throughput, workers: workers.filter((w) => w.concurrency > 0), recentFailures: failures.data }
}

export function OverviewPage({ page, data }: { page: PageContext; data: OverviewData }) {
  const finished = data.throughput.reduce((n, b) => n + b.succeeded + b.failed + b.cancelled, 0)
  const failed = data.throughput.reduce((n, b) => n + b.failed, 0)
  return (
    <Layout page={page} title="Overview" nav="overview">
      <div class="page-head">
        <div>
          <h1>Overview</h1>
          <p class="sub">
            {finished} runs finished in the last hour, {failed} failed.
          </p>
        </div>
      </div>
      <div class="cards" data-live-stats={`${page.base}/api/stats`}>
        {RUN_STATES.map((status) => (
          <a class="card" href={`${page.admin}/runs?status=${status}`}>
            <div class="num" data-stat={status}>
              {data.stats.statuses[status]}
            </div>
            <div class="what">
              <StatusPill status={status} />
            </div>
          </a>
        ))}
      </div>
      <div class="grid grid-2">
        <section class="panel">
          <div class="split">
            <h2>Last hour</h2>
            <span class="legend">
              <span>
                <span class="sw sw-ok" />
                succeeded
              </span>
              <span>
                <span class="sw sw-bad" />
                failed
              </span>
            </span>
          </div>
          <ThroughputChart buckets={data.throughput} />
        </section>
        <section class="panel">
          <h2>Queues</h2>
          {data.stats.queues.length === 0 ? (
            <p class="empty">No pending or running runs.</p>
          ) : (
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
                {data.stats.queues.map((q) => (
                  <tr>
                    <td>
                      <a href={`${page.admin}/runs?queue=${encodeURIComponent(q.queue)}&status=pending`}>{q.queue}</a>
                    </td>
                    <td class="num">{q.pending}</td>
                    <td class="num">{q.running}</td>
                    <td>{q.oldestPendingAt === null ? <span class="faint">—</span> : <span title={q.oldestPendingAt.toISOString()}>waiting {formatDuration(page.now - q.oldestPendingAt.getTime())}</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section class="panel">
          <h2>Workers</h2>
          {data.workers.length === 0 ? (
            <p class="empty">No live workers. Start one with <code>taskengine worker</code> or <code>taskengine serve</code>.</p>
          ) : (
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
                    <td class="mono truncate">{w.id}</td>
                    <td class="num">
                      {w.busy} / {w.concurrency}
                    </td>
                    <td>
                      <Time date={w.heartbeatAt} now={page.now} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section class="panel">
          <h2>Recent failures</h2>
          {data.recentFailures.length === 0 ? (
            <p class="empty">No failed runs.</p>
          ) : (
            <table>
              <tbody>
                {data.recentFailures.map((run) => (
                  <tr>
                    <td>
                      <a href={`${page.admin}/runs/${run.id}`}>{run.task}</a>
                    </td>
                    <td class="truncate muted">{run.error?.message ?? ''}</td>
                    <td class="nowrap">
                      <Time date={run.finishedAt} now={page.now} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </Layout>
  )
}

/** Stacked bars per minute: succeeded below, failed above. SVG attributes, no inline styles. */
function ThroughputChart({ buckets }: { buckets: readonly ThroughputBucket[] }) {
  const width = 600
  const height = 120
  const max = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed))
  const barWidth = width / Math.max(1, buckets.length)
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height + 16}`} preserveAspectRatio="none" role="img" aria-label="runs finished per minute over the last hour">
      <line class="axis" x1="0" y1={String(height)} x2={String(width)} y2={String(height)} />
      {buckets.map((b, i) => {
        const ok = (b.succeeded / max) * height
        const bad = (b.failed / max) * height
        const x = i * barWidth + 1
        return (
          <g>
            <title>{`${b.start.toISOString().slice(11, 16)} UTC: ${b.succeeded} succeeded, ${b.failed} failed`}</title>
            <rect class="ok" x={String(x)} y={String(height - ok)} width={String(Math.max(1, barWidth - 2))} height={String(ok)} />
            <rect class="bad" x={String(x)} y={String(height - ok - bad)} width={String(Math.max(1, barWidth - 2))} height={String(bad)} />
          </g>
        )
      })}
      <text x="0" y={String(height + 13)}>
        −60 min
      </text>
      <text x={String(width - 24)} y={String(height + 13)}>
        now
      </text>
      <text x="2" y="10">
        {String(max)}/min
      </text>
    </svg>
  )
}
