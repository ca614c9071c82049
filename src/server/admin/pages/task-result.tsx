/**
 * The result of a synchronous run from the task form (the answer to its POST): status, data,
 * details, arguments and log, a link to the stored run, and the form again to run it once more.
 */
import type { RunResult } from '../../../task/context.js'
import type { AnyTask } from '../../../task/define.js'
import { prefillQuery } from '../form.js'
import { Layout, type PageContext } from '../layout.js'
import { formatDuration } from '../shared/format.js'
import { ErrorCard, Icon, JsonView, LogTerminal, ProgressBar, StatusPill, Time } from '../ui.js'
import { plain } from '../../formats.js'
import { resultFinalLine } from '../../../engine/execute/final-line.js'

export function ResultPage({ page, task, result }: { page: PageContext; task: AnyTask; result: RunResult }) {
  return (
    <Layout page={page} title={`${task.title}: ${result.status}`} nav="tasks">
      <div class="page-head">
        <div>
          <h1>
            <a href={`${page.admin}/task/${encodeURIComponent(task.key)}`}>{task.title}</a> <StatusPill status={result.status} />
          </h1>
          <p class="sub">
            Run <span class="mono">{result.id}</span> · label {result.label} · {formatDuration(result.durationMs)} · executed in this server process.{' '}
            <a id="result-stored" href={`${page.admin}/runs/${encodeURIComponent(result.id)}`}>
              Stored as run {result.id.slice(-8)}
            </a>
          </p>
        </div>
        <div class="actions">
          <a class="button" href={`${page.admin}/runs/${encodeURIComponent(result.id)}`}>
            <Icon name="list" /> Stored run
          </a>
          <a class="button" href={`${page.admin}/task/${encodeURIComponent(task.key)}?${prefillQuery(result.args)}`}>
            <Icon name="refresh" /> Edit &amp; run again
          </a>
        </div>
      </div>
      {result.error === undefined ? null : <ErrorCard error={result.error} />}
      <div class="grid grid-2">
        <section class="panel">
          <h2>Result</h2>
          {result.data === undefined && result.status !== 'succeeded' ? <p class="empty">No result: the run {result.status}.</p> : <JsonView value={plain(result.data)} id="result-data" />}
        </section>
        <section class="panel">
          <h2>Details</h2>
          <dl class="kv">
            <dt>Status</dt>
            <dd>
              <StatusPill status={result.status} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time date={result.startedAt} now={page.now} /> <span class="faint">{result.startedAt.toISOString()}</span>
            </dd>
            <dt>Duration</dt>
            <dd>{formatDuration(result.durationMs)}</dd>
            <dt>Tags</dt>
            <dd>{result.tags.length === 0 ? <span class="faint">none</span> : result.tags.map((t) => <span class="tag">{t}</span>)}</dd>
            <dt>Progress</dt>
            <dd>{result.progress === undefined ? <span class="faint">none reported</span> : <ProgressBar progress={result.progress} />}</dd>
          </dl>
          <h3>Arguments</h3>
          <JsonView value={result.args} id="result-args" />
        </section>
      </div>
      <section class="panel">
        <h2>Log</h2>
        <LogTerminal logs={[...result.logs, resultFinalLine(result)]} id="result-log" finished />
        {result.droppedLogs > 0 ? <p class="faint">{result.droppedLogs} earlier lines were dropped.</p> : null}
      </section>
    </Layout>
  )
}
