/**
 * `taskengine queues`: every queue the store and the tasks module know of, idle ones included,
 * with its limit across workers (the config file's `queues`) and what is pending and running.
 */
import type { Command, Option } from 'commander'
import { Engine } from '../../engine/engine.js'
import type { QueueInfo } from '../../engine/durable/queues.js'
import { EXIT, renderTable, type CliIo } from '../io.js'
import { loadTasks } from '../load-tasks.js'
import { openStore } from '../store-option.js'

interface Flags {
  tasks?: string
  store?: string
  json?: boolean
}

export function queuesCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option): void {
  program
    .command('queues')
    .description('list the queues: limit across workers, tasks, pending and running runs, oldest due')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--json', 'print JSON')
    .action(async (flags: Flags) => {
      const { tasks, queues } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
      const engine = new Engine({ tasks: [...tasks], ...(queues === undefined ? {} : { queues }), store: await openStore(flags.store, io.cwd) })
      try {
        const list = await engine.queues()
        if (flags.json === true) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
        else io.stdout.write(renderQueueTable(list, Date.now()))
        setExit(EXIT.ok)
      } finally {
        await engine.close()
      }
    })
}

/** The queue list as an aligned table. */
function renderQueueTable(queues: readonly QueueInfo[], now: number): string {
  if (queues.length === 0) return 'no queues\n'
  const waited = (at: Date | null): string => (at === null ? '-' : `${Math.max(0, Math.round((now - at.getTime()) / 1000))} s`)
  const rows = queues.map((q) => [q.name, q.concurrency === null ? '-' : String(q.concurrency), q.tasks.join(',') || '-', String(q.pending), String(q.running), waited(q.oldestPendingAt)])
  return renderTable(['QUEUE', 'LIMIT', 'TASKS', 'PENDING', 'RUNNING', 'OLDEST DUE'], rows)
}
