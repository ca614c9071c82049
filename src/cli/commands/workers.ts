/**
 * `taskengine workers`: the live processes sharing the store (workers and servers) with their
 * state, and the workers that died in the last day with the runs they held and what became of
 * each, and the tasks with pending runs no live worker serves. `taskengine workers quiet|resume|stop <id>`: steer one worker, on any machine sharing
 * the store, within its heartbeat (at once on PostgreSQL).
 */
import type { Command, Option } from 'commander'
import { Engine } from '../../engine/engine.js'
import { describeFate, type DeadWorker } from '../../engine/durable/dead-workers.js'
import { unservedText, type UnservedTask } from '../../engine/durable/unserved.js'
import type { WorkerCommandType, WorkerInfo } from '../../store/types.js'
import { recordCli } from '../cli-actor.js'
import { EXIT, cliUser, renderTable, type CliIo } from '../io.js'
import { openStore } from '../store-option.js'

interface Flags {
  store?: string
  json?: boolean
}

/** What each command does, for its help and its confirmation line. */
const COMMANDS: readonly (readonly [WorkerCommandType, string, string])[] = [
  ['quiet', 'stop claiming runs; the runs it holds finish, runs claimed ahead go back to the queue', 'quiet requested: it claims no more runs and finishes the ones it holds'],
  ['resume', 'claim runs again after quiet', 'resume requested: it claims runs again'],
  ['stop', 'stop gracefully, as on SIGTERM: claim nothing, let handlers finish within its grace, exit', 'stop requested: it stops gracefully (handlers get its grace period)'],
]

export function workersCommand(program: Command, io: CliIo, setExit: (code: number) => void, storeOption: () => Option): void {
  const workers = program.command('workers').description('list live and recently dead workers; quiet, resume or stop one on any machine')

  workers
    .command('list', { isDefault: true })
    .description('list live processes (state, busy slots, runs held), workers that died in the last day with the runs they held and what became of them, and tasks with pending runs no live worker serves')
    .addOption(storeOption())
    .option('--json', 'print JSON: { live, dead, unserved }')
    .action(async (flags: Flags) => {
      await withEngine(flags, io, async (engine) => {
        const [live, dead, unserved] = await Promise.all([engine.workers(), engine.deadWorkers(), engine.unserved()])
        if (flags.json === true) io.stdout.write(`${JSON.stringify({ live, dead, unserved }, null, 2)}\n`)
        else io.stdout.write(renderWorkers(live, dead, Date.now()) + renderUnserved(unserved))
      })
      setExit(EXIT.ok)
    })

  for (const [type, about, done] of COMMANDS) {
    workers
      .command(type)
      .description(`${about} (within the worker's heartbeat)`)
      .argument('<id>', 'worker id (taskengine workers lists them)')
      .addOption(storeOption())
      .option('--json', 'print the worker as JSON')
      .action(async (id: string, flags: Flags) => {
        await withEngine(flags, io, async (engine) => {
          const worker = await engine.commandWorker(id, type, { by: cliUser(io) })
          await recordCli(engine, io, { action: `worker.${type}`, target: id })
          io.stderr.write(`worker ${worker.id}: ${done}\n`)
          if (flags.json === true) io.stdout.write(`${JSON.stringify(worker, null, 2)}\n`)
        })
        setExit(EXIT.ok)
      })
  }
}

/** An engine on the store (no tasks, not started: no worker). */
async function withEngine(flags: Flags, io: CliIo, fn: (engine: Engine) => Promise<void>): Promise<void> {
  const engine = new Engine({ store: await openStore(flags.store, io.cwd) })
  try {
    await fn(engine)
  } finally {
    await engine.close()
  }
}

const ago = (at: Date, now: number): string => `${Math.max(0, Math.round((now - at.getTime()) / 1000))} s ago`

/** The live processes, then the dead workers with their held runs, as aligned text. */
function renderWorkers(live: readonly WorkerInfo[], dead: readonly DeadWorker[], now: number): string {
  const liveRows = live.map((w) => [
    w.id,
    w.concurrency === 0 ? 'server' : w.state,
    w.host,
    String(w.pid),
    w.concurrency === 0 ? '-' : `${w.busy}/${w.concurrency}`,
    w.queues === null ? 'all' : w.queues.join(','),
    ago(w.heartbeatAt, now),
    w.command === null ? '-' : `${w.command.type}${w.command.by === null ? '' : ` by ${w.command.by}`} ${ago(w.command.at, now)}`,
  ])
  let text = liveRows.length === 0 ? 'no live processes\n' : renderTable(['ID', 'STATE', 'HOST', 'PID', 'BUSY', 'QUEUES', 'HEARTBEAT', 'COMMAND'], liveRows)
  if (dead.length === 0) return `${text}\nno workers died in the last day\n`
  text += '\nrecently dead (no heartbeat):\n'
  for (const w of dead) {
    text += `${w.id}  ${w.host} pid ${w.pid}  last heartbeat ${ago(w.heartbeatAt, now)}  held ${w.heldTotal} run${w.heldTotal === 1 ? '' : 's'}\n`
    for (const run of w.held) text += `  ${run.id}  ${run.task ?? '-'}  ${describeFate(run)}\n`
    if (w.heldTotal > w.held.length) text += `  … and ${w.heldTotal - w.held.length} more\n`
  }
  return text
}

/** The tasks with pending runs no live worker serves, one line each ("" when there are none). */
function renderUnserved(unserved: readonly UnservedTask[]): string {
  if (unserved.length === 0) return ''
  return `\nwaiting for a worker:\n${unserved.map((u) => `${unservedText(u.task, u.queue, u.lastSeen)}: ${u.pending} pending\n`).join('')}`
}
