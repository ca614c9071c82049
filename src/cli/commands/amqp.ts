/**
 * `taskengine amqp`: the AMQP bridge as a process. Consumes task requests from a queue into
 * durable runs and publishes run events to a topic exchange (see `taskengine/amqp`), until
 * SIGINT/SIGTERM; then stops consuming, lets the requests in hand finish, closes the engine (with
 * `--worker`, runs get their grace period and their final events), flushes events and exits 0. With `--worker` it executes runs too (one process for a SQLite store: events of runs
 * executed by other processes reach it only through a store that relays them, PostgreSQL).
 */
import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import type { registerAmqpMetrics as RegisterAmqpMetrics, startAmqpBridge as StartAmqpBridge } from '../../amqp/index.js'
import type { AmqpBridgeOptions } from '../../amqp/options.js'
import { Engine } from '../../engine/engine.js'
import { DEFAULT_CONCURRENCY, DEFAULT_GRACE_MS } from '../../engine/options.js'
import { filesLogBackend } from '../../engine/settings/log-backends.js'
import { ValidationError } from '../../errors.js'
import type { RunningMetrics } from '../../server/serve.js'
import { serveMetricsPort } from '../metrics-port.js'
import { EXIT, interrupted, type CliIo } from '../io.js'
import { loadTasks } from '../load-tasks.js'
import { DEFAULT_LOG_DIR, describeStore, openStore } from '../store-option.js'
import { intOption, portOption } from '../task-input.js'

interface AmqpFlags {
  tasks?: string
  store?: string
  url?: string
  queue: string
  exchange: string
  deadLetterExchange?: string
  deadLetterQueue?: string
  prefetch?: string
  bufferLimit?: string
  events?: string | boolean
  worker?: boolean
  concurrency?: string
  logDir?: string
  grace?: string
  metricsPort?: string
}

export function amqpCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option, env: (option: Option, name: string) => Option): void {
  program
    .command('amqp')
    .description('run the AMQP bridge: task requests from a queue become runs; run events go to a topic exchange (until SIGINT/SIGTERM)')
    .addOption(tasksOption())
    .addOption(storeOption())
    .addOption(env(new Option('--url <url>', 'the broker, e.g. amqp://guest:guest@127.0.0.1:5672'), 'TASKENGINE_AMQP_URL'))
    .option('--queue <name>', 'queue of task requests', 'tasks')
    .option('--exchange <name>', 'topic exchange of run events (routing key runs.<task>.<event>.<runId>)', 'taskengine.events')
    .option('--dead-letter-exchange <name>', 'where rejected requests go (default: <queue>.dlx)')
    .option('--dead-letter-queue <name>', 'the queue bound to it (default: <queue>.dead)')
    .option('--prefetch <n>', 'requests handled at once', '256')
    .option('--buffer-limit <n>', 'run events kept while the broker is away (then the oldest are dropped)', '10000')
    .addOption(new Option('--events <which>', 'run events to publish: local (of this process: its enqueues, and its runs with --worker), all (also those of other processes, relayed by a PostgreSQL store: for one bridge without --worker), none').choices(['local', 'all', 'none']).default('local'))
    .option('--no-events', 'the same as --events none: take requests in only')
    .option('--worker', 'also execute runs in this process (a worker)')
    .option('-c, --concurrency <n>', 'with --worker: runs executing at once', String(DEFAULT_CONCURRENCY))
    .option('--log-dir <dir>', 'with --worker: directory of the "files" log backend', DEFAULT_LOG_DIR)
    .option('--grace <ms>', 'with --worker: on stop, how long running handlers may take', String(DEFAULT_GRACE_MS))
    .option('--metrics-port <port>', 'serve /metrics (with the bridge\'s taskengine_amqp_* counters), /healthz and /readyz on 127.0.0.1:<port>')
    .action(async (flags: AmqpFlags) => {
      setExit(await bridge(flags, io))
    })
}

async function bridge(flags: AmqpFlags, io: CliIo): Promise<number> {
  const err = (text: string): void => void io.stderr.write(text)
  if (flags.url === undefined || flags.url === '') throw new ValidationError('--url: the broker is required (or TASKENGINE_AMQP_URL), e.g. amqp://guest:guest@127.0.0.1:5672')
  const prefetch = intOption(flags.prefetch, '--prefetch')
  const bufferLimit = intOption(flags.bufferLimit, '--buffer-limit')
  const concurrency = intOption(flags.concurrency, '--concurrency') ?? DEFAULT_CONCURRENCY
  const graceMs = intOption(flags.grace, '--grace', 0) ?? DEFAULT_GRACE_MS
  const metricsPort = portOption(flags.metricsPort, '--metrics-port')
  const events = flags.events === false || flags.events === 'none' ? false : flags.events === 'all' ? 'all' : 'local'
  // amqplib is an optional peer dependency: loaded only by this command.
  let startAmqpBridge: typeof StartAmqpBridge
  let registerAmqpMetrics: typeof RegisterAmqpMetrics
  try {
    ;({ startAmqpBridge, registerAmqpMetrics } = await import('../../amqp/index.js'))
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('amqplib')) {
      throw new ValidationError('taskengine amqp needs the amqplib package: npm install amqplib', [], { cause: error })
    }
    throw error
  }
  const { tasks, schedules, queues: queueLimits, users, source } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
  const engine = new Engine({
    tasks: [...tasks],
    ...(flags.worker === true ? { schedules: [...schedules] } : {}),
    ...(queueLimits === undefined ? {} : { queues: queueLimits }),
    ...(users === undefined ? {} : { users }),
    logBackends: [filesLogBackend({ dir: resolve(io.cwd, flags.logDir ?? DEFAULT_LOG_DIR) })],
    store: await openStore(flags.store, io.cwd),
    onError: (e) => err(`taskengine: ${e.message}\n`),
  })
  const options: AmqpBridgeOptions = {
    url: flags.url,
    queue: flags.queue,
    exchange: flags.exchange,
    ...(flags.deadLetterExchange === undefined ? {} : { deadLetterExchange: flags.deadLetterExchange }),
    ...(flags.deadLetterQueue === undefined ? {} : { deadLetterQueue: flags.deadLetterQueue }),
    ...(prefetch === undefined ? {} : { prefetch }),
    ...(bufferLimit === undefined ? {} : { bufferLimit }),
    events,
    onLog: (message) => err(`${new Date().toISOString()} taskengine amqp: ${message}\n`),
  }
  const stopSignal = interrupted(io)
  // The engine's timers do not hold the process open (a library must not); this process must.
  const keepAlive = setInterval(() => undefined, 1 << 30)
  await engine.store()
  let metrics: RunningMetrics | undefined
  if (metricsPort !== undefined) {
    // Before the worker starts, so that every run it executes is counted.
    metrics = await serveMetricsPort(engine, metricsPort, err, { cleanUp: () => clearInterval(keepAlive) })
  }
  const running = startAmqpBridge(engine, options)
  if (metrics !== undefined) registerAmqpMetrics(metrics.metrics.registry, running)
  if (flags.worker === true) await engine.start({ concurrency })
  err(
    `taskengine amqp started: queue ${flags.queue}${events === false ? '' : `, ${events} events to ${flags.exchange}`}, store ${describeStore(flags.store, io.cwd)}, ` +
      `tasks from ${source} (${tasks.map((t) => t.key).join(', ')})${flags.worker === true ? `, worker concurrency ${concurrency}` : ''}${metrics === undefined ? '' : `; metrics ${metrics.url}/metrics`}\n`,
  )
  const signal = await stopSignal
  err(`taskengine amqp: ${signal}: stopping\n`)
  // Requests first; then the engine, whose runs finishing in their grace period still publish
  // their final events; then those events are flushed and the connection closed.
  await running.stopIngress()
  await engine.close({ graceMs })
  await running.close()
  await metrics?.close()
  clearInterval(keepAlive)
  const s = running.stats()
  err(`taskengine amqp: stopped (${s.enqueued} requests enqueued, ${s.deadLettered} dead-lettered, ${s.eventsPublished} events published, ${s.eventsDropped} dropped)\n`)
  return EXIT.ok
}
