/**
 * The words after a task key (`run`, `enqueue`): the command's options and the task's field
 * values, validated by the task's fields.
 */
import { ValidationError, coerceError, describeValue } from '../errors.js'
import type { AnyTask } from '../task/define.js'
import { taskInfo } from '../task/describe.js'
import { parseTaskArgs } from '../task/validate.js'
import { parseFieldArgv, type ReservedOption } from './field-argv.js'
import { EXIT, type CliIo } from './io.js'
import { loadTasks } from './load-tasks.js'

/** A task and its validated arguments, with the command's options. */
export interface TaskInput {
  readonly tasks: readonly AnyTask[]
  readonly task: AnyTask
  readonly args: Record<string, unknown>
  /** An option's value: after the task key, else before it (commander), else undefined. */
  readonly option: (name: string) => string | boolean | undefined
}

/**
 * Loads the tasks, finds `key`, and parses `words`. Prints what is wrong and returns an exit
 * code instead when the task is unknown, the input invalid, or `--help` was asked.
 */
export async function readTaskInput(
  command: string,
  key: string,
  words: readonly string[],
  initial: Readonly<Record<string, unknown>>,
  reserved: readonly ReservedOption[],
  io: CliIo,
): Promise<TaskInput | number> {
  const err = (text: string): void => void io.stderr.write(text)
  // --tasks may come before or after the task key; it has to be known before the task is.
  const early = parseFieldArgv(words, [], reserved.filter((o) => o.name === 'tasks'), { lenient: true })
  const module = (early.options.tasks as string | undefined) ?? (initial.tasks as string | undefined)
  const { tasks, source } = await loadTasks({ module, cwd: io.cwd })
  const task = tasks.find((t) => t.key === key)
  if (task === undefined) {
    const known = tasks.map((t) => t.key).sort()
    err(`taskengine: unknown task "${key}" (tasks from ${source}: ${known.join(', ') || 'none'})\n`)
    return EXIT.usage
  }
  const { options, fields } = parseFieldArgv(words, task.fields, reserved)
  if (options.help === true) {
    io.stdout.write(renderTaskHelp(command, task, reserved))
    return EXIT.ok
  }
  const option = (name: string): string | boolean | undefined => options[name] ?? (initial[camel(name)] as string | boolean | undefined)
  const input: Record<string, unknown> = { ...parseJsonArgs(option('args')), ...fields }
  try {
    return { tasks, task, args: parseTaskArgs(task, input), option }
  } catch (error) {
    if (error instanceof ValidationError) {
      // A field's problem names its flag; a problem of the arguments as a whole (key '') none.
      err(`taskengine: invalid arguments for task "${task.key}":\n${error.fields.map((f) => `  ${f.key === '' ? '' : '--'}${f.message}\n`).join('')}`)
      return EXIT.usage
    }
    throw error
  }
}

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

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

/**
 * An integer option value from `min` (default 1) to `max` (default: the largest safe integer),
 * or `undefined` when not given.
 */
export function intOption(value: string | boolean | undefined, what: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined
  const text = String(value)
  const n = Number(text)
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    const expected = max !== Number.MAX_SAFE_INTEGER || min === Number.MIN_SAFE_INTEGER ? `an integer from ${min} to ${max}` : min === 1 ? 'a positive integer' : `an integer >= ${min}`
    throw new ValidationError(`${what}: expected ${expected}, got ${describeValue(text)}`)
  }
  return n
}

/** A TCP port option value (0 picks a free port), or `undefined` when not given. */
export function portOption(value: string | boolean | undefined, what: string): number | undefined {
  if (value === undefined) return undefined
  const text = String(value)
  const n = Number(text)
  if (!/^\d+$/.test(text) || n > 65535) throw new ValidationError(`${what}: expected a port from 0 to 65535 (0 picks a free one), got ${describeValue(text)}`)
  return n
}

/** `taskengine run|enqueue <task> --help`: the task's description and fields. */
export function renderTaskHelp(command: string, task: AnyTask, reserved: readonly ReservedOption[]): string {
  const info = taskInfo(task)
  const lines = [`${info.key} — ${info.title} [${info.category}]`]
  if (info.description !== '') lines.push(info.description)
  if (info.dangerous !== null) lines.push(`Warning: ${info.dangerous}`)
  const options = reserved.filter((o) => o.name !== 'help').map((o) => (o.kind === 'bool' ? `[--${o.name}]` : `[--${o.name} …]`))
  lines.push('', `Usage: taskengine ${command} ${info.key} [--field value ...] ${options.join(' ')}`, '')
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
