/**
 * `GET /admin/task/:key/remove`: asks before the task is dropped from this server's registry.
 */
import type { AnyTask } from '../../../task/define.js'
import { Layout, type PageContext } from '../layout.js'
import { Csrf, Icon } from '../ui.js'

export function RemoveTaskPage({ page, task }: { page: PageContext; task: AnyTask }) {
  return (
    <Layout page={page} title={`Remove ${task.title}?`} nav="tasks">
      <h1>Remove {task.title}?</h1>
      <section class="panel">
        <p>
          The task <span class="mono">{task.key}</span> will be removed from this server's registry until the process restarts (tasks registered in code come back then). Its stored runs stay;
          pending ones are not executed by this process while the task is gone.
        </p>
        <form method="post" action={`${page.admin}/task/${encodeURIComponent(task.key)}/remove`} class="actions">
          <Csrf token={page.csrf} />
          <button type="submit" class="danger">
            <Icon name="trash" /> Remove task
          </button>
          <a class="button" href={`${page.admin}/task/${encodeURIComponent(task.key)}`}>
            Keep it
          </a>
        </form>
      </section>
    </Layout>
  )
}
