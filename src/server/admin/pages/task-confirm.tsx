/**
 * `GET /admin/task/:key/run?<args>` (and `?async=true` for the live view): a link only shows
 * what would run; running takes the POST this page's button sends.
 */
import type { AnyTask } from '../../../task/define.js'
import { storedArgs } from '../../../task/fields.js'
import { ArgsInputs, prefillQuery } from '../form.js'
import { Layout, type PageContext } from '../layout.js'
import { Csrf, Icon, JsonView, TaskBadges } from '../ui.js'

export function ConfirmRunPage({
  page,
  task,
  args,
  error,
  live,
  label,
}: {
  page: PageContext
  task: AnyTask
  args: Readonly<Record<string, unknown>> | undefined
  error: string | undefined
  live: boolean
  label: string
}) {
  const base = `${page.admin}/task/${encodeURIComponent(task.key)}`
  return (
    <Layout page={page} title={`Run ${task.title}?`} nav="tasks">
      <h1>
        {live ? 'Start' : 'Run'} {task.title}? <TaskBadges task={task} />
      </h1>
      {error === undefined ? null : <div class="notice notice-bad">{error}</div>}
      <section class="panel" id="confirm-run">
        <p>These arguments came with the link. Running a task changes state, so it takes a click here{task.dangerous === undefined ? '' : ' and your confirmation'}:</p>
        {args === undefined ? null : <JsonView value={storedArgs(args)} id="confirm-args" />}
        {label === '' ? null : (
          <p>
            Label: <span class="mono">{label}</span>
          </p>
        )}
        {args === undefined ? (
          <p>
            <a class="button" href={base}>
              Open the form
            </a>
          </p>
        ) : (
          <form method="post" action={`${base}/${live ? 'start' : 'run'}`} data-dangerous={task.dangerous ?? undefined}>
            <Csrf token={page.csrf} />
            <ArgsInputs args={args} />
            {label === '' ? null : <input type="hidden" name="te:label" value={label} />}
            {task.dangerous === undefined ? null : (
              <div class="danger-box">
                <strong>
                  <Icon name="alert" /> Dangerous:
                </strong>{' '}
                {task.dangerous}
                <label class="checkbox-label">
                  <input type="checkbox" name="te:confirm" value="yes" /> I understand; run it anyway
                </label>
              </div>
            )}
            <div class="actions">
              <button type="submit" class="primary">
                <Icon name={live ? 'timer' : 'play'} /> {live ? 'Start and watch live' : 'Run'}
              </button>
              <a class="button" href={`${base}?${prefillQuery(args)}`}>
                Edit first
              </a>
            </div>
          </form>
        )}
      </section>
    </Layout>
  )
}
