/**
 * `taskengine tasks`: the registry. `taskengine tasks set <key>`: change a task's limits across
 * workers, or pause / resume it, for every worker on the store (within one heartbeat), stored.
 */
import type { Command, Option } from 'commander'
import { limitsChange } from '../../engine/access/changes.js'
import { Engine } from '../../engine/engine.js'
import { NotFoundError } from '../../errors.js'
import type { AnyTask } from '../../task/define.js'
import { taskInfo } from '../../task/describe.js'
import { describeFlow, patchFromFlags, type FlowFlags } from '../flow-flags.js'
import { recordCli } from '../cli-actor.js'
import { EXIT, renderTable, type CliIo } from '../io.js'
import { loadTasks } from '../load-tasks.js'
import { openStore } from '../store-option.js'

export function tasksCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option): void {
  const tasks = program.command('tasks').description('list the registered tasks; change a task\'s limits, pause and resume it')

  tasks
    .command('list', { isDefault: true })
    .description('list the registered tasks')
    .addOption(tasksOption())
    .option('--json', 'print the tasks with their fields as JSON')
    .action(async (options: { tasks?: string; json?: boolean }) => {
      const { tasks } = await loadTasks({ module: options.tasks, cwd: io.cwd })
      const sorted = [...tasks].sort((a, b) => (a.key < b.key ? -1 : 1))
      if (options.json === true) io.stdout.write(`${JSON.stringify(sorted.map(taskInfo), null, 2)}\n`)
      else io.stdout.write(renderTaskTable(sorted))
    })

  tasks
    .command('set')
    .description('change a task\'s limits across workers, or pause / resume it, for every worker on the store (within a heartbeat)')
    .argument('<key>', 'task key')
    .option('--concurrency <n|none>', 'at most n runs executing at once across every worker; none: no limit')
    .option('--rate <max/period|none>', 'at most max starts per period across every worker (100/60s, 10/1000 in ms); none: no limit')
    .option('--group-concurrency <n|none>', 'at most n runs of one group key at once; none: no per-group limit')
    .option('--pause', 'start none of its runs (running ones finish, pending ones wait)')
    .option('--resume', 'start its runs again')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--json', 'print the limits as JSON')
    .addHelpText('after', '\nA limit set here replaces the task\'s limits in code until set again; none removes it.\n')
    .action(async (key: string, flags: FlowFlags & { tasks?: string; store?: string; json?: boolean }) => {
      // Checked before the store is opened: a bad flag changes nothing.
      const patch = patchFromFlags(flags, true)
      const { tasks, queues, users, source } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
      if (!tasks.some((t) => t.key === key)) {
        throw new NotFoundError(`unknown task "${key}" (tasks from ${source}: ${tasks.map((t) => t.key).sort().join(', ') || 'none'})`)
      }
      const engine = new Engine({ tasks: [...tasks], ...(queues === undefined ? {} : { queues }), ...(users === undefined ? {} : { users }), store: await openStore(flags.store, io.cwd) })
      try {
        const before = (await engine.stats()).flow.tasks.find((t) => t.task === key)
        const limits = await engine.updateTask(key, patch)
        await recordCli(engine, io, limitsChange('task', key, before, limits, patch))
        io.stderr.write(`task ${key}: ${describeFlow(limits)}\n`)
        if (flags.json === true) io.stdout.write(`${JSON.stringify({ task: key, ...limits }, null, 2)}\n`)
      } finally {
        await engine.close()
      }
      setExit(EXIT.ok)
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
