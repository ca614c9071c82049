/**
 * `taskengine schedules …`: list cron schedules with their state, turn them on or off, trigger
 * one now, show a schedule's runs. `taskengine settings …`: show and change runtime settings.
 * Both open the store like `runs` does, and the tasks module (for the schedule definitions).
 */
import type { Command, Option } from 'commander'
import { settingsChange } from '../../engine/access/changes.js'
import { Engine } from '../../engine/engine.js'
import { NotFoundError, ValidationError, describeValue } from '../../errors.js'
import type { ScheduleInfo } from '../../engine/schedules/scheduler.js'
import { recordCli } from '../cli-actor.js'
import { EXIT, cliUser, renderTable, type CliIo } from '../io.js'
import { loadTasks } from '../load-tasks.js'
import { openStore } from '../store-option.js'
import { intOption } from '../task-input.js'

interface Flags {
  tasks?: string
  store?: string
  json?: boolean
}

export function schedulesCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option): void {
  const schedules = program.command('schedules').description('list, toggle and trigger cron schedules')
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      setExit(await fn(...args))
    }

  schedules
    .command('list', { isDefault: true })
    .description('list schedules: cron, time zone, enabled, next and last run')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--json', 'print JSON')
    .action(act((flags: Flags) => withEngine(flags, io, async (engine) => {
      const list = await engine.schedules()
      if (flags.json === true) {
        io.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
        return EXIT.ok
      }
      if (list.length === 0) {
        io.stdout.write('no schedules\n')
        return EXIT.ok
      }
      io.stdout.write(renderTable(['ID', 'CRON', 'WHEN', 'ZONE', 'ENABLED', 'NEXT RUN (UTC)', 'LAST RUN'], list.map(row)))
      return EXIT.ok
    })))

  schedules
    .command('toggle')
    .description('turn a schedule on or off for every process sharing the store')
    .argument('<id>', 'schedule id')
    .argument('<state>', 'on or off')
    .addOption(tasksOption())
    .addOption(storeOption())
    .action(act((id: string, state: string, flags: Flags) => {
      if (state !== 'on' && state !== 'off') throw new ValidationError(`<state>: expected "on" or "off", got ${describeValue(state)}`)
      return withSchedule(flags, io, id, async (engine) => {
        const before = await engine.getSchedule(id)
        const schedule = await engine.toggleSchedule(id, state === 'on')
        await recordCli(engine, io, { action: 'schedule.toggle', target: id, before: { enabled: before.enabled }, after: { enabled: schedule.enabled } })
        io.stderr.write(`schedule ${id}: ${schedule.enabled ? `on, next run ${schedule.nextRunAt?.toISOString() ?? 'never'}` : 'off'}\n`)
        return EXIT.ok
      })
    }))

  schedules
    .command('trigger')
    .description('enqueue a run of a schedule now (refused while it is off)')
    .argument('<id>', 'schedule id')
    .addOption(tasksOption())
    .addOption(storeOption())
    .action(act((id: string, flags: Flags) => withSchedule(flags, io, id, async (engine) => {
      const run = await engine.triggerSchedule(id, { createdBy: cliUser(io) })
      await recordCli(engine, io, { action: 'schedule.trigger', target: id, details: { run: run.id, task: run.task } })
      io.stderr.write(`schedule ${id}: run ${run.id} enqueued\n`)
      io.stdout.write(`${JSON.stringify(run, null, 2)}\n`)
      return EXIT.ok
    })))

  schedules
    .command('runs')
    .description('runs of a schedule, newest first')
    .argument('<id>', 'schedule id')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--page <n>', 'page number', '1')
    .option('--page-size <n>', 'runs per page (1–1000)', '20')
    .option('--json', 'print the page as JSON')
    .action(act((id: string, flags: Flags & { page?: string; pageSize?: string }) => withSchedule(flags, io, id, async (engine) => {
      const page = await engine.scheduleRuns(id, { page: intOption(flags.page, '--page') ?? 1, pageSize: intOption(flags.pageSize, '--page-size') ?? 20 })
      if (flags.json === true) {
        io.stdout.write(`${JSON.stringify(page, null, 2)}\n`)
        return EXIT.ok
      }
      if (page.total === 0) {
        io.stdout.write(`schedule ${id} has no runs yet\n`)
        return EXIT.ok
      }
      const rows = page.data.map((r) => [r.id, r.status, r.runAt.toISOString().replace('T', ' ').slice(0, 19), r.createdBy ?? 'schedule', r.error?.message.split('\n')[0]?.slice(0, 60) ?? ''])
      io.stdout.write(renderTable(['ID', 'STATUS', 'FOR (UTC)', 'BY', 'ERROR'], rows))
      io.stdout.write(`page ${page.page} of ${Math.max(1, Math.ceil(page.total / page.pageSize))} (${page.total} run${page.total === 1 ? '' : 's'})\n`)
      return EXIT.ok
    })))

  const settings = program.command('settings').description('show and change runtime settings (shared by every process on the store)')
  settings
    .command('show', { isDefault: true })
    .description('print the settings')
    .addOption(storeOption())
    .option('--json', 'print JSON')
    .action(act((flags: Flags) => withStore(flags, io, async (engine) => {
      const described = await engine.settings.describe()
      if (flags.json === true) {
        io.stdout.write(`${JSON.stringify(await engine.settings.get(), null, 2)}\n`)
        return EXIT.ok
      }
      io.stdout.write(renderTable(['KEY', 'VALUE', 'DEFAULT', 'ABOUT'], described.map((s) => [s.key, String(s.value), String(s.default), s.title])))
      return EXIT.ok
    })))
  settings
    .command('set')
    .description('change settings: key=value … (null resets workerConcurrency to each worker\'s own)')
    .argument('<assignments...>', 'e.g. workerConcurrency=20 runRetentionDays=7 logBackend=store')
    .addOption(storeOption())
    .action(act((assignments: string[], flags: Flags) => {
      const patch: Record<string, unknown> = {}
      for (const assignment of assignments) {
        const at = assignment.indexOf('=')
        if (at <= 0) throw new ValidationError(`expected key=value, got ${describeValue(assignment)}`)
        const text = assignment.slice(at + 1)
        patch[assignment.slice(0, at)] = text === 'null' ? null : /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text
      }
      return withStore(flags, io, async (engine) => {
        const before = await engine.settings.get()
        const after = await engine.settings.update(patch)
        await recordCli(engine, io, settingsChange(before, after))
        io.stderr.write(`settings changed: ${Object.keys(patch).join(', ')}\n`)
        io.stdout.write(`${JSON.stringify(after, null, 2)}\n`)
        return EXIT.ok
      })
    }))
}

function row(s: ScheduleInfo): string[] {
  const last = s.lastRun === null ? '' : `${s.lastRun.status} ${s.lastRun.runAt.toISOString().replace('T', ' ').slice(0, 19)}`
  return [s.id, s.cron, s.cronText, s.timezone, s.enabled ? 'on' : 'off', s.nextRunAt?.toISOString().replace('T', ' ').slice(0, 19) ?? '', last]
}

/** An engine on the store with the module's tasks and schedules (not started: no worker). */
async function withEngine(flags: Flags, io: CliIo, fn: (engine: Engine) => Promise<number>): Promise<number> {
  const { tasks, schedules, users } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
  return opened(new Engine({ tasks: [...tasks], schedules: [...schedules], ...(users === undefined ? {} : { users }), store: await openStore(flags.store, io.cwd) }), fn)
}

/** {@link withEngine} for one schedule, which must be among the module's (checked before the store is opened). */
async function withSchedule(flags: Flags, io: CliIo, id: string, fn: (engine: Engine) => Promise<number>): Promise<number> {
  const { tasks, schedules, users, source } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
  if (!schedules.some((s) => s.id === id)) {
    const known = schedules.map((s) => s.id).sort()
    throw new NotFoundError(`unknown schedule "${id}" (schedules from ${source}: ${known.join(', ') || 'none'})`)
  }
  return opened(new Engine({ tasks: [...tasks], schedules: [...schedules], ...(users === undefined ? {} : { users }), store: await openStore(flags.store, io.cwd) }), fn)
}

/** An engine on the store, without tasks (settings need none). */
async function withStore(flags: Flags, io: CliIo, fn: (engine: Engine) => Promise<number>): Promise<number> {
  return opened(new Engine({ store: await openStore(flags.store, io.cwd) }), fn)
}

async function opened(engine: Engine, fn: (engine: Engine) => Promise<number>): Promise<number> {
  try {
    return await fn(engine)
  } finally {
    await engine.close()
  }
}
