/**
 * `taskengine tasks`: the registry.
 */
import type { Command, Option } from 'commander'
import type { AnyTask } from '../../task/define.js'
import { taskInfo } from '../../task/describe.js'
import { renderTable, type CliIo } from '../io.js'
import { loadTasks } from '../load-tasks.js'

export function tasksCommand(program: Command, io: CliIo, tasksOption: () => Option): void {
  program
    .command('tasks')
    .description('list the registered tasks')
    .addOption(tasksOption())
    .option('--json', 'print the tasks with their fields as JSON')
    .action(async (options: { tasks?: string; json?: boolean }) => {
      const { tasks } = await loadTasks({ module: options.tasks, cwd: io.cwd })
      const sorted = [...tasks].sort((a, b) => (a.key < b.key ? -1 : 1))
      if (options.json === true) io.stdout.write(`${JSON.stringify(sorted.map(taskInfo), null, 2)}\n`)
      else io.stdout.write(renderTaskTable(sorted))
    })
}

/** The task list as an aligned table. */
export function renderTaskTable(tasks: readonly AnyTask[]): string {
  if (tasks.length === 0) return 'no tasks registered\n'
  const rows = tasks.map((t) => [
    t.key,
    t.title,
    t.category,
    t.fields.map((f) => `${f.key}${f.required === true ? '*' : ''}:${f.type}`).join(' ') || '-',
    [t.dangerous === undefined ? '' : 'dangerous', t.expensive ? 'expensive' : ''].filter(Boolean).join(','),
  ])
  return renderTable(['KEY', 'TITLE', 'CATEGORY', 'FIELDS (* required)', 'FLAGS'], rows)
}
