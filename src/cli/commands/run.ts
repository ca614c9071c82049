/**
 * `taskengine run <task>`: runs a task now, in this process.
 */
import type { Command, Option } from 'commander'
import { createEngine } from '../../create-engine.js'
import { CancelledError } from '../../errors.js'
import type { RunResult } from '../../task/context.js'
import type { ReservedOption } from '../field-argv.js'
import { EXIT, type CliIo } from '../io.js'
import { LiveOutput } from '../live-output.js'
import { intOption, readTaskInput } from '../task-input.js'

const RESERVED: readonly ReservedOption[] = [
  { name: 'tasks', kind: 'string' },
  { name: 'label', kind: 'string' },
  { name: 'timeout', kind: 'string' },
  { name: 'args', kind: 'string' },
  { name: 'quiet', kind: 'bool', short: 'q' },
  { name: 'help', kind: 'bool', short: 'h' },
]

export function runCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option): void {
  program
    .command('run')
    .description('run a task now, in this process: live logs and progress on stderr, the result as JSON on stdout')
    .argument('<task>', 'task key')
    .argument('[values...]', 'field values: --name value, --flag, --no-flag, or name=value')
    .addOption(tasksOption())
    .option('--label <label>', 'run label (default: the task\'s default label, else ad-hoc)')
    .option('--timeout <ms>', 'time limit in milliseconds')
    .option('--args <json>', 'field values as a JSON object (flags override it)')
    .option('-q, --quiet', 'no live output on stderr')
    .allowUnknownOption()
    .passThroughOptions()
    .addHelpText(
      'after',
      '\nField values follow the task key. `taskengine run <task> --help` lists its fields.\n' +
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
  live?.finish(result)
  io.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  if (result.status === 'succeeded') return EXIT.ok
  return interrupted ? EXIT.interrupted : EXIT.failed
}

/** How to draw live output on this stderr. */
export function liveOptions(io: CliIo): { tty: boolean; color: boolean; columns: number } {
  const tty = io.stderr.isTTY === true
  const color = tty && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb'
  return { tty, color, columns: io.stderr.columns ?? 80 }
}
