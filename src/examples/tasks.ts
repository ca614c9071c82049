/**
 * The built-in example tasks: what the CLI and server offer when no tasks module or config is
 * given, so the product can be tried at once. One quick, one long with progress, one that
 * fails, one that takes every field type, one that opens nested pools.
 */
import { defineTask } from '../task/define.js'
import { defineSchedule } from '../task/schedule.js'

/** Quick: greets someone. */
export const hello = defineTask({
  key: 'hello',
  title: 'Say Hello',
  category: 'examples',
  icon: 'hand',
  description: 'Greets someone. Finishes at once.',
  tags: ['example', 'quick'],
  fields: [
    { key: 'name', title: 'Name', type: 'string', default: 'world', description: 'Who to greet' },
    { key: 'shout', title: 'Shout', type: 'bool', description: 'Greet in capitals' },
  ],
  run(ctx) {
    const greeting = `Hello, ${ctx.args.name}!`
    ctx.log(`greeting ${ctx.args.name}`)
    return { greeting: ctx.args.shout ? greeting.toUpperCase() : greeting }
  },
})

/** Long: counts through steps, reporting progress and a log line per step; stops when cancelled. */
export const countdown = defineTask({
  key: 'countdown',
  title: 'Countdown',
  category: 'examples',
  icon: 'timer',
  description: 'Counts down through steps, reporting progress and logging each step. Cancel it to see it stop.',
  tags: ['example', 'progress'],
  fields: [
    { key: 'steps', title: 'Steps', type: 'int', default: 10, min: 1, max: 10_000, description: 'How many steps' },
    { key: 'delayMs', title: 'Delay per step (ms)', type: 'int', default: 500, min: 0, max: 60_000 },
  ],
  async run(ctx) {
    const { steps, delayMs } = ctx.args
    for (let step = 1; step <= steps; step++) {
      await sleep(delayMs, ctx.signal)
      ctx.log(`step ${step} of ${steps}`)
      ctx.progress({ step, steps, message: `${steps - step} to go` })
    }
    return { steps }
  },
})

/** Fails: throws, to show what a failure looks like. */
export const alwaysFails = defineTask({
  key: 'always-fails',
  title: 'Always Fails',
  category: 'examples',
  icon: 'alert',
  description: 'Logs a line, then throws an error. Shows how failures are reported.',
  tags: ['example'],
  dangerous: 'This task always fails (on purpose).',
  fields: [{ key: 'message', title: 'Error message', type: 'string', default: 'something went wrong' }],
  run(ctx) {
    ctx.log.warn('about to fail')
    throw new ExampleFailure(ctx.args.message)
  },
})

/** Every field type, echoed back. */
export const allFields = defineTask({
  key: 'all-fields',
  title: 'All Field Types',
  category: 'examples',
  icon: 'form',
  description: 'Takes one field of every type and returns the parsed values.',
  tags: ['example', 'fields'],
  fields: [
    { key: 'text', title: 'Text', type: 'string', required: true, description: 'Any text (required)' },
    { key: 'format', title: 'Format', type: 'string', choices: ['sql', 'tar', 'zip'], default: 'sql' },
    { key: 'count', title: 'Count', type: 'int', default: 3, min: 0, max: 100 },
    { key: 'ratio', title: 'Ratio', type: 'float', default: 0.5 },
    { key: 'enabled', title: 'Enabled', type: 'bool', default: true },
    { key: 'labels', title: 'Labels', type: 'string[]', description: 'Comma-separated' },
    { key: 'at', title: 'At', type: 'time', description: 'ISO 8601 time (UTC unless a zone is given)' },
  ],
  run(ctx) {
    ctx.log('received', JSON.stringify(ctx.args))
    return { ...ctx.args, at: ctx.args.at?.toISOString() }
  },
})

class ExampleFailure extends Error {
  readonly code = 'E_EXAMPLE'
  override readonly name = 'ExampleFailure'
}

/** Waits `ms`, or rejects with the signal's reason when it fires first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted()
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Nested pools: opens a pool of `width` runs, each of which opens its own pool one level down,
 * until the leaves count down. Shows the pool tree and its timeline on the run page, a partial
 * result growing while it runs, and a check of the arguments as a whole.
 */
export const fanOut = defineTask({
  key: 'fan-out',
  title: 'Fan Out',
  category: 'examples',
  icon: 'columns',
  description: 'Opens a pool of runs that open pools of their own, to watch the pool tree and its timeline fill in.',
  tags: ['example', 'pools'],
  fields: [
    { key: 'width', title: 'Width', type: 'int', default: 3, min: 1, max: 20, description: 'Runs in each pool' },
    { key: 'depth', title: 'Depth', type: 'int', default: 2, min: 1, max: 4, description: 'Levels of pools' },
  ],
  validate: ({ width, depth }) => (width ** depth > 200 ? { field: 'width', message: `width^depth is ${width ** depth} runs; at most 200` } : undefined),
  async run(ctx) {
    const { width, depth } = ctx.args
    const pool = ctx.pool({ label: `level ${depth}` })
    if (depth === 1) await pool.addMany(countdown, Array.from({ length: width }, (_, i) => ({ steps: 3 + i, delayMs: 300 })))
    else await pool.addMany(fanOut, Array.from({ length: width }, () => ({ width, depth: depth - 1 })))
    ctx.setResult({ opened: width })
    const status = await pool.wait()
    return { succeeded: status.succeeded, failed: status.failed }
  },
})

/** All example tasks. */
export const exampleTasks = [hello, countdown, alwaysFails, allFields, fanOut]

/** A schedule to see ticks happen: a short countdown every five minutes. */
export const exampleSchedules = [
  defineSchedule({
    id: 'countdown-every-5-minutes',
    name: 'Countdown every 5 minutes',
    description: 'A short countdown on the hour and every five minutes after, to watch schedules fire.',
    cron: '*/5 * * * *',
    task: countdown,
    args: { steps: 5, delayMs: 200 },
    overlap: false,
  }),
]
