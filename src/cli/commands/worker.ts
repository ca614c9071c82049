/**
 * `taskengine worker`: a worker process. Claims and executes durable runs until SIGINT/SIGTERM
 * or an operator's stop (`taskengine workers stop <id>`, the API, the admin UI), then stops
 * gracefully: running handlers get the grace period, the rest go back to pending; exits 0.
 */
import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { Engine } from '../../engine/engine.js'
import { DEFAULT_CONCURRENCY, DEFAULT_GRACE_MS, DEFAULT_LEASE_MS, DEFAULT_POLL_INTERVAL_MS } from '../../engine/options.js'
import { filesLogBackend } from '../../engine/settings/log-backends.js'
import type { QueueSelection } from '../../engine/durable/worker.js'
import { ValidationError, describeValue } from '../../errors.js'
import type { RunningMetrics } from '../../server/serve.js'
import { serveMetricsPort } from '../metrics-port.js'
import { EXIT, interrupted, type CliIo } from '../io.js'
import { formatDuration } from '../live-output.js'
import { loadTasks } from '../load-tasks.js'
import { stopRequest } from '../stop-request.js'
import { DEFAULT_LOG_DIR, describeStore, openStore } from '../store-option.js'
import { intOption, portOption } from '../task-input.js'

interface WorkerFlags {
  tasks?: string
  store?: string
  logDir?: string
  concurrency?: string
  queues?: string
  grace?: string
  leaseMs?: string
  pollMs?: string
  metricsPort?: string
  quiet?: boolean
}

export function workerCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option, env: (option: Option, name: string) => Option): void {
  program
    .command('worker')
    .description('run a worker: claim and execute durable runs until stopped (SIGINT/SIGTERM or taskengine workers stop <id> stop it gracefully)')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--log-dir <dir>', 'directory of the "files" log backend (chosen with the logBackend setting)', DEFAULT_LOG_DIR)
    .option('-c, --concurrency <n>', 'runs executing at once', String(DEFAULT_CONCURRENCY))
    .option('--queues <list>', 'serve only these queues, optionally with limits: "default,mail=2"')
    .option('--grace <ms>', 'on stop, how long running handlers may take before they are aborted', String(DEFAULT_GRACE_MS))
    .option('--lease-ms <ms>', 'lease of a claimed run without heartbeat', String(DEFAULT_LEASE_MS))
    .option('--poll-ms <ms>', 'how often an idle worker looks for runs', String(DEFAULT_POLL_INTERVAL_MS))
    .addOption(env(new Option('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on 127.0.0.1:<port> (0 picks a free port)'), 'TASKENGINE_METRICS_PORT'))
    .option('-q, --quiet', 'no line per finished run')
    .action(async (flags: WorkerFlags) => {
      setExit(await worker(flags, io))
    })
}

async function worker(flags: WorkerFlags, io: CliIo): Promise<number> {
  const err = (text: string): void => void io.stderr.write(text)
  const { tasks, schedules, queues: queueLimits, users, unservedAfterMs, source } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
  const concurrency = intOption(flags.concurrency, '--concurrency') ?? DEFAULT_CONCURRENCY
  const graceMs = intOption(flags.grace, '--grace', 0) ?? DEFAULT_GRACE_MS
  const leaseMs = intOption(flags.leaseMs, '--lease-ms') ?? DEFAULT_LEASE_MS
  const pollIntervalMs = intOption(flags.pollMs, '--poll-ms') ?? DEFAULT_POLL_INTERVAL_MS
  const queues = parseQueues(flags.queues)
  const metricsPort = portOption(flags.metricsPort, '--metrics-port')
  const engine = new Engine({ tasks: [...tasks], schedules: [...schedules], ...(queueLimits === undefined ? {} : { queues: queueLimits }), ...(users === undefined ? {} : { users }), ...(unservedAfterMs === undefined ? {} : { unservedAfterMs }), logBackends: [filesLogBackend({ dir: resolve(io.cwd, flags.logDir ?? DEFAULT_LOG_DIR) })], store: await openStore(flags.store, io.cwd), leaseMs, pollIntervalMs, onError: (e) => err(`taskengine: ${e.message}\n`) })
  if (flags.quiet !== true) {
    engine.subscribe((event) => {
      if (event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled' || event.type === 'retrying') {
        const took = event.type !== 'retrying' && event.durationMs !== undefined ? ` in ${formatDuration(event.durationMs)}` : ''
        const why = event.error === null || event.error === undefined ? '' : `: ${event.error.message}`
        err(`${event.time.toISOString()} ${event.type.padEnd(9)} ${event.task} ${event.runId}${took}${why}\n`)
      }
    })
  }
  let metrics: RunningMetrics | undefined
  // Before the worker starts, so that every run it executes is counted.
  if (metricsPort !== undefined) metrics = await serveMetricsPort(engine, metricsPort, err, { env: 'TASKENGINE_METRICS_PORT' })
  const stopSignal = interrupted(io)
  // The engine's timers do not hold the process open (a library must not); a worker process must.
  const keepAlive = setInterval(() => undefined, 1 << 30)
  const request = stopRequest()
  await engine.start({ concurrency, ...(queues === undefined ? {} : { queues }), onStopRequested: request.onStopRequested })
  err(
    `taskengine worker ${engine.workerId ?? ''} started: store ${describeStore(flags.store, io.cwd)}, ` +
      `concurrency ${concurrency}, tasks from ${source} (${tasks.map((t) => t.key).join(', ')})` +
      `${queues === undefined ? '' : `, queues ${flags.queues ?? ''}`}` +
      `${metrics === undefined ? '' : `; metrics ${metrics.url}/metrics`}\n`,
  )
  const signal = await Promise.race([stopSignal, request.requested])
  err(`taskengine worker: ${signal}: stopping (grace ${graceMs} ms; again to force quit)\n`)
  await engine.close({ graceMs })
  await metrics?.close()
  clearInterval(keepAlive)
  err('taskengine worker: stopped\n')
  return EXIT.ok
}

/** `"default,mail=2"` → `{ default: 0, mail: 2 }`; a plain list → the names. */
export function parseQueues(text: string | undefined): QueueSelection | undefined {
  if (text === undefined || text.trim() === '') return undefined
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '')
  if (!parts.some((p) => p.includes('='))) return parts
  const limits: Record<string, number> = {}
  for (const part of parts) {
    const [name, limit] = part.split('=') as [string, string | undefined]
    const n = limit === undefined ? 0 : Number(limit)
    if (!Number.isSafeInteger(n) || n < 0) throw new ValidationError(`--queues: expected name or name=limit, got ${describeValue(part)}`)
    limits[name] = n
  }
  return limits
}
