/**
 * `taskengine run <task>`: runs a task now, in this process.
 */
import type { Command, Option } from 'commander'
import { createEngine } from '../../create-engine.js'
import { CancelledError } from '../../errors.js'
import type { RunResult } from '../../task/context.js'
import type { ReservedOption } from '../field-argv.js'
import { EXIT, type CliIo } from '../io.js'
import { LiveOutput, renderSummary } from '../live-output.js'
import { intOption, readTaskInput } from '../task-input.js'

const RESERVED: readonly ReservedOption[] = [
  { name: 'tasks', kind: 'string' },
  { name: 'label', kind: 'string' },
  { name: 'timeout', kind: 'string' },
  { name: 'args', kind: 'string' },
  { name: 'quiet', kind: 'bool', short: 'q' },
  { name: 'json', kind: 'bool' },
  { name: 'debug', kind: 'bool' },
  { name: 'help', kind: 'bool', short: 'h' },
]

export function runCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option): void {
  program
    .command('run')
    .description('run a task now, in this process: live logs and progress on stderr, then a summary (on a terminal) or the whole run as JSON')
    .argument('<task>', 'task key')
    .argument('[values...]', 'field values: --name value, --flag, --no-flag, or name=value')
    .addOption(tasksOption())
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
        'Exit code: 0 succeeded, 1 failed or cancelled, 2 invalid input, 130 interrupted.\n\n' +
        'Example:\n  taskengine run countdown --steps 5 --delayMs 200',
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
  const engine = createEngine({ tasks: [task] })
  const controller = new AbortController()
  let interrupted = false
  const stopListening = io.onInterrupt?.((signal) => {
    interrupted = true
    err(`\ntaskengine: ${signal}: cancelling "${task.key}" (again to force quit)\n`)
    controller.abort(new CancelledError(`interrupted (${signal})`))
  })
  const live = option('quiet') === true ? undefined : new LiveOutput(err, liveOptions(io))
  let result: RunResult
  try {
    result = await engine.run(task, args, {
      ...(option('label') === undefined ? {} : { label: String(option('label')) }),
      signal: controller.signal,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(live === undefined ? {} : { onEvent: (event) => live.onEvent(event) }),
    })
  } finally {
    stopListening?.()
  }
  if (option('json') === true || io.stdout.isTTY !== true) {
    // For programs: the whole run. The live view (if any) ends with its summary line on stderr.
    live?.finish(result)
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } else {
    // For a person at a terminal: the live view already showed the logs and progress.
    live?.end()
    io.stdout.write(renderSummary(result, { color: colorOn(io, io.stdout), data: true }))
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
