/**
 * `taskengine enqueue <task>`: stores a durable run for a worker to execute.
 */
import type { Command, Option } from 'commander'
import { Engine } from '../../engine/engine.js'
import type { EnqueueOptions } from '../../engine/durable/enqueue.js'
import { ValidationError, describeValue } from '../../errors.js'
import { recordCli } from '../cli-actor.js'
import type { ReservedOption } from '../field-argv.js'
import { EXIT, cliUser, type CliIo } from '../io.js'
import { openStore } from '../store-option.js'
import { intOption, readTaskInput } from '../task-input.js'

const RESERVED: readonly ReservedOption[] = [
  { name: 'tasks', kind: 'string' },
  { name: 'store', kind: 'string' },
  { name: 'label', kind: 'string' },
  { name: 'queue', kind: 'string' },
  { name: 'priority', kind: 'string' },
  { name: 'delay', kind: 'string' },
  { name: 'run-at', kind: 'string' },
  { name: 'max-attempts', kind: 'string' },
  { name: 'timeout', kind: 'string' },
  { name: 'unique-key', kind: 'string' },
  { name: 'request-id', kind: 'string' },
  { name: 'group-key', kind: 'string' },
  { name: 'debounce', kind: 'string' },
  { name: 'throttle', kind: 'string' },
  { name: 'tags', kind: 'string' },
  { name: 'created-by', kind: 'string' },
  { name: 'args', kind: 'string' },
  { name: 'debug', kind: 'bool' },
  { name: 'help', kind: 'bool', short: 'h' },
]

export function enqueueCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option): void {
  program
    .command('enqueue')
    .description('store a durable run for a worker to execute; prints the stored run as JSON')
    .argument('<task>', 'task key')
    .argument('[values...]', 'field values: --name value, --flag, --no-flag, or name=value')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--label <label>', 'run label')
    .option('--queue <queue>', 'queue (default: the task\'s, else "default")')
    .option('--priority <n>', 'higher runs first')
    .option('--delay <ms>', 'start no sooner than this many ms from now')
    .option('--run-at <time>', 'start no sooner than this ISO time')
    .option('--max-attempts <n>', 'attempts allowed')
    .option('--timeout <ms>', 'time limit of each attempt')
    .option('--unique-key <key>', 'while a run with this key is active, return it instead')
    .option('--request-id <id>', 'your id of this request: enqueueing it again returns the run it made, whatever its state')
    .option('--group-key <key>', "the run's group under the task's limits.groupConcurrency (default: limits.groupBy(args))")
    .option('--debounce <key:ms>', 'while a run with this key is pending, give it these values and start it ms from now instead')
    .option('--throttle <key:ms>', 'within ms of the run that took this key, return that run instead')
    .option('--tags <list>', 'comma-separated tags')
    .option('--created-by <user>', 'who asks for the run (default: $USER, else the login name, else "local")')
    .option('--args <json>', 'field values as a JSON object (flags override it)')
    .allowUnknownOption()
    .passThroughOptions()
    .addHelpText('after', '\nExamples:\n  taskengine enqueue countdown --steps 20 --queue default --max-attempts 5\n  taskengine enqueue countdown --steps 3 --debounce shop:5000')
    .action(async (key: string, words: string[], initial: Record<string, unknown>) => {
      setExit(await enqueue(key, words, initial, io))
    })
}

async function enqueue(key: string, words: readonly string[], initial: Readonly<Record<string, unknown>>, io: CliIo): Promise<number> {
  const input = await readTaskInput('enqueue', key, words, initial, RESERVED, io)
  if (typeof input === 'number') return input
  const { task, args, option } = input
  const text = (name: string): string | undefined => {
    const value = option(name)
    return value === undefined ? undefined : String(value)
  }
  const runAtText = text('run-at')
  let runAt: Date | undefined
  if (runAtText !== undefined) {
    runAt = new Date(runAtText)
    if (Number.isNaN(runAt.getTime())) throw new ValidationError(`--run-at: expected an ISO 8601 time, got ${describeValue(runAtText)}`)
  }
  const options = definedOnly<EnqueueOptions>({
    label: text('label'),
    queue: text('queue'),
    priority: intOption(option('priority'), '--priority', Number.MIN_SAFE_INTEGER),
    delayMs: intOption(option('delay'), '--delay', 0),
    runAt,
    maxAttempts: intOption(option('max-attempts'), '--max-attempts'),
    timeoutMs: intOption(option('timeout'), '--timeout'),
    uniqueKey: text('unique-key'),
    requestId: text('request-id'),
    groupKey: text('group-key'),
    debounce: keyWindow(text('debounce'), '--debounce'),
    throttle: keyWindow(text('throttle'), '--throttle'),
    createdBy: text('created-by') ?? cliUser(io),
    tags: text('tags')
      ?.split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  })
  const engine = new Engine({ tasks: [task], store: await openStore(text('store'), io.cwd) })
  try {
    const run = await engine.enqueue(task, args, options)
    await recordCli(engine, io, { action: 'run.enqueue', target: run.id, details: { task: run.task, args: run.args, options } })
    io.stdout.write(`${JSON.stringify(run, null, 2)}\n`)
    return EXIT.ok
  } finally {
    await engine.close()
  }
}

/**
 * `KEY:MS` (the last colon splits, so keys may hold colons) as `{ key, ms }`; the engine checks
 * the values themselves.
 */
function keyWindow(value: string | undefined, flag: string): { key: string; ms: number } | undefined {
  if (value === undefined) return undefined
  const colon = value.lastIndexOf(':')
  const ms = colon < 1 ? Number.NaN : Number(value.slice(colon + 1))
  if (!Number.isSafeInteger(ms) || value.slice(colon + 1).trim() === '') throw new ValidationError(`${flag}: expected KEY:MS (a key, a colon, whole milliseconds; e.g. shop:5000), got ${describeValue(value)}`)
  return { key: value.slice(0, colon), ms }
}

/** The object without its undefined properties (for options with exact optional types). */
function definedOnly<T extends object>(values: { [K in keyof T]?: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as T
}
