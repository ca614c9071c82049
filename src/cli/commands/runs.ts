/**
 * `taskengine runs …`: list, inspect, follow and steer durable runs in a store.
 */
import type { Command, Option } from 'commander'
import { runChange } from '../../engine/access/changes.js'
import { Engine } from '../../engine/engine.js'
import { unservedText } from '../../engine/durable/unserved.js'
import { NotFoundError, ValidationError, describeValue } from '../../errors.js'
import { FINAL_STATES, type Run, type RunFilter } from '../../store/types.js'
import { withFinalLine } from '../../engine/execute/final-line.js'
import type { LogEntry } from '../../task/context.js'
import { recordCli } from '../cli-actor.js'
import { EXIT, interrupted, renderTable, type CliIo } from '../io.js'
import { formatDuration } from '../live-output.js'
import { openStore } from '../store-option.js'
import { intOption } from '../task-input.js'
import { addFilterFlags, filterFromFlags, type FilterFlags } from '../run-filter-flags.js'
import { bulkAction, type BulkFlags } from './runs-bulk.js'

interface ListFlags extends FilterFlags {
  store?: string
  page?: string
  pageSize?: string
  json?: boolean
}

export function runsCommand(program: Command, io: CliIo, setExit: (code: number) => void, storeOption: () => Option): void {
  const runs = program.command('runs').description('list, inspect and steer durable runs')
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      setExit(await fn(...args))
    }

  addFilterFlags(runs.command('list', { isDefault: true }).description('list runs, newest first').addOption(storeOption()))
    .option('--page <n>', 'page number', '1')
    .option('--page-size <n>', 'runs per page (1–1000)', '20')
    .option('--json', 'print the page as JSON')
    .action(act((flags: ListFlags) => list(flags, io)))

  runs
    .command('show')
    .description('print a run with its attempts, progress, result and error as JSON (on stderr: when no live worker serves a pending run)')
    .argument('<id>', 'run id')
    .addOption(storeOption())
    .action(act((id: string, flags: { store?: string }) => withEngine(flags.store, io, async (engine) => {
      const run = await found(engine, id)
      const unserved = await engine.unservedRun(run)
      if (unserved !== undefined) io.stderr.write(`run ${run.id}: ${unservedText(run.task, run.queue, unserved.lastSeen)}\n`)
      io.stdout.write(`${JSON.stringify(run, null, 2)}\n`)
      return EXIT.ok
    })))

  runs
    .command('logs')
    .description('print a run\'s log lines; with --follow, keep printing until the run finishes')
    .argument('<id>', 'run id')
    .addOption(storeOption())
    .option('-f, --follow', 'wait for new lines until the run finishes')
    .option('--after <seq>', 'only lines after this position', '0')
    .option('--interval <ms>', 'with --follow, how often to look for new lines', '200')
    .action(act((id: string, flags: { store?: string; follow?: boolean; after?: string; interval?: string }) => logs(id, flags, io)))

  for (const [name, description] of [
    ['cancel', 'cancel a run: pending at once, running through its handler\'s signal; with --all, every run matching the filter flags'],
    ['retry', 'put a failed or cancelled run back to pending with a fresh attempt budget; with --all, every run matching the filter flags'],
    ['delete', 'soft-delete a run (a pending one never executes; a running one is cancelled, then deleted); with --all, every run matching the filter flags'],
  ] as const) {
    addFilterFlags(runs.command(name).description(description).argument('[id]', 'run id (or --all with filter flags)').addOption(storeOption()))
      .option('--all', 'every run matching the filter flags, in a bulk job (prints the count, asks on a terminal, follows progress)')
      .option('-y, --yes', 'do not ask (needed off a terminal, and with --all and no filter flags: every run)')
      .action(
        act((id: string | undefined, flags: BulkFlags) => {
          if (flags.all === true) {
            if (id !== undefined) throw new ValidationError(`give a run id or --all with filter flags, not both (got ${describeValue(id)} and --all)`)
            return withEngine(flags.store, io, (engine) => bulkAction(engine, name, flags, io))
          }
          if (id === undefined) throw new ValidationError(`runs ${name}: give a run id, or --all with filter flags (e.g. --status pending --task report --all)`)
          return withEngine(flags.store, io, (engine) => steer(engine, name, id, io))
        }),
      )
  }
}

/** `runs cancel|retry|delete`: the run as JSON on stdout, what happened to it on stderr. */
async function steer(engine: Engine, action: 'cancel' | 'retry' | 'delete', id: string, io: CliIo): Promise<number> {
  const before = await found(engine, id)
  let run: Run
  let outcome: string
  const reason = 'cancelled from the command line'
  if (action === 'cancel') {
    run = await engine.cancel(id, reason, { by: 'cli' })
    outcome = run.status === 'cancelled' ? 'cancelled' : `cancel requested: its handler is asked to stop, and the run ends cancelled`
  } else if (action === 'retry') {
    run = await engine.retry(id)
    outcome = 'pending again'
  } else {
    run = await engine.delete(id)
    outcome =
      run.status === 'running' || run.status === 'waiting'
        ? `it was ${run.status}: cancel requested (its handler is asked to stop, and the run ends cancelled), then deleted`
        : before.status === 'pending'
          ? 'it was pending: cancelled (it will not execute), then deleted'
          : 'deleted'
  }
  await recordCli(engine, io, runChange(`run.${action}`, before, run, action === 'cancel' ? { reason } : undefined))
  io.stderr.write(`run ${run.id}: ${outcome}\n`)
  io.stdout.write(`${JSON.stringify(run, null, 2)}\n`)
  return EXIT.ok
}

async function withEngine(store: string | undefined, io: CliIo, fn: (engine: Engine) => Promise<number>): Promise<number> {
  const engine = new Engine({ store: await openStore(store, io.cwd) })
  try {
    return await fn(engine)
  } finally {
    await engine.close()
  }
}

async function found(engine: Engine, id: string): Promise<Run> {
  const run = await engine.getRun(id)
  if (run === undefined) throw new NotFoundError(`unknown run "${id}"`)
  return run
}

async function list(flags: ListFlags, io: CliIo): Promise<number> {
  const filter: RunFilter = {
    ...filterFromFlags(flags),
    page: intOption(flags.page, '--page') ?? 1,
    pageSize: intOption(flags.pageSize, '--page-size') ?? 20,
  }
  return withEngine(flags.store, io, async (engine) => {
    const page = await engine.listRuns(filter)
    if (flags.json === true) {
      io.stdout.write(`${JSON.stringify(page, null, 2)}\n`)
      return EXIT.ok
    }
    if (page.data.length === 0) {
      io.stdout.write(page.total === 0 ? 'no runs\n' : `no runs on page ${page.page} (${page.total} in all)\n`)
      return EXIT.ok
    }
    const rows = page.data.map((r) => [
      r.id,
      r.task,
      r.status,
      r.label,
      r.queue,
      `${r.attempt}/${r.maxAttempts + r.attemptBase}`,
      r.createdAt.toISOString().replace('T', ' ').slice(0, 19),
      r.startedAt !== null && r.finishedAt !== null ? formatDuration(r.finishedAt.getTime() - r.startedAt.getTime()) : '',
      r.error?.message.split('\n')[0]?.slice(0, 60) ?? '',
    ])
    io.stdout.write(renderTable(['ID', 'TASK', 'STATUS', 'LABEL', 'QUEUE', 'ATTEMPT', 'CREATED (UTC)', 'TOOK', 'ERROR'], rows))
    const pages = Math.max(1, Math.ceil(page.total / page.pageSize))
    io.stdout.write(`page ${page.page} of ${pages} (${page.total} run${page.total === 1 ? '' : 's'})\n`)
    return EXIT.ok
  })
}

async function logs(id: string, flags: { store?: string; follow?: boolean; after?: string; interval?: string }, io: CliIo): Promise<number> {
  let after = intOption(flags.after, '--after', 0) ?? 0
  const intervalMs = intOption(flags.interval, '--interval') ?? 200
  return withEngine(flags.store, io, async (engine) => {
    await found(engine, id)
    const print = (lines: readonly LogEntry[]): void => {
      for (const line of lines) io.stdout.write(`${line.time.toISOString()} ${line.level.padEnd(5)} ${line.message}\n`)
      if (lines.length > 0) after = lines.at(-1)!.seq
    }
    const drain = async (): Promise<void> => {
      for (;;) {
        const lines = await engine.getLogs(id, { after, limit: 1000 })
        print(lines)
        if (lines.length < 1000) return
      }
    }
    // A finished run's log ends with how it ended and how long its handler took (derived, not stored).
    const printFinal = (run: Run): void => print(withFinalLine(run, [], after, 1))
    await drain()
    if (flags.follow !== true) {
      printFinal(await found(engine, id))
      return EXIT.ok
    }
    let stop = false
    void interrupted(io).then(() => (stop = true))
    for (;;) {
      const run = await found(engine, id)
      await drain()
      if (FINAL_STATES.includes(run.status)) {
        printFinal(run)
        io.stderr.write(`run ${id} ${run.status}${run.error === null ? '' : `: ${run.error.message}`}\n`)
        return run.status === 'succeeded' ? EXIT.ok : EXIT.failed
      }
      if (stop) return EXIT.interrupted
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  })
}
