/**
 * Tasks (`/admin/task`): the registry by category, with search (the script filters the cards
 * as you type; the form works without it).
 */
import { taskInfo } from '../../../task/describe.js'
import type { AnyTask } from '../../../task/define.js'
import type { TaskCategory } from '../../../task/registry.js'
import { requirePermission } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { Icon, TaskBadges } from '../ui.js'

export interface TasksData {
  readonly categories: readonly TaskCategory[]
  readonly tasks: readonly AnyTask[]
  /** The search as typed (`?q=`). */
  readonly query: string
}

export const tasksPage: AdminPage<TasksData> = {
  load(c, { engine }) {
    requirePermission(c, 'tasks:read')
    return { categories: engine.categories(), tasks: engine.list(), query: c.req.query('q') ?? '' }
  },
  data: ({ tasks }) => ({ value: tasks.map(taskInfo), name: 'tasks' }),
  view: ({ page, data }) => <TasksPage page={page} categories={data.categories} query={data.query} />,
}

export function TasksPage({ page, categories, query }: { page: PageContext; categories: readonly TaskCategory[]; query: string }) {
  const q = query.trim().toLowerCase()
  const match = (t: AnyTask): boolean => q === '' || [t.key, t.title, t.description, t.category, ...t.tags].some((s) => s.toLowerCase().includes(q))
  const total = categories.reduce((n, c) => n + c.tasks.length, 0)
  return (
    <Layout page={page} title="Tasks" nav="tasks">
      <div class="page-head">
        <div>
          <h1>Tasks</h1>
          <p class="sub">{total} registered</p>
        </div>
        <form method="get" class="filters" role="search">
          <div class="field">
            <label for="task-search">Search</label>
            <input type="search" id="task-search" name="q" value={query} placeholder="key, title, tag…" data-filter-cards=".task-card" data-key="/" />
          </div>
        </form>
      </div>
      <div class="task-groups">
        {categories.map((category) => {
          const shown = category.tasks.filter(match)
          if (shown.length === 0) return null
          return (
            <section>
              <h2>{category.name}</h2>
              <div class="task-grid">
                {shown.map((task) => (
                  <a class="task-card" href={`${page.admin}/task/${encodeURIComponent(task.key)}`} data-search={[task.key, task.title, task.description, task.category, ...task.tags].join(' ').toLowerCase()}>
                    <div class="title">
                      <span class="task-icon">
                        <Icon name={task.icon} />
                      </span>
                      {task.title}
                    </div>
                    <div class="key">{task.key}</div>
                    {task.description === '' ? null : <div class="desc">{task.description}</div>}
                    <div>
                      <TaskBadges task={task} />
                      {task.tags.map((tag) => (
                        <span class="tag">{tag}</span>
                      ))}
                    </div>
                  </a>
                ))}
              </div>
            </section>
          )
        })}
        {total === 0 ? <p class="empty">No tasks registered.</p> : null}
      </div>
    </Layout>
  )
}
