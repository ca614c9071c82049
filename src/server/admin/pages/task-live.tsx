/**
 * The live view of a run started from the task form (the answer to its POST): the script opens
 * the live task socket and streams log lines, progress and the result into this page.
 */
import type { AnyTask } from '../../../task/define.js'
import { ArgsInputs, prefillQuery } from '../form.js'
import { Layout, type PageContext } from '../layout.js'
import { Csrf, Icon, JsonShell, JsonView, LogTerminal, ProgressBar } from '../ui.js'

/**
 * The live view, in answer to the posted form: the client script opens the start socket with
 * the one-time `ticket` the POST earned, and streams the run here.
 */
export function LivePage({ page, task, ticket, args, label }: { page: PageContext; task: AnyTask; ticket: string; args: Readonly<Record<string, unknown>>; label: string }) {
  const base = `${page.admin}/task/${encodeURIComponent(task.key)}`
  return (
    <Layout page={page} title={`${task.title} (live)`} nav="tasks">
      <div class="page-head">
        <div>
          <h1>
            <a href={base}>{task.title}</a>{' '}
            <span class="status status-running" id="live-status" data-status="running">
              starting
            </span>
          </h1>
          <p class="sub" id="live-sub">Live: log lines and progress arrive as the run writes them. The run executes in this server process and is stored as it goes: leaving this page cancels it.</p>
        </div>
        <div class="actions">
          <button type="button" class="danger" id="live-stop" hidden title="Stop the run: it ends cancelled, and its log and result so far stay here">
            <Icon name="stop" /> Stop
          </button>
          <span class="actions" id="live-actions" hidden>
            <a class="button" id="live-stored" href={`${page.admin}/runs`} data-runs={`${page.admin}/runs`} hidden>
              <Icon name="list" /> Stored run
            </a>
            <a class="button primary" href={`${base}?${prefillQuery(args)}`}>
              <Icon name="refresh" /> Edit &amp; run again
            </a>
          </span>
        </div>
      </div>
      <noscript>
        <div class="notice notice-warn">
          The live view needs JavaScript.
          <form method="post" action={`${base}/run`} class="inline">
            <Csrf token={page.csrf} />
            <ArgsInputs args={args} />
            {label === '' ? null : <input type="hidden" name="te:label" value={label} />}
            {task.dangerous === undefined ? null : <input type="hidden" name="te:confirm" value="yes" />}{' '}
            <button type="submit" class="small">
              Run it without streaming instead
            </button>
          </form>
        </div>
      </noscript>
      <div id="live-interrupted" class="notice notice-bad" role="alert" hidden>
        <strong>Connection lost: the run was interrupted.</strong> A run started here executes in the server process and is cancelled when this page loses its connection (the server
        restarted, or the network dropped); its stored run ends cancelled (or failed, if the server stopped). <a href={`${page.admin}/runs?task=${encodeURIComponent(task.key)}`}>See the task's stored runs</a> ·{' '}
        <a href={`${base}?${prefillQuery(args)}`}>start it again</a> (or enqueue it, to get a durable run that survives restarts).
      </div>
      <div id="live-stopped" class="notice notice-neutral" role="status" hidden>
        <strong>Stopped</strong> from this page: the run ended cancelled. Its log and progress so far are below.
      </div>
      <div id="live-result" hidden>
        <div id="live-error" class="error-card" role="alert" hidden>
          <div class="split">
            <span class="message" data-part="message" />
            <span class="badge badge-danger mono" data-part="code" />
          </div>
          <details class="stack" data-part="stack" hidden>
            <summary>
              Stack trace (<span data-part="name" />)
            </summary>
            <pre class="stack" data-part="stack-text" />
          </details>
        </div>
        <div class="grid grid-2">
          <section class="panel">
            <h2>Result</h2>
            <JsonShell id="live-data" />
          </section>
          <section class="panel">
            <h2>Details</h2>
            <dl class="kv">
              <dt>Status</dt>
              <dd data-part="status" />
              <dt>Run</dt>
              <dd class="mono" data-part="id" />
              <dt>Label</dt>
              <dd data-part="label" />
              <dt>Started</dt>
              <dd data-part="started" />
              <dt>Duration</dt>
              <dd data-part="duration" />
              <dt>Tags</dt>
              <dd data-part="tags" />
            </dl>
            <h3>Arguments</h3>
            <JsonView value={args} id="live-args" />
          </section>
        </div>
      </div>
      <section class="panel" id="live-run" data-socket={`${base}/start?ticket=${encodeURIComponent(ticket)}`} data-task={task.key} data-runs={`${page.admin}/runs`}>
        <ProgressBar progress={undefined} id="live-progress" />
        <h3>Log</h3>
        <LogTerminal logs={[]} id="live-log" follow />
      </section>
    </Layout>
  )
}
