/**
 * The `taskengine` command line: the command tree, wired to the engine. `runCli` takes its
 * streams and environment as arguments, so tests can drive it in-process as well as through
 * the real binary.
 */
import { Command, CommanderError, Option } from 'commander'
import { createRequire } from 'node:module'
import { createEngine } from '../create-engine.js'
import { CancelledError, TaskEngineError, ValidationError, coerceError, describeValue } from '../errors.js'
import type { RunResult } from '../task/context.js'
import type { AnyTask } from '../task/define.js'
import { taskInfo } from '../task/describe.js'
import { parseArgs } from '../task/fields.js'
import { parseFieldArgv, type ReservedOption } from './field-argv.js'
import { LiveOutput } from './live-output.js'
import { loadTasks } from './load-tasks.js'

/** What the CLI talks to. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Subscribes to interrupt requests (SIGINT/SIGTERM); returns the unsubscribe function. */
  readonly onInterrupt?: (handler: (signal: string) => void) => () => void
}

/** Exit codes. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

const RUN_OPTIONS: readonly ReservedOption[] = [
  { name: 'tasks', kind: 'string' },
  { name: 'label', kind: 'string' },
  { name: 'timeout', kind: 'string' },
  { name: 'args', kind: 'string' },
  { name: 'quiet', kind: 'bool', short: 'q' },
  { name: 'help', kind: 'bool', short: 'h' },
]

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const out = (text: string): void => void io.stdout.write(text)
  const err = (text: string): void => void io.stderr.write(text)
  let exitCode: number = EXIT.ok
  const program = new Command('taskengine')
    .description('Run and steer tasks: typed, observable, durable.')
    .version(version, '-v, --version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .showHelpAfterError('(run with --help for usage)')

  const tasksOption = (): Option =>
    new Option('--tasks <module>', 'module exporting tasks (default: taskengine.config.{ts,js} here, else the examples)').env('TASKENGINE_TASKS')

  program
    .command('tasks')
    .description('list the registered tasks')
    .addOption(tasksOption())
    .option('--json', 'print the tasks with their fields as JSON')
    .action(async (options: { tasks?: string; json?: boolean }) => {
      const { tasks } = await loadTasks({ module: options.tasks, cwd: io.cwd })
      const engine = createEngine({ tasks: [...tasks] })
      if (options.json === true) out(`${JSON.stringify(engine.list().map(taskInfo), null, 2)}\n`)
      else out(renderTaskTable(engine.list()))
    })

  program
    .command('run')
    .description('run a task now, in this process: live logs and progress on stderr, the result as JSON on stdout')
    .argument('<task>', 'task key')
    .argument('[values...]', 'field values: --name value, --flag, --no-flag, or name=value')
    .addOption(tasksOption())
    .option('--label <label>', 'run label', 'ad-hoc')
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
    .action(async (key: string, words: string[], initial: Record<string, string | boolean | undefined>) => {
      exitCode = await runCommand(key, words, initial, io)
    })

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a usage error has been printed already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    return reportError(error, err)
  }
  return exitCode
}

async function runCommand(key: string, words: readonly string[], initial: Readonly<Record<string, string | boolean | undefined>>, io: CliIo): Promise<number> {
  const err = (text: string): void => void io.stderr.write(text)
  try {
    // --tasks may come before or after the task key; it has to be known before the task is.
    const early = parseFieldArgv(words, [], RUN_OPTIONS.filter((o) => o.name === 'tasks' || o.name === 'help' || o.name === 'quiet'), { lenient: true })
    const module = (early.options.tasks as string | undefined) ?? (initial.tasks as string | undefined)
    const { tasks, source } = await loadTasks({ module, cwd: io.cwd })
    const engine = createEngine({ tasks: [...tasks] })
    const task = engine.get(key)
    if (task === undefined) {
      const known = engine.list().map((t) => t.key)
      err(`taskengine: unknown task "${key}" (tasks from ${source}: ${known.join(', ') || 'none'})\n`)
      return EXIT.usage
    }
    const { options, fields } = parseFieldArgv(words, task.fields, RUN_OPTIONS)
    if (options.help === true) {
      io.stdout.write(renderTaskHelp(task))
      return EXIT.ok
    }
    const option = (name: string): string | boolean | undefined => options[name] ?? initial[name]
    const input: Record<string, unknown> = { ...parseJsonArgs(option('args')), ...fields }
    let args: Record<string, unknown>
    try {
      args = parseArgs(task.fields, input)
    } catch (error) {
      if (error instanceof ValidationError) {
        err(`taskengine: invalid arguments for task "${task.key}":\n${error.fields.map((f) => `  --${f.message}\n`).join('')}`)
        return EXIT.usage
      }
      throw error
    }
    const timeout = option('timeout')
    const timeoutMs = timeout === undefined ? undefined : parsePositiveInt(String(timeout), '--timeout')
    const label = String(option('label') ?? 'ad-hoc')
    const quiet = option('quiet') === true

    const controller = new AbortController()
    let interrupted = false
    const stopListening = io.onInterrupt?.((signal) => {
      interrupted = true
      err(`\ntaskengine: ${signal}: cancelling "${task.key}" (again to force quit)\n`)
      controller.abort(new CancelledError(`interrupted (${signal})`))
    })
    const live = quiet ? undefined : new LiveOutput(err, liveOptions(io))
    let result: RunResult
    try {
      result = await engine.run(task, args, {
        label,
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
  } catch (error) {
    return reportError(error, err)
  }
}

function liveOptions(io: CliIo) {
  const tty = io.stderr.isTTY === true
  const color = tty && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb'
  return { tty, color, columns: io.stderr.columns ?? 80 }
}

function parseJsonArgs(value: string | boolean | undefined): Record<string, unknown> {
  if (value === undefined) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(String(value))
  } catch (error) {
    throw new ValidationError(`--args: not valid JSON (${coerceError(error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError(`--args: expected a JSON object, got ${describeValue(parsed)}`)
  }
  return parsed as Record<string, unknown>
}

function parsePositiveInt(text: string, what: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) throw new ValidationError(`${what}: expected a positive integer, got ${describeValue(text)}`)
  return n
}

/** Prints an error the way the CLI reports them and picks the exit code. */
function reportError(error: unknown, err: (text: string) => void): number {
  const e = coerceError(error)
  if (e instanceof TaskEngineError) {
    err(`taskengine: ${e.message}\n`)
    return e instanceof ValidationError || e.code === 'ERR_NOT_FOUND' || e.code === 'ERR_TASK_DEFINITION' ? EXIT.usage : EXIT.failed
  }
  err(`taskengine: unexpected error: ${e.stack ?? e.message}\n`)
  return EXIT.failed
}

/** The task list as an aligned table. */
export function renderTaskTable(tasks: readonly AnyTask[]): string {
  if (tasks.length === 0) return 'no tasks registered\n'
  const rows = tasks.map((t) => [
    t.key,
    t.title,
    t.category,
    t.fields.map((f) => `${f.key}${f.required === true ? '*' : ''}:${f.type}`).join(' ') || '-',
    [t.dangerous === undefined ? '' : 'dangerous', t.expensive ? 'expensive' : ''].filter(Boolean).join(',') || '',
  ])
  const header = ['KEY', 'TITLE', 'CATEGORY', 'FIELDS (* required)', 'FLAGS']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return `${[line(header), ...rows.map(line)].join('\n')}\n`
}

/** `taskengine run <task> --help`: the task's description and fields. */
export function renderTaskHelp(task: AnyTask): string {
  const info = taskInfo(task)
  const lines = [`${info.key} — ${info.title} [${info.category}]`]
  if (info.description !== '') lines.push(info.description)
  if (info.dangerous !== null) lines.push(`Warning: ${info.dangerous}`)
  lines.push('', `Usage: taskengine run ${info.key} [--field value ...] [--label L] [--timeout MS] [--args JSON] [--quiet]`, '')
  if (info.fields.length === 0) lines.push('This task takes no fields.')
  else {
    lines.push('Fields:')
    const flags = info.fields.map((f) => (f.type === 'bool' ? `--${f.key}, --no-${f.key}` : `--${f.key} <${f.type}>`))
    const width = Math.max(...flags.map((f) => f.length))
    info.fields.forEach((f, i) => {
      const notes = [f.title]
      if (f.required) notes.push('required')
      if (f.choices !== undefined) notes.push(`one of ${f.choices.join(', ')}`)
      if (f.min !== undefined || f.max !== undefined) notes.push(`range ${f.min ?? '…'}..${f.max ?? '…'}`)
      if (f.default !== undefined) notes.push(`default ${Array.isArray(f.default) ? f.default.join(',') : String(f.default)}`)
      if (f.description !== '') notes.push(f.description)
      lines.push(`  ${flags[i]!.padEnd(width)}  ${notes.join('; ')}`)
    })
  }
  return `${lines.join('\n')}\n`
}
