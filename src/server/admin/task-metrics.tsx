/**
 * A task's own history on its page (`/admin/task/:key?range=1h|24h|7d`): runs finished,
 * throughput, failure rate, duration and wait percentiles, and its chart, from the store's
 * per-minute rollups (`engine.history`).
 */
import type { Engine } from '../../engine/engine.js'
import { parseHistoryRange, type History, type Percentiles } from '../../engine/history/history.js'
import type { ServerContext } from '../caller.js'
import { HistoryChart, RangeSwitch, RANGE_TITLES } from './history-chart.js'
import type { PageContext } from './layout.js'
import { formatCompact, formatCount, formatDuration, formatPercent } from './shared/format.js'

/** The history of `task` over the range the request's `?range=` names (a `ValidationError` for an unknown one). */
export function loadTaskHistory(c: ServerContext, engine: Engine, task: string): Promise<History> {
  return engine.history({ range: parseHistoryRange(c.req.query('range')), task, totals: true })
}

/** `120 ms`, or `—` without runs. */
const ms = (value: number | null): string => (value === null ? '—' : formatDuration(value))

/** `p50 120 ms · p95 2.1 s · max 4.0 s`. */
function PercentileLine({ of, withMax }: { of: Percentiles | null; withMax: boolean }) {
  if (of === null || of.p50 === null) return <span class="faint">—</span>
  return (
    <span class="percentiles">
      p50 <b>{ms(of.p50)}</b> · p95 <b>{ms(of.p95)}</b>
      {withMax ? (
        <>
          {' '}
          · max <b>{ms(of.max)}</b>
        </>
      ) : null}
    </span>
  )
}

/** The task's history panel. */
export function TaskMetrics({ page, task, history }: { page: PageContext; task: string; history: History }) {
  const finished = history.succeeded + history.failed + history.cancelled
  const perMinute = history.perMinute
  return (
    <section class="panel task-metrics" data-live-region="task-history">
      <div class="split">
        <h2>{RANGE_TITLES[history.range]}</h2>
        <RangeSwitch current={history.range} href={(range) => `${page.admin}/task/${encodeURIComponent(task)}?range=${range}`} />
      </div>
      <dl class="metrics">
        <div>
          <dt>Finished</dt>
          <dd data-metric="finished" title={`${formatCount(history.succeeded)} succeeded, ${formatCount(history.failed)} failed, ${formatCount(history.cancelled)} cancelled`}>
            {formatCompact(finished)}
          </dd>
        </div>
        <div>
          <dt>Throughput</dt>
          <dd data-metric="throughput" title={`${perMinute.toFixed(3)} runs a minute`}>
            {perMinute >= 10 ? formatCompact(perMinute) : perMinute.toFixed(perMinute === 0 ? 0 : 1)}
            <span class="unit">/min</span>
          </dd>
        </div>
        <div>
          <dt>Failure rate</dt>
          <dd data-metric="failure-rate" title={`${formatCount(history.failed)} of ${formatCount(history.succeeded + history.failed)} runs that ran to the end failed`}>
            {history.failureRate === null ? '—' : formatPercent(history.failureRate)}
          </dd>
        </div>
        <div>
          <dt>Retries</dt>
          <dd data-metric="retries" title={`${formatCount(history.retries ?? 0)} attempts beyond the first`}>
            {formatCompact(history.retries ?? 0)}
          </dd>
        </div>
      </dl>
      <dl class="kv">
        <dt>Duration</dt>
        <dd data-metric="duration">
          <PercentileLine of={history.duration} withMax={true} />
        </dd>
        <dt>Wait (due → start)</dt>
        <dd data-metric="wait">
          <PercentileLine of={history.wait} withMax={false} />
        </dd>
      </dl>
      <HistoryChart history={history} />
    </section>
  )
}
