/**
 * `taskengine run <task>`: runs a task now, in this process. Given a store (`--store`, or
 * `TASKENGINE_STORE`), it also records the run there (in-process, created by the CLI user), so
 * it shows in run lists and the admin UI; `--no-record` skips that. Without a store nothing is
 * stored, and no store is opened.
 */
import type { Command, Option } from 'commander'
import { createEngine } from '../../create-engine.js'
import { CancelledError } from '../../errors.js'
import type { RunResult } from '../../task/context.js'
import type { ReservedOption } from '../field-argv.js'
import { recordCli } from '../cli-actor.js'
import { EXIT, cliUser, type CliIo } from '../io.js'
import { LiveOutput, renderSummary } from '../live-output.js'
import { describeStore, openStore } from '../store-option.js'
import { intOption, readTaskInput } from '../task-input.js'
import { jsonText } from '../../json-text.js'

const RESERVED: readonly ReservedOption[] = [
  { name: 'tasks', kind: 'string' },
  { name: 'store', kind: 'string' },
  { name: 'no-record', kind: 'bool' },
  { name: 'created-by', kind: 'string' },
  { name: 'label', kind: 'string' },
  { name: 'timeout', kind: 'string' },
  { name: 'args', kind: 'string' },
  { name: 'quiet', kind: 'bool', short: 'q' },
  { name: 'json', kind: 'bool' },
  { name: 'debug', kind: 'bool' },
  { name: 'help', kind: 'bool', short: 'h' },
]

export function runCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option): void {
  program
    .command('run')
    .description('run a task now, in this process: live logs and progress on stderr, then a summary (on a terminal) or the whole run as JSON')
    .argument('<task>', 'task key')
    .argument('[values...]', 'field values: --name value, --flag, --no-flag, or name=value')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--no-record', 'with a store, do not record the run there')
    .option('--created-by <user>', 'who the recorded run is for (default: $USER, else the login name, else "local")')
    .option('--label <label>', 'run label (default: the task\'s default label, else ad-hoc)')
    .option('--timeout <ms>', 'time limit in milliseconds')
    .option('--args <json>', 'field values as a JSON object (flags override it)')
    .option('-q, --quiet', 'no live output on stderr')
    .option('--json', 'print the whole run as JSON on stdout (the default when stdout is not a terminal)')
    .allowUnknownOption()
    .passThroughOptions()
    .addHelpText(
      'after',
      '\nField values follow the task key. `taskengine run <task> --help` lists its fields.\n' +
        'On a terminal, the run ends with a summary: status, duration, result data. Piped, or with --json,\n' +
        'stdout gets the whole run as JSON (args, data, error, logs, progress, artifacts, timing).\n' +
        'With --store, the run is also recorded there as it goes (in-process; it shows in run lists and\n' +
        'the admin UI) and its id is printed: in the summary, else on stderr. --no-record skips that.\n' +
        'Exit code: 0 succeeded, 1 failed or cancelled, 2 invalid input, 130 interrupted.\n\n' +
        'Examples:\n  taskengine run countdown --steps 5 --delayMs 200\n  taskengine run countdown --steps 5 --store ./data/taskengine.db',
    )
    .action(async (key: string, words: string[], initial: Record<string, unknown>) => {
      setExit(await run(key, words, initial, io))
    })
}

async function run(key: string, words: readonly string[], initial: Readonly<Record<string, unknown>>, io: CliIo): Promise<number> {
  const err = (text: string): void => void io.stderr.write(text)
  const input = await readTaskInput('run', key, words, initial, RESERVED, io)
  if (typeof input === 'number') return input
  const { task, args, option } = input
  const timeoutMs = intOption(option('timeout'), '--timeout')
  const storeSpec = option('store')
  // Recorded only when given a store: a plain `run` opens none, as it always did.
  const record = storeSpec !== undefined && option('no-record') !== true && option('record') !== false
  const engine = record ? createEngine({ tasks: [task], store: await openStore(String(storeSpec), io.cwd) }) : createEngine({ tasks: [task] })
  const controller = new AbortController()
  let interrupted = false
  const stopListening = io.onInterrupt?.((signal) => {
    interrupted = true
    err(`\ntaskengine: ${signal}: cancelling "${task.key}" (again to force quit)\n`)
    controller.abort(new CancelledError(`interrupted (${signal})`))
  })
  const live = option('quiet') === true ? undefined : new LiveOutput(err, liveOptions(io))
  let result: RunResult | undefined
  try {
    result = await engine.run(task, args, {
      ...(option('label') === undefined ? {} : { label: String(option('label')) }),
      signal: controller.signal,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(live === undefined ? {} : { onEvent: (event) => live.onEvent(event) }),
      ...(record ? { record: true, createdBy: String(option('created-by') ?? cliUser(io)), startedFrom: 'cli' } : {}),
    })
  } finally {
    stopListening?.()
    // Stores the run's end (recorded) and releases the store.
    if (record) {
      // Who ran it, in the audit trail; then the run's end is stored and the store released.
      if (result !== undefined) await recordCli(engine, io, { action: 'run.sync', target: result.id, details: { task: task.key, args: result.args, status: result.status } })
      await engine.close()
    }
  }
  const stored = record ? `stored as run ${result.id} in ${describeStore(String(storeSpec), io.cwd)}\n` : undefined
  if (option('json') === true || io.stdout.isTTY !== true) {
    // For programs: the whole run. The live view (if any) ends with its summary line on stderr.
    live?.finish(result)
    if (stored !== undefined && option('quiet') !== true) err(`taskengine: ${stored}`)
    io.stdout.write(`${jsonText(result, 2)}\n`)
  } else {
    // For a person at a terminal: the live view already showed the logs and progress.
    live?.end()
    io.stdout.write(renderSummary(result, { color: colorOn(io, io.stdout), data: true }) + (stored ?? ''))
  }
  if (result.status === 'succeeded') return EXIT.ok
  return interrupted ? EXIT.interrupted : EXIT.failed
}

/** How to draw live output on this stderr. */
export function liveOptions(io: CliIo): { tty: boolean; color: boolean; columns: number } {
  return { tty: io.stderr.isTTY === true, color: colorOn(io, io.stderr), columns: io.stderr.columns ?? 80 }
}

/** Colours on a terminal, unless NO_COLOR is set or the terminal is dumb. */
function colorOn(io: CliIo, stream: { isTTY?: boolean }): boolean {
  return stream.isTTY === true && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb'
}
