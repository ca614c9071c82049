/**
 * `taskengine queues`: every queue the store and the tasks module know of, idle ones included,
 * with its limits across workers (the config file's `queues`, with the changes made live on
 * top), paused state and usage. `taskengine queues set <name>`: change a queue's limits or
 * pause it, for every worker on the store (within one heartbeat), stored.
 */
import type { Command, Option } from 'commander'
import { limitsChange } from '../../engine/access/changes.js'
import { Engine } from '../../engine/engine.js'
import type { QueueInfo } from '../../engine/flow/report.js'
import { describeFlow, formatRate, patchFromFlags, type FlowFlags } from '../flow-flags.js'
import { recordCli } from '../cli-actor.js'
import { EXIT, renderTable, type CliIo } from '../io.js'
import { loadTasks } from '../load-tasks.js'
import { openStore } from '../store-option.js'

interface Flags {
  tasks?: string
  store?: string
  json?: boolean
}

export function queuesCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option): void {
  const queues = program.command('queues').description('list the queues with their limits and usage; change limits, pause and resume')

  queues
    .command('list', { isDefault: true })
    .description('list the queues: limits across workers, paused, tasks, pending and running runs, starts in the rate window, oldest due')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--json', 'print JSON')
    .action(async (flags: Flags) => {
      await withEngine(flags, io, async (engine) => {
        const list = await engine.queues()
        if (flags.json === true) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
        else io.stdout.write(renderQueueTable(list, Date.now()))
      })
      setExit(EXIT.ok)
    })

  queues
    .command('set')
    .description('change a queue\'s limits across workers, or pause / resume it, for every worker on the store (within a heartbeat)')
    .argument('<name>', 'queue name')
    .option('--concurrency <n|none>', 'at most n of its runs executing at once across every worker; none: no limit')
    .option('--rate <max/period|none>', 'at most max starts per period across every worker (100/60s, 10/1000 in ms); none: no limit')
    .option('--pause', 'start none of its runs (running ones finish, pending ones wait)')
    .option('--resume', 'start its runs again')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--json', 'print the limits as JSON')
    .addHelpText('after', '\nA limit set here replaces the config file\'s until set again; none removes it (the config\'s too).\n')
    .action(async (name: string, flags: Flags & FlowFlags) => {
      // Checked before the store is opened: a bad flag changes nothing.
      const patch = patchFromFlags(flags, false)
      await withEngine(flags, io, async (engine) => {
        const before = (await engine.queues()).find((q) => q.name === name)
        const limits = await engine.updateQueue(name, patch)
        await recordCli(engine, io, limitsChange('queue', name, before, limits, patch))
        io.stderr.write(`queue ${name}: ${describeFlow(limits)}\n`)
        if (flags.json === true) io.stdout.write(`${JSON.stringify({ name, ...limits }, null, 2)}\n`)
      })
      setExit(EXIT.ok)
    })
}

/** An engine on the store with the module's tasks and queue limits (not started: no worker). */
async function withEngine(flags: Flags, io: CliIo, fn: (engine: Engine) => Promise<void>): Promise<void> {
  const { tasks, queues, users } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
  const engine = new Engine({ tasks: [...tasks], ...(queues === undefined ? {} : { queues }), ...(users === undefined ? {} : { users }), store: await openStore(flags.store, io.cwd) })
  try {
    await fn(engine)
  } finally {
    await engine.close()
  }
}

/** The queue list as an aligned table. */
function renderQueueTable(queues: readonly QueueInfo[], now: number): string {
  if (queues.length === 0) return 'no queues\n'
  const waited = (at: Date | null): string => (at === null ? '-' : `${Math.max(0, Math.round((now - at.getTime()) / 1000))} s`)
  const rows = queues.map((q) => [
    q.name,
    q.paused ? 'paused' : 'active',
    q.concurrency === null ? '-' : String(q.concurrency),
    formatRate(q.rate),
    q.startsInWindow === null ? '-' : String(q.startsInWindow),
    String(q.pending),
    String(q.running),
    waited(q.oldestPendingAt),
    q.tasks.join(',') || '-',
  ])
  return renderTable(['QUEUE', 'STATE', 'CONCURRENCY', 'RATE', 'STARTS', 'PENDING', 'RUNNING', 'OLDEST DUE', 'TASKS'], rows)
}
