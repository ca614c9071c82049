/**
 * Overview (`/admin`): counts by status, throughput and failures over the last hour, queues
 * with depth and oldest pending age, workers with busy/total slots, recent failures; it
 * refreshes in place as runs finish.
 */
import type { Engine } from '../../../engine/engine.js'
import { RUN_STATES, type Run, type StoreStats, type ThroughputBucket, type WorkerInfo } from '../../../store/types.js'
import { readScope } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { formatDuration, plural } from '../shared/format.js'
import { StatusPill, Time } from '../ui.js'

export interface OverviewData {
  readonly stats: StoreStats
  readonly throughput: readonly ThroughputBucket[]
  readonly workers: readonly WorkerInfo[]
  readonly recentFailures: readonly Run[]
}

/** The overview's data; `ownRunsOf` limits the recent failures to one creator's runs (callers allowed only their own). */
export async function loadOverview(engine: Engine, ownRunsOf?: string): Promise<OverviewData> {
  const failed = { status: 'failed', pageSize: 10, ...(ownRunsOf === undefined ? {} : { createdBy: ownRunsOf }) } as const
  const [stats, throughput, workers, failures] = await Promise.all([engine.stats(), engine.throughput(3_600_000, 60_000), engine.workers(), engine.listRuns(failed)])
  return { stats, throughput, workers: workers.filter((w) => w.concurrency > 0), recentFailures: failures.data }
}

export const overviewPage: AdminPage<OverviewData> = {
  load(c, { engine }) {
    const scope = readScope(c)
    return loadOverview(engine, scope.all ? undefined : scope.id)
  },
  data: (data) => ({ value: data, name: 'overview', rows: () => data.throughput }),
  view: ({ page, data }) => <OverviewPage page={page} data={data} />,
}

export function OverviewPage({ page, data }: { page: PageContext; data: OverviewData }) {
  const finished = data.throughput.reduce((n, b) => n + b.succeeded + b.failed + b.cancelled, 0)
  const failed = data.throughput.reduce((n, b) => n + b.failed, 0)
  return (
    <Layout page={page} title="Overview" nav="overview">
      <div class="page-head">
        <div>
          <h1>Overview</h1>
          <p class="sub" data-live-region="summary">
            {plural(finished, 'run')} finished in the last hour, {failed} failed.
          </p>
        </div>
      </div>
      <div class="cards" data-live-region="cards">
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
      <section class="panel" data-live-region="chart">
        <div class="split">
          <h2>Last hour</h2>
          <span class="legend" aria-hidden="true">
            <span>
              <svg class="sw" viewBox="0 0 10 10">
                <rect class="ok" width="10" height="10" />
              </svg>
              succeeded
            </span>
            <span>
              <svg class="sw" viewBox="0 0 10 10">
                <rect class="bad" width="10" height="10" />
              </svg>
              failed (hatched)
            </span>
          </span>
        </div>
        <ThroughputChart buckets={data.throughput} />
        <p class="faint small">
          Runs finished per minute; times in UTC; updates live.
        </p>
      </section>
      <div class="grid grid-2">
        <section class="panel" data-live-region="queues">
          <h2>Queues</h2>
          {data.stats.queues.length === 0 ? (
            <p class="empty">No pending or running runs.</p>
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
                  {data.stats.queues.map((q) => (
                    <tr data-queue={q.queue}>
                      <td>
                        <a href={`${page.admin}/runs?queue=${encodeURIComponent(q.queue)}&status=pending`}>{q.queue}</a>
                      </td>
                      <td class="num">{q.pending}</td>
                      <td class="num">{q.running}</td>
                      <td class="nowrap">
                        <QueueDue oldest={q.oldestPendingAt} next={q.nextDueAt} now={page.now} />
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

/** "waiting 3 min" for a queue with runs due; "next due in 5 min" when they are all due later. */
function QueueDue({ oldest, next, now }: { oldest: Date | null; next: Date | null; now: number }) {
  if (oldest !== null) return <span title={oldest.toISOString()}>waiting {formatDuration(now - oldest.getTime())}</span>
  if (next === null) return <span class="faint">—</span>
  return (
    <span class="muted" title={next.toISOString()}>
      next due in {formatDuration(Math.max(0, next.getTime() - now))}
    </span>
  )
}

/** 1, 2, 5, 10, 20, 50, …: the smallest such number at least `n`. */
function niceCeiling(n: number): number {
  if (n <= 1) return 1
  const power = 10 ** Math.floor(Math.log10(n))
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power
  return 10 * power
}

/** A fraction of the chart's width as an SVG length. */
const pct = (fraction: number): string => `${(fraction * 100).toFixed(3)}%`

/**
 * Stacked bars per minute (succeeded below, failed above and hatched, so they differ without
 * colour), with count gridlines and clock times every 15 minutes. Horizontal positions are
 * percentages of the width and vertical ones pixels of a fixed height, so the chart fills any
 * width while its text keeps its size. SVG attributes and classes only: no inline styles.
 */
function ThroughputChart({ buckets }: { buckets: readonly ThroughputBucket[] }) {
  const height = 200
  const [top, bottom] = [16, 178]
  const max = niceCeiling(Math.max(1, ...buckets.map((b) => b.succeeded + b.failed)))
  const ticks = max === 1 ? [0, 1] : [0, max / 2, max]
  const n = Math.max(1, buckets.length)
  const y = (count: number): number => bottom - (count / max) * (bottom - top)
  const total = buckets.reduce((sum, b) => sum + b.succeeded + b.failed, 0)
  return (
    <svg class="chart" width="100%" height={String(height)} role="img" aria-label={`Runs finished per minute over the last hour: ${total} in all, at most ${max} a minute`}>
      <defs>
        <pattern id="hatch-failed" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect class="hatch-bg" width="5" height="5" />
          <line class="hatch-line" x1="0" y1="0" x2="0" y2="5" />
        </pattern>
      </defs>
      {buckets.map((b, i) =>
        b.start.getUTCMinutes() % 15 === 0 ? (
          <g class="x-tick">
            <line class="grid" x1={pct(i / n)} y1={String(top)} x2={pct(i / n)} y2={String(bottom)} />
            <text class="label" x={pct(i / n)} y={String(height - 6)} text-anchor={i / n < 0.04 ? 'start' : i / n > 0.96 ? 'end' : 'middle'}>
              {b.start.toISOString().slice(11, 16)}
            </text>
          </g>
        ) : null,
      )}
      {ticks.map((tick) => (
        <g class="y-tick">
          <line class={tick === 0 ? 'axis' : 'grid'} x1="0" y1={String(y(tick))} x2="100%" y2={String(y(tick))} />
          {tick === 0 ? null : (
            <text class="label" x="3" y={String(y(tick) - 4)}>
              {tick === max ? `${plural(tick, 'run')}/min` : String(tick)}
            </text>
          )}
        </g>
      ))}
      {buckets.map((b, i) => {
        const x = pct((i + 0.15) / n)
        const w = pct(0.7 / n)
        return (
          <g>
            <title>{`${b.start.toISOString().slice(11, 16)} UTC: ${b.succeeded} succeeded, ${b.failed} failed, ${b.cancelled} cancelled`}</title>
            <rect class="slot" x={pct(i / n)} y={String(top)} width={pct(1 / n)} height={String(bottom - top)} />
            {b.succeeded === 0 ? null : <rect class="ok" x={x} y={String(y(b.succeeded))} width={w} height={String(bottom - y(b.succeeded))} />}
            {b.failed === 0 ? null : <rect class="bad" x={x} y={String(y(b.succeeded + b.failed))} width={w} height={String(y(b.succeeded) - y(b.succeeded + b.failed))} />}
          </g>
        )
      })}
    </svg>
  )
}
